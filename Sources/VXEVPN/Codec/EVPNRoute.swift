import VXCore

/// Route Distinguisher (RFC 4364 §4.2): 2-byte type + 6-byte value, kept as one UInt64.
public struct RouteDistinguisher: Hashable, Comparable, Sendable, TextCodable {
    public var raw: UInt64
    public init(raw: UInt64) { self.raw = raw }
    /// One word, one-shot (see `MACAddress._rawHashValue`).
    public func _rawHashValue(seed: Int) -> Int { raw._rawHashValue(seed: seed) }

    /// Type 0: 2-octet AS : 4-octet number.
    public static func as2(_ asn: UInt16, _ n: UInt32) -> Self { .init(raw: UInt64(asn) << 32 | UInt64(n)) }
    /// Type 1: IPv4 address : 2-octet number (FRR's auto RD, router-id:n).
    public static func ipv4(_ ip: UInt32, _ n: UInt16) -> Self { .init(raw: 1 << 48 | UInt64(ip) << 16 | UInt64(n)) }
    /// Type 2: 4-octet AS : 2-octet number.
    public static func as4(_ asn: UInt32, _ n: UInt16) -> Self { .init(raw: 2 << 48 | UInt64(asn) << 16 | UInt64(n)) }

    public var type: UInt16 { UInt16(truncatingIfNeeded: raw >> 48) }

    /// "65001:100", "198.18.0.1:100" or "4200000001:100"; parses the same forms.
    public var description: String { AdministratorText.format(type: UInt8(truncatingIfNeeded: type), value: raw) }
    public init?(_ text: String) {
        guard let (type, value) = AdministratorText.parse(text) else { return nil }
        self.init(raw: UInt64(type) << 48 | value)
    }
    public static func < (a: Self, b: Self) -> Bool { a.raw < b.raw }
}

/// Ethernet Segment Identifier (10 bytes); all zero for single-homed VTEPs.
public struct ESI: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt16
    public var low: UInt64
    public init(high: UInt16 = 0, low: UInt64 = 0) { self.high = high; self.low = low }
    public static let zero = ESI()
    public var isZero: Bool { high == 0 && low == 0 }
    public var description: String {
        var b = [UInt8](); b.put16(high); b.put64(low)
        return b.map { hexString([$0]) }.joined(separator: ":")
    }
}

/// Type 2 (RFC 7432 §7.2). For VXLAN (RFC 8365 §5.1.3) label1 carries the 24-bit VNI.
public struct EVPNMACIPRoute: Hashable, Sendable {
    public var rd: RouteDistinguisher
    public var esi: ESI
    public var ethernetTag: UInt32
    public var mac: MACAddress
    public var ip: IPAddress?
    public var label1: UInt32
    public var label2: UInt32?

    public init(rd: RouteDistinguisher, esi: ESI = .zero, ethernetTag: UInt32 = 0, mac: MACAddress,
                ip: IPAddress? = nil, label1: UInt32, label2: UInt32? = nil) {
        self.rd = rd; self.esi = esi; self.ethernetTag = ethernetTag; self.mac = mac
        self.ip = ip; self.label1 = label1 & 0xFF_FFFF; self.label2 = label2.map { $0 & 0xFF_FFFF }
    }
    /// The VNI in label1 (RFC 8365).
    public var vni: VNI { VNI(unchecked: label1) }
}

/// Type 3 (RFC 7432 §7.3): inclusive multicast Ethernet tag, one per VNI per VTEP.
public struct EVPNIMETRoute: Hashable, Sendable {
    public var rd: RouteDistinguisher
    public var ethernetTag: UInt32
    public var originator: IPAddress
    public init(rd: RouteDistinguisher, ethernetTag: UInt32 = 0, originator: IPAddress) {
        self.rd = rd; self.ethernetTag = ethernetTag; self.originator = originator
    }
}

/// One EVPN NLRI (RFC 7432 §7). Unknown route types are carried, never an error (RFC 7606 §5.4).
public enum EVPNRoute: Hashable, Sendable, CustomStringConvertible {
    case macIP(EVPNMACIPRoute)
    case imet(EVPNIMETRoute)
    case prefix(EVPNPrefixRoute)
    case other(type: UInt8, body: [UInt8])

    public var routeType: UInt8 {
        switch self { case .macIP: return 2; case .imet: return 3; case .prefix: return 5; case .other(let t, _): return t }
    }
    public var rd: RouteDistinguisher? {
        switch self {
        case .macIP(let r): return r.rd
        case .imet(let r): return r.rd
        case .prefix(let r): return r.rd
        case .other: return nil
        }
    }

    /// The route's identity: labels and ESI are not part of the key (RFC 7432 §7.2), so a
    /// withdrawal carrying label 0 removes the route advertised with the VNI.
    public var key: EVPNRouteKey {
        switch self {
        case .macIP(let r): return .macIP(rd: r.rd, ethernetTag: r.ethernetTag, mac: r.mac, ip: r.ip)
        case .imet(let r): return .imet(rd: r.rd, ethernetTag: r.ethernetTag, originator: r.originator)
        // RFC 9136 §3.2: RD, Ethernet Tag, IP prefix length and prefix are the key.
        case .prefix(let r): return .prefix(rd: r.rd, ethernetTag: r.ethernetTag, prefix: r.prefix)
        case .other(let t, let b): return .other(type: t, body: b)
        }
    }

    /// FRR's prefix notation, e.g. "[2]:[0]:[48]:[02:00:00:00:00:aa]:[32]:[10.0.0.1]".
    public var description: String { key.description }

    func encode(into out: inout [UInt8]) {
        out.put8(routeType)
        let lenAt = out.count; out.put8(0)
        switch self {
        case .macIP(let r):
            out.put64(r.rd.raw); out.put16(r.esi.high); out.put64(r.esi.low); out.put32(r.ethernetTag)
            out.put8(48); out.put48(r.mac.raw)
            if let ip = r.ip { out.put8(ip.isIPv4 ? 32 : 128); out.putIP(ip) } else { out.put8(0) }
            out.put24(r.label1)
            if let l2 = r.label2 { out.put24(l2) }
        case .imet(let r):
            out.put64(r.rd.raw); out.put32(r.ethernetTag)
            out.put8(r.originator.isIPv4 ? 32 : 128); out.putIP(r.originator)
        case .prefix(let r):
            r.encodeBody(into: &out)
        case .other(_, let body):
            out.append(contentsOf: body)
        }
        out[lenAt] = UInt8(truncatingIfNeeded: out.count - lenAt - 1)
    }

    enum DecodeError: Error { case truncated, malformed }

    /// Decodes the NLRI field of MP_REACH/MP_UNREACH for AFI 25/SAFI 70. A route whose length
    /// runs past the field, or a known type whose fields disagree with its length, makes the
    /// whole field unreliable (RFC 7606 §5.3), so the caller resets the session. `announced`:
    /// MP_REACH, where a MAC/IP route must carry its MPLS Label1 (RFC 7432 §7.2: below that
    /// minimum length it is malformed, never installed with a guessed label); withdrawals may
    /// omit it (some speakers do; it is not used).
    static func decodeAll(_ r: inout ByteReader, announced: Bool) throws -> [EVPNRoute] {
        var routes: [EVPNRoute] = []
        while !r.isAtEnd {
            guard let type = r.u8(), let len = r.u8(), var body = r.sub(Int(len)) else { throw DecodeError.truncated }
            switch type {
            case 2:
                let (route, carriedLabel1) = try decodeMACIP(&body)
                if announced && !carriedLabel1 { throw DecodeError.malformed }
                routes.append(.macIP(route))
            case 3: routes.append(.imet(try decodeIMET(&body)))
            case 5: routes.append(.prefix(try EVPNPrefixRoute.decode(&body, length: Int(len))))
            default: routes.append(.other(type: type, body: body.take(body.remaining) ?? []))
            }
        }
        return routes
    }

    /// The route, and whether it carried its Label1.
    private static func decodeMACIP(_ b: inout ByteReader) throws -> (EVPNMACIPRoute, Bool) {
        guard let rd = b.u64(), let esiHi = b.u16(), let esiLo = b.u64(), let tag = b.u32(),
              let macLen = b.u8(), macLen == 48, let mac = b.u48(), let ipLen = b.u8()
        else { throw DecodeError.malformed }
        var ip: IPAddress? = nil
        switch ipLen {
        case 0: break
        case 32, 128: guard let a = b.ip(length: Int(ipLen) / 8) else { throw DecodeError.malformed }; ip = a
        default: throw DecodeError.malformed
        }
        // Withdrawals may omit labels entirely (some speakers); a missing label reads as 0.
        let label1: UInt32
        let carried = !b.isAtEnd
        if !carried { label1 = 0 } else { guard let l = b.u24() else { throw DecodeError.malformed }; label1 = l }
        var label2: UInt32? = nil
        if !b.isAtEnd { guard let l = b.u24(), b.isAtEnd else { throw DecodeError.malformed }; label2 = l }
        return (EVPNMACIPRoute(rd: RouteDistinguisher(raw: rd), esi: ESI(high: esiHi, low: esiLo), ethernetTag: tag,
                               mac: MACAddress(raw: mac), ip: ip, label1: label1, label2: label2), carried)
    }

    private static func decodeIMET(_ b: inout ByteReader) throws -> EVPNIMETRoute {
        guard let rd = b.u64(), let tag = b.u32(), let ipLen = b.u8(), ipLen == 32 || ipLen == 128,
              let ip = b.ip(length: Int(ipLen) / 8), b.isAtEnd
        else { throw DecodeError.malformed }
        return EVPNIMETRoute(rd: RouteDistinguisher(raw: rd), ethernetTag: tag, originator: ip)
    }
}

/// What identifies an EVPN route in a RIB.
public enum EVPNRouteKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    case macIP(rd: RouteDistinguisher, ethernetTag: UInt32, mac: MACAddress, ip: IPAddress?)
    case imet(rd: RouteDistinguisher, ethernetTag: UInt32, originator: IPAddress)
    case prefix(rd: RouteDistinguisher, ethernetTag: UInt32, prefix: IPPrefix)
    case other(type: UInt8, body: [UInt8])

    public var description: String {
        switch self {
        case .macIP(_, let tag, let mac, let ip):
            let ipPart = ip.map { ":[\($0.isIPv4 ? 32 : 128)]:[\($0)]" } ?? ""
            return "[2]:[\(tag)]:[48]:[\(mac)]" + ipPart
        case .imet(_, let tag, let o): return "[3]:[\(tag)]:[\(o.isIPv4 ? 32 : 128)]:[\(o)]"
        // FRR: "[5]:[0]:[24]:[10.99.0.0]"
        case .prefix(_, let tag, let p): return "[5]:[\(tag)]:[\(p.length)]:[\(p.address)]"
        case .other(let t, let b): return "[\(t)]:[\(hexString(b))]"
        }
    }
    public var rd: RouteDistinguisher? {
        switch self { case .macIP(let rd, _, _, _), .imet(let rd, _, _), .prefix(let rd, _, _): return rd; case .other: return nil }
    }
    var sortKey: (UInt64, UInt8, UInt64, UInt64, UInt64) {
        switch self {
        case .macIP(let rd, _, let mac, let ip): return (rd.raw, 2, mac.raw, ip?.hi ?? 0, ip?.lo ?? 0)
        case .imet(let rd, _, let o): return (rd.raw, 3, 0, o.hi, o.lo)
        case .prefix(let rd, _, let p): return (rd.raw, 5, UInt64(p.length), p.address.hi, p.address.lo)
        case .other(let t, _): return (0, t, 0, 0, 0)
        }
    }
    public static func < (a: Self, b: Self) -> Bool { a.sortKey < b.sortKey }

    /// A few words per key, not one combine per field and tag (the Adj-RIB-In hashes a key per
    /// route received, and again for every entry each time its table grows). Keys of different
    /// types that hash alike are still told apart by `==`.
    public func hash(into h: inout Hasher) {
        switch self {
        case .macIP(let rd, let tag, let mac, let ip):
            h.combine(rd.raw)
            h.combine(UInt64(tag) << 48 | mac.raw)
            if let ip { h.combine(ip.hi); h.combine(ip.lo) }
        case .imet(let rd, let tag, let o):
            h.combine(rd.raw); h.combine(UInt64(tag) | 3 << 32); h.combine(o.hi); h.combine(o.lo)
        case .prefix(let rd, let tag, let p):
            h.combine(rd.raw); h.combine(UInt64(tag) | UInt64(p.length) << 32 | 5 << 40)
            h.combine(p.address.hi); h.combine(p.address.lo)
        case .other(let t, let b): h.combine(t); h.combine(b)
        }
    }

    /// A MAC/IP key, the common one, in one-shot hashes (see `MACAddress._rawHashValue`): the
    /// RD goes into the seed, then the tag and MAC word, then the IP; others through `Hasher`.
    public func _rawHashValue(seed: Int) -> Int {
        if case .macIP(let rd, let tag, let mac, let ip) = self {
            let h = (UInt64(tag) << 48 | mac.raw)._rawHashValue(seed: seed ^ Int(truncatingIfNeeded: rd.raw))
            return ip.map { $0._rawHashValue(seed: h) } ?? h
        }
        var h = Hasher()
        h.combine(seed)
        hash(into: &h)
        return h.finalize()
    }
}
