/// UDP header (RFC 768), 8 bytes: source port, destination port, length, checksum.
public enum UDP {
    public static let headerLength = 8
    public static let checksumOffset = 6

    @inlinable public static func sourcePort(_ p: UnsafeRawPointer) -> UInt16 { p.loadBE16(0) }
    @inlinable public static func destinationPort(_ p: UnsafeRawPointer) -> UInt16 { p.loadBE16(2) }
    /// Header plus payload, in bytes.
    @inlinable public static func length(_ p: UnsafeRawPointer) -> Int { Int(p.loadBE16(4)) }
    @inlinable public static func checksum(_ p: UnsafeRawPointer) -> UInt16 { p.loadBE16(6) }

    @inlinable public static func write(_ p: UnsafeMutableRawPointer, sourcePort: UInt16, destinationPort: UInt16,
                                        length: Int, checksum: UInt16 = 0) {
        p.storeBE32(UInt32(sourcePort) << 16 | UInt32(destinationPort), 0)
        p.storeBE32(UInt32(truncatingIfNeeded: length) << 16 | UInt32(checksum), 4)
    }
}
