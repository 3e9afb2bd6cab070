/// VXLAN header (RFC 7348 §5), 8 bytes.
///
///     0 flags (0x08 = I: VNI valid)  1..3 reserved  4..6 VNI  7 reserved
public enum VXLAN {
    public static let headerLength = 8
    public static let defaultPort: UInt16 = 4789
    public static let flagI: UInt8 = 0x08

    @inlinable public static func hasValidVNI(_ p: UnsafeRawPointer) -> Bool { p.load(as: UInt8.self) & flagI != 0 }
    @inlinable public static func vni(_ p: UnsafeRawPointer) -> VNI { VNI(unchecked: p.loadBE32(4) >> 8) }

    /// Writes flags 0x08, reserved 0, VNI << 8.
    @inlinable public static func write(_ p: UnsafeMutableRawPointer, vni: VNI) {
        p.storeBE32(UInt32(flagI) << 24, 0)
        p.storeBE32(vni.value << 8, 4)
    }
}
