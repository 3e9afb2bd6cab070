/// A 48-bit Ethernet address kept in the low bits of a UInt64 (first octet most significant),
/// so that (bridge domain, MAC) packs into one 64-bit FDB key.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: UInt64

    @inlinable public init(raw: UInt64) { self.raw = raw & 0xFFFF_FFFF_FFFF }

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        self.raw = [b0, b1, b2, b3, b4, b5].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Parses "aa:bb:cc:dd:ee:ff" (also with '-').
    public init?(_ text: String) {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var raw: UInt64 = 0
        for p in parts {
            guard p.count <= 2, let b = UInt8(p, radix: 16) else { return nil }
            raw = raw << 8 | UInt64(b)
        }
        self.raw = raw
    }

    /// Reads six bytes at `p` (network order).
    @inlinable public init(loadingFrom p: UnsafeRawPointer) {
        let hi = UInt16(bigEndian: p.loadUnaligned(as: UInt16.self))
        let lo = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        self.raw = UInt64(hi) << 32 | UInt64(lo)
    }

    /// Writes six bytes at `p` (network order).
    @inlinable public func store(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: UInt16(truncatingIfNeeded: raw >> 32).bigEndian, as: UInt16.self)
        p.storeBytes(of: UInt32(truncatingIfNeeded: raw).bigEndian, toByteOffset: 2, as: UInt32.self)
    }

    public static let broadcast = MACAddress(raw: 0xFFFF_FFFF_FFFF)
    public static let zero = MACAddress(raw: 0)

    /// Group bit set: broadcast and multicast destinations are flooded, never learned.
    @inlinable public var isMulticast: Bool { (raw >> 40) & 1 == 1 }
    @inlinable public var isBroadcast: Bool { raw == 0xFFFF_FFFF_FFFF }
    @inlinable public var isZero: Bool { raw == 0 }
    /// 01:80:C2:00:00:00 to 0F, the IEEE 802.1Q reserved addresses (STP, PAUSE, LACP, LLDP,
    /// 802.1X...) that a bridge consumes or discards and never relays.
    @inlinable public var isLinkLocalGroup: Bool { raw & ~0xF == 0x0180_C200_0000 }

    public var bytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: raw >> (40 - 8 * $0)) } }

    /// `02:00:5e:00:00:01`, written straight into the string's storage (a `show mac` of a
    /// million rows formats a million of them).
    public var description: String {
        String(unsafeUninitializedCapacity: 17) { out in
            let hex: StaticString = "0123456789abcdef"
            let digits = hex.utf8Start
            for i in 0..<6 {
                let b = Int(truncatingIfNeeded: raw >> UInt64(8 * (5 - i))) & 0xFF
                out[3 * i] = digits[b >> 4]
                out[3 * i + 1] = digits[b & 0xF]
                if i < 5 { out[3 * i + 2] = UInt8(ascii: ":") }
            }
            return 17
        }
    }

    public static func < (a: MACAddress, b: MACAddress) -> Bool { a.raw < b.raw }

    /// The hash a Set or Dictionary buckets by, as one word through the standard library's
    /// one-shot SipHash (what `Int` does), not `Hasher`'s streaming path (an out-of-line
    /// `Hasher(_seed:)` and `_finalize()` per lookup, 17% of the EVPN loop's perf samples
    /// during a 100k-route feed). The same for VNI, IPAddress and the EVPN RIB's keys.
    @inlinable public func _rawHashValue(seed: Int) -> Int { raw._rawHashValue(seed: seed) }
}

/// A VXLAN network identifier (24 bits).
public struct VNI: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: UInt32
    public static let max: UInt32 = 0xFF_FFFF

    @inlinable public init?(_ value: UInt32) {
        guard value <= VNI.max else { return nil }
        self.value = value
    }
    @inlinable public init(unchecked value: UInt32) { self.value = value & VNI.max }

    public var description: String { String(value) }
    public static func < (a: VNI, b: VNI) -> Bool { a.value < b.value }
    /// One word (see `MACAddress._rawHashValue`).
    @inlinable public func _rawHashValue(seed: Int) -> Int { value._rawHashValue(seed: seed) }
}

/// An underlay (VTEP) address: IPv4 or IPv6, stored as 16 bytes in network order
/// (IPv4 as the v4-mapped form ::ffff:a.b.c.d) so both families share one table.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var hi: UInt64 // bytes 0..7, big-endian value
    public var lo: UInt64 // bytes 8..15, big-endian value

    @inlinable public init(hi: UInt64, lo: UInt64) { self.hi = hi; self.lo = lo }

    /// Two one-shot hashes, the second seeded by the first (see `MACAddress._rawHashValue`).
    @inlinable public func _rawHashValue(seed: Int) -> Int { lo._rawHashValue(seed: hi._rawHashValue(seed: seed)) }

    /// IPv4 from its 32-bit value in host order (e.g. 0xC612_0001 for 198.18.0.1).
    @inlinable public init(v4 value: UInt32) { self.hi = 0; self.lo = 0xFFFF_0000_0000 | UInt64(value) }

    @inlinable public var isIPv4: Bool { hi == 0 && lo >> 32 == 0xFFFF }
    /// The IPv4 value in host order; meaningful only when `isIPv4`.
    @inlinable public var v4: UInt32 { UInt32(truncatingIfNeeded: lo) }

    /// Reads 4 bytes (IPv4) at `p`.
    @inlinable public init(loadingV4From p: UnsafeRawPointer) {
        self.init(v4: UInt32(bigEndian: p.loadUnaligned(as: UInt32.self)))
    }
    /// Reads 16 bytes (IPv6) at `p`.
    @inlinable public init(loadingV6From p: UnsafeRawPointer) {
        self.hi = UInt64(bigEndian: p.loadUnaligned(as: UInt64.self))
        self.lo = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }
    @inlinable public func storeV4(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: v4.bigEndian, as: UInt32.self)
    }
    @inlinable public func storeV6(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: hi.bigEndian, as: UInt64.self)
        p.storeBytes(of: lo.bigEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// The 16 (IPv6) or 4 (IPv4) address bytes in network order.
    public var bytes: [UInt8] {
        let all = (0..<16).map { i -> UInt8 in
            let word = i < 8 ? hi : lo
            return UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(i % 8)))
        }
        return isIPv4 ? Array(all[12...]) : all
    }

    /// Parses dotted IPv4 or RFC 4291 IPv6 text (with "::").
    public init?(_ text: String) {
        if text.contains(":") {
            guard let words = IPAddress.parseV6(text) else { return nil }
            var hi: UInt64 = 0, lo: UInt64 = 0
            for (i, w) in words.enumerated() {
                if i < 4 { hi = hi << 16 | UInt64(w) } else { lo = lo << 16 | UInt64(w) }
            }
            self.init(hi: hi, lo: lo)
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var v: UInt32 = 0
            for p in parts {
                guard !p.isEmpty, p.count <= 3, let b = UInt8(p) else { return nil }
                v = v << 8 | UInt32(b)
            }
            self.init(v4: v)
        }
    }

    private static func parseV6(_ text: String) -> [UInt16]? {
        // Split on "::" without Foundation: VXCore stays dependency-free.
        var halves: [String] = []
        var rest = Substring(text)
        while let r = rest.firstRange(of: "::") {
            halves.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        halves.append(String(rest))
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let w = UInt16(g, radix: 16) else { return nil }
                out.append(w)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 8 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        let b = bytes
        let words = (0..<8).map { UInt16(b[2 * $0]) << 8 | UInt16(b[2 * $0 + 1]) }
        // Longest run of zero words (length >= 2) becomes "::" (RFC 5952).
        var best = (start: -1, len: 0), i = 0
        while i < 8 {
            if words[i] == 0 {
                var j = i
                while j < 8 && words[j] == 0 { j += 1 }
                if j - i > best.len && j - i >= 2 { best = (i, j - i) }
                i = j
            } else { i += 1 }
        }
        let hex = words.map { String($0, radix: 16) }
        if best.start < 0 { return hex.joined(separator: ":") }
        let head = hex[..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.len)...].joined(separator: ":")
        return head + "::" + tail
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool { (a.hi, a.lo) < (b.hi, b.lo) }
}
