/// IPv6 fixed header (RFC 8200), 40 bytes. Extension headers are not parsed.
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

    /// Writes the fixed header: traffic class and flow label 0.
    @inlinable public static func write(_ p: UnsafeMutableRawPointer, payloadLength: Int, nextHeader: UInt8,
                                        hopLimit: UInt8 = 64, source: IPAddress, destination: IPAddress) {
        p.storeBE32(0x6000_0000, 0)
        p.storeBE32(UInt32(truncatingIfNeeded: payloadLength) << 16 | UInt32(nextHeader) << 8 | UInt32(hopLimit), 4)
        source.storeV6(to: p + 8)
        destination.storeV6(to: p + 24)
    }
}
