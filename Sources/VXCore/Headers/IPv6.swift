/// IPv6 fixed header (RFC 8200), 40 bytes. Extension headers: `IPv6Extensions`.
///
///     0 ver/class/flow label  4 payload length  6 next header  7 hop limit
///     8 source (16)  24 destination (16)
public enum IPv6 {
    public static let headerLength = 40

    @inlinable public static func version(_ p: UnsafeRawPointer) -> UInt8 { p.load(as: UInt8.self) >> 4 }
    @inlinable public static func payloadLength(_ p: UnsafeRawPointer) -> Int { Int(p.loadBE16(4)) }
    @inlinable public static func nextHeader(_ p: UnsafeRawPointer) -> UInt8 { p.load(fromByteOffset: 6, as: UInt8.self) }
    @inlinable public static func hopLimit(_ p: UnsafeRawPointer) -> UInt8 { p.load(fromByteOffset: 7, as: UInt8.self) }
    @inlinable public static func source(_ p: UnsafeRawPointer) -> IPAddress { IPAddress(loadingV6From: p + 8) }
    @inlinable public static func destination(_ p: UnsafeRawPointer) -> IPAddress { IPAddress(loadingV6From: p + 24) }
    /// Whether `a` may be the source of a unicast packet: not multicast (ff00::/8, RFC 4291
    /// §2.7), unspecified (::), loopback (::1) or IPv4-mapped (::ffff:0:0/96, which would
    /// pass for an IPv4 VTEP; Linux drops it on receive too).
    @inlinable public static func isUnicastSource(_ a: IPAddress) -> Bool {
        a.hi >> 56 != 0xFF && !(a.hi == 0 && (a.lo <= 1 || a.lo >> 32 == 0xFFFF))
    }

    /// Writes the fixed header: traffic class and flow label 0.
    @inlinable public static func write(_ p: UnsafeMutableRawPointer, payloadLength: Int, nextHeader: UInt8,
                                        hopLimit: UInt8 = 64, source: IPAddress, destination: IPAddress) {
        p.storeBE32(0x6000_0000, 0)
        p.storeBE32(UInt32(truncatingIfNeeded: payloadLength) << 16 | UInt32(nextHeader) << 8 | UInt32(hopLimit), 4)
        source.storeV6(to: p + 8)
        destination.storeV6(to: p + 24)
    }
}
