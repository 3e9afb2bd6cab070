/// Ethernet II header (14 bytes) and one 802.1Q tag (4 bytes after the source MAC).
///
///     0      6      12     14
///     | dst  | src  | type | payload        untagged
///     | dst  | src  |8100|TCI| type | ...  tagged (TCI: PCP 3 bits, DEI, VID 12 bits)
public enum Ethernet {
    public static let headerLength = 14
    public static let tagLength = 4
    public static let typeIPv4: UInt16 = 0x0800
    public static let typeIPv6: UInt16 = 0x86DD
    public static let typeVLAN: UInt16 = 0x8100
    /// 802.1ad service tag (QinQ outer tag).
    public static let typeServiceVLAN: UInt16 = 0x88A8

    @inlinable public static func destination(_ p: UnsafeRawPointer) -> MACAddress { MACAddress(loadingFrom: p) }
    @inlinable public static func source(_ p: UnsafeRawPointer) -> MACAddress { MACAddress(loadingFrom: p + 6) }
    /// The EtherType at bytes 12..13 (0x8100 when tagged).
    @inlinable public static func etherType(_ p: UnsafeRawPointer) -> UInt16 { p.loadBE16(12) }

    /// Whether the frame carries an 802.1Q or 802.1ad tag.
    @inlinable public static func isTagged(_ p: UnsafeRawPointer) -> Bool {
        let t = etherType(p)
        return t == typeVLAN || t == typeServiceVLAN
    }

    /// Writes destination, source and EtherType.
    @inlinable public static func write(_ p: UnsafeMutableRawPointer, dst: MACAddress, src: MACAddress, type: UInt16) {
        dst.store(to: p)
        src.store(to: p + 6)
        p.storeBE16(type, 12)
    }

    /// Offset and EtherType of the L3 header, skipping one 802.1Q tag; nil when the
    /// headers run past `length`.
    @inlinable public static func l3(_ p: UnsafeRawPointer, length: Int) -> (offset: Int, type: UInt16)? {
        guard length >= headerLength else { return nil }
        let type = etherType(p)
        if type != typeVLAN { return (headerLength, type) }
        guard length >= headerLength + tagLength else { return nil }
        return (headerLength + tagLength, p.loadBE16(16))
    }
}

/// One 802.1Q tag. Ingress strips it by moving the 12 MAC bytes forward; egress pushes
/// it by moving them back into headroom.
public enum VLANTag {
    /// VLAN id of a tagged frame (bytes 14..15, low 12 bits).
    @inlinable public static func vid(_ p: UnsafeRawPointer) -> UInt16 { p.loadBE16(14) & 0x0FFF }

    /// Removes the tag of a tagged frame starting at `p`; the frame now starts at `p + 4`.
    @inlinable public static func strip(_ p: UnsafeMutableRawPointer) {
        (p + Ethernet.tagLength).copyMemory(from: p, byteCount: 12) // overlapping: memmove
    }

    /// Inserts a tag with `vid` before the EtherType; the frame (at `p`) must have 4 bytes
    /// of headroom and afterwards starts at `p - 4`.
    @inlinable public static func push(_ p: UnsafeMutableRawPointer, vid: UInt16) {
        let q = p - Ethernet.tagLength
        q.copyMemory(from: p, byteCount: 12)
        q.storeBE16(Ethernet.typeVLAN, 12)
        q.storeBE16(vid & 0x0FFF, 14)
    }
}
