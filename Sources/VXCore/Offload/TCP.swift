/// TCP header fields the offload code touches (RFC 9293 §3.1). (Lives here, not in
/// `Headers/`, while only GSO/GRO use it.)
///
///     0 src port  2 dst port  4 seq  8 ack  12 data offset  13 flags  14 window  16 checksum  18 urgent
public enum TCP {
    public static let headerLength = 20
    public static let checksumOffset = 16
    public static let flagFIN: UInt8 = 0x01
    public static let flagSYN: UInt8 = 0x02
    public static let flagRST: UInt8 = 0x04
    public static let flagPSH: UInt8 = 0x08
    public static let flagACK: UInt8 = 0x10
    public static let flagURG: UInt8 = 0x20
    public static let flagECE: UInt8 = 0x40
    public static let flagCWR: UInt8 = 0x80

    @inlinable public static func sequence(_ p: UnsafeRawPointer) -> UInt32 { p.loadBE32(4) }
    @inlinable public static func flags(_ p: UnsafeRawPointer) -> UInt8 { p.load(fromByteOffset: 13, as: UInt8.self) }
    @inlinable public static func setFlags(_ p: UnsafeMutableRawPointer, _ f: UInt8) { p.storeBytes(of: f, toByteOffset: 13, as: UInt8.self) }
}
