import VXCore

/// A bounds-checked cursor over received bytes. Every read returns nil past the end, so the
/// decoder cannot trap on any input; callers turn nil into the RFC 7606 action of the field.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var pos: Int
    let end: Int

    init(_ bytes: [UInt8]) { self.bytes = bytes; self.pos = 0; self.end = bytes.count }
    init(_ bytes: [UInt8], from: Int, to: Int) {
        self.bytes = bytes
        self.pos = max(0, min(from, bytes.count))
        self.end = max(self.pos, min(to, bytes.count))
    }

    var remaining: Int { end - pos }
    var isAtEnd: Bool { pos >= end }

    mutating func u8() -> UInt8? {
        guard pos < end else { return nil }
        defer { pos += 1 }
        return bytes[pos]
    }
    mutating func u16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { pos += 2 }
        return UInt16(bytes[pos]) << 8 | UInt16(bytes[pos + 1])
    }
    mutating func u24() -> UInt32? {
        guard remaining >= 3 else { return nil }
        defer { pos += 3 }
        return UInt32(bytes[pos]) << 16 | UInt32(bytes[pos + 1]) << 8 | UInt32(bytes[pos + 2])
    }
    /// `n` bytes (at most 8) as a big-endian integer.
    mutating func uint(_ n: Int) -> UInt64? {
        guard n <= 8, remaining >= n else { return nil }
        var v: UInt64 = 0
        for i in 0..<n { v = v << 8 | UInt64(bytes[pos + i]) }
        pos += n
        return v
    }
    mutating func u32() -> UInt32? { uint(4).map { UInt32(truncatingIfNeeded: $0) } }
    mutating func u48() -> UInt64? { uint(6) }
    mutating func u64() -> UInt64? { uint(8) }
    mutating func take(_ n: Int) -> [UInt8]? {
        guard n >= 0, remaining >= n else { return nil }
        defer { pos += n }
        return Array(bytes[pos..<(pos + n)])
    }
    /// A reader over the next `n` bytes; advances past them.
    mutating func sub(_ n: Int) -> ByteReader? {
        guard n >= 0, remaining >= n else { return nil }
        defer { pos += n }
        return ByteReader(bytes, from: pos, to: pos + n)
    }
    mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, remaining >= n else { return false }
        pos += n
        return true
    }
    /// IPv4 (4 bytes) or IPv6 (16 bytes) address.
    mutating func ip(length: Int) -> IPAddress? {
        switch length {
        case 4: return u32().map { IPAddress(v4: $0) }
        case 16:
            guard let hi = u64(), let lo = u64() else { return nil }
            return IPAddress(hi: hi, lo: lo)
        default: return nil
        }
    }
}

extension Array where Element == UInt8 {
    mutating func put8(_ v: UInt8) { append(v) }
    mutating func put16(_ v: UInt16) { append(UInt8(v >> 8)); append(UInt8(truncatingIfNeeded: v)) }
    mutating func put24(_ v: UInt32) { for s in [16, 8, 0] { append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    mutating func put32(_ v: UInt32) { for s in [24, 16, 8, 0] { append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    mutating func put48(_ v: UInt64) { for s in [40, 32, 24, 16, 8, 0] { append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    mutating func put64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    /// 4 bytes for IPv4, 16 for IPv6.
    mutating func putIP(_ ip: IPAddress) { append(contentsOf: ip.bytes) }
    /// Writes a 16-bit length placeholder at the current end and returns its position.
    mutating func reserve16() -> Int { let at = count; put16(0); return at }
    mutating func patch16(at: Int, _ v: UInt16) { self[at] = UInt8(v >> 8); self[at + 1] = UInt8(truncatingIfNeeded: v) }
}

/// Lower-case hex, for fixtures and logs.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8](); out.reserveCapacity(bytes.count * 2)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}

/// Parses hex text (whitespace ignored); nil on odd length or a non-hex digit.
public func bytesFromHex(_ text: String) -> [UInt8]? {
    var out = [UInt8](), high: UInt8? = nil
    for c in text.utf8 {
        let v: UInt8
        switch c {
        case 48...57: v = c - 48
        case 97...102: v = c - 87
        case 65...70: v = c - 55
        case 32, 9, 10, 13: continue
        default: return nil
        }
        if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
    }
    return high == nil ? out : nil
}
