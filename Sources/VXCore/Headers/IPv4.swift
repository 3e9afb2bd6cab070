/// IPv4 header (RFC 791), 20 bytes without options.
///
///     0 ver/ihl  1 tos  2 total length  4 id  6 flags/fragment offset
///     8 ttl  9 protocol  10 header checksum  12 source  16 destination
public enum IPv4 {
    public static let headerLength = 20
    public static let protocolTCP: UInt8 = 6
    public static let protocolUDP: UInt8 = 17
    public static let flagDF: UInt16 = 0x4000

    @inlinable public static func version(_ p: UnsafeRawPointer) -> UInt8 { p.load(as: UInt8.self) >> 4 }
    /// Header length in bytes (IHL × 4).
    @inlinable public static func ihlBytes(_ p: UnsafeRawPointer) -> Int { Int(p.load(as: UInt8.self) & 0x0F) << 2 }
    @inlinable public static func totalLength(_ p: UnsafeRawPointer) -> Int { Int(p.loadBE16(2)) }
    @inlinable public static func protocolNumber(_ p: UnsafeRawPointer) -> UInt8 { p.load(fromByteOffset: 9, as: UInt8.self) }
    /// True for any fragment: More Fragments set or a non-zero offset.
    @inlinable public static func isFragment(_ p: UnsafeRawPointer) -> Bool { p.loadBE16(6) & 0x3FFF != 0 }
    @inlinable public static func source(_ p: UnsafeRawPointer) -> UInt32 { p.loadBE32(12) }
    @inlinable public static func destination(_ p: UnsafeRawPointer) -> UInt32 { p.loadBE32(16) }
    /// The header checksum over `ihl` bytes adds up (RFC 1071: the folded sum is all ones).
    @inlinable public static func checksumValid(_ p: UnsafeRawPointer, ihl: Int) -> Bool {
        (ihl == headerLength ? Checksum.sum20(p) : Checksum.sum(p, count: ihl)) == 0xFFFF
    }
    /// Whether `a` (host order) may be the source of a unicast packet (RFC 1122 §3.2.1.3):
    /// not 0/8 ("this network"), 127/8 (loopback), 224/4 (multicast) or 255.255.255.255 —
    /// the sources Linux calls martian.
    @inlinable public static func isUnicastSource(_ a: UInt32) -> Bool {
        let top = a >> 24
        return top != 0 && top != 127 && top & 0xF0 != 0xE0 && a != 0xFFFF_FFFF
    }

    /// Writes a 20-byte header: tos 0, id 0, DF, the given TTL, and the header checksum.
    @inlinable public static func write(_ p: UnsafeMutableRawPointer, totalLength: Int, protocol proto: UInt8,
                                        ttl: UInt8 = 64, source: UInt32, destination: UInt32) {
        p.storeBE32(0x4500_0000 | UInt32(truncatingIfNeeded: totalLength) & 0xFFFF, 0)
        p.storeBE32(UInt32(flagDF), 4) // id 0, DF
        p.storeBE32(UInt32(ttl) << 24 | UInt32(proto) << 16, 8) // checksum 0 for now
        p.storeBE32(source, 12)
        p.storeBE32(destination, 16)
        p.storeBE16(Checksum.ipv4Header(p, length: headerLength), 10)
    }
}
