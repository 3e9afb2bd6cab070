/// Checksum completion for frames from veth/tap senders that leave CHECKSUM_PARTIAL
/// (only the pseudo-header sum in the TCP/UDP checksum field): the L4 checksum of an
/// IPv4 or IPv6 packet (after at most one 802.1Q tag) is recomputed in place.
///
/// Left alone: non-TCP/UDP, IPv4 fragments, IPv6 with extension headers, truncated
/// packets, and UDP over IPv4 with checksum 0 (the sender asked for none).
public enum ChecksumCompletion {
    /// Recomputes the checksum of the frame at `p`; returns whether it wrote one.
    /// With `onlyIfPartial`, only a checksum field that holds exactly the pseudo-header sum
    /// (what CHECKSUM_PARTIAL leaves) is completed.
    @inlinable @discardableResult
    public static func complete(_ p: UnsafeMutableRawPointer, length: Int, onlyIfPartial: Bool = false) -> Bool {
        guard let (l3, type) = Ethernet.l3(p, length: length) else { return false }
        let ip = p + l3
        let present = length &- l3
        let proto: UInt8, l4: Int, l4Length: Int, v4: Bool
        switch type {
        case Ethernet.typeIPv4:
            guard present >= IPv4.headerLength, IPv4.version(ip) == 4 else { return false }
            let ihl = IPv4.ihlBytes(ip), total = IPv4.totalLength(ip)
            guard ihl >= IPv4.headerLength, total >= ihl, total <= present, !IPv4.isFragment(ip) else { return false }
            proto = IPv4.protocolNumber(ip); l4 = ihl; l4Length = total &- ihl; v4 = true
        case Ethernet.typeIPv6:
            guard present >= IPv6.headerLength, IPv6.version(ip) == 6 else { return false }
            let payload = IPv6.payloadLength(ip)
            guard payload <= present &- IPv6.headerLength else { return false }
            proto = IPv6.nextHeader(ip); l4 = IPv6.headerLength; l4Length = payload; v4 = false
        default:
            return false
        }
        let field: Int
        switch proto {
        case IPv4.protocolTCP: field = 16; guard l4Length >= 20 else { return false }
        case IPv4.protocolUDP: field = 6; guard l4Length >= UDP.headerLength else { return false }
        default: return false
        }
        let seg = ip + l4
        let udp = proto == IPv4.protocolUDP
        if udp && v4 && UDP.checksum(seg) == 0 { return false }
        let pseudo = v4 ? Checksum.pseudoHeaderV4(ip, protocol: proto, length: l4Length)
                        : Checksum.pseudoHeaderV6(ip, protocol: proto, length: l4Length)
        if onlyIfPartial && seg.loadBE16(field) != pseudo { return false }
        seg.storeBE16(0, field)
        seg.storeBE16(Checksum.l4(pseudo: pseudo, seg, count: l4Length, udp: udp), field)
        return true
    }
}
