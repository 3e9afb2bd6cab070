/// ICMPv6 (RFC 4443) neighbour discovery messages (RFC 4861) after a 40-byte IPv6 header.
///
///     Neighbor Solicitation (135) / Advertisement (136):
///     0 type  1 code  2 checksum  4 flags (NA: R 0x80, S 0x40, O 0x20) + reserved  8 target (16)
///     24 options: type (1 source, 2 target link-layer address), length in 8-byte units, MAC
public enum ICMPv6 {
    public static let nextHeader: UInt8 = 58
    public static let typeNeighborSolicitation: UInt8 = 135
    public static let typeNeighborAdvertisement: UInt8 = 136
    /// NS and NA without options.
    public static let ndLength = 24
    /// An NA with one target link-layer address option.
    public static let advertisementLength = 32
    public static let flagRouter: UInt8 = 0x80
    public static let flagSolicited: UInt8 = 0x40
    public static let flagOverride: UInt8 = 0x20

    @inlinable public static func type(_ p: UnsafeRawPointer) -> UInt8 { p.load(as: UInt8.self) }
    @inlinable public static func code(_ p: UnsafeRawPointer) -> UInt8 { p.load(fromByteOffset: 1, as: UInt8.self) }
    @inlinable public static func target(_ p: UnsafeRawPointer) -> IPAddress { IPAddress(loadingV6From: p + 8) }
    public static let optionSourceLinkLayer: UInt8 = 1
    public static let optionTargetLinkLayer: UInt8 = 2

    /// The MAC of the first link-layer address option `option` of the NS/NA at `p` (`length`
    /// bytes of ICMPv6), or nil: none, or the options run past `length` or have length 0.
    public static func linkLayerAddress(_ p: UnsafeRawPointer, length: Int, option: UInt8) -> MACAddress? {
        var at = ndLength
        while at &+ 2 <= length {
            let units = Int(p.load(fromByteOffset: at &+ 1, as: UInt8.self))
            guard units > 0, at &+ units &* 8 <= length else { return nil }
            if p.load(fromByteOffset: at, as: UInt8.self) == option && units == 1 {
                return MACAddress(loadingFrom: p + (at &+ 2))
            }
            at &+= units &* 8
        }
        return nil
    }

    /// Writes a solicited Neighbor Advertisement for the target already at `p + 8` with a
    /// target link-layer address option `mac` (S and O set, not a router), checksum 0.
    @inlinable public static func writeAdvertisement(_ p: UnsafeMutableRawPointer, mac: MACAddress) {
        p.storeBE32(UInt32(typeNeighborAdvertisement) << 24, 0) // code 0, checksum 0
        p.storeBE32(UInt32(flagSolicited | flagOverride) << 24, 4)
        p.storeBE16(0x0201, 24) // option 2 (target link-layer address), 1 × 8 bytes
        mac.store(to: p + 26)
    }
}
