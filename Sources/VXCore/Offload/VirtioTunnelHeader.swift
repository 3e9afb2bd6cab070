/// `struct virtio_net_hdr_v1_hash_tunnel` (virtio 1.4 §5.1.6, Linux 6.17 `TUN_F_UDP_TUNNEL_GSO`),
/// the 24 bytes in front of a UDP-tunnel GSO packet written to a tap: the 10-byte header,
/// num_buffers, the hash fields (unused, zero), then the offsets of the outer UDP header
/// and of the inner IP header, all from the start of the outer Ethernet header.
///
///     0 virtio_net_hdr  10 num_buffers  12 hash_value  16 hash_report  18 padding
///     20 outer_th_offset  22 inner_nh_offset
public enum VirtioTunnelHeader {
    public static let size = 24

    /// Writes the header for a VXLAN packet whose outer headers take `overhead` bytes
    /// (outer UDP at `outerTransport`) around the super-frame `s` from a guest.
    /// `outerChecksum`: the outer UDP checksum field holds the pseudo-header sum, to be
    /// completed per segment (IPv6); otherwise it is zero (IPv4).
    @inlinable
    public static func store(to p: UnsafeMutableRawPointer, for s: Segmenter, overhead: Int, outerTransport: Int,
                             outerIPv6: Bool, outerChecksum: Bool) {
        let inner = s.layout
        let csumOffset = inner.isTCP ? TCP.checksumOffset : UDP.checksumOffset
        let base = VirtioNetHeader(
            flags: VirtioNetHeader.flagNeedsCsum | (outerChecksum ? VirtioNetHeader.flagUDPTunnelCsum : 0),
            gsoType: s.header.gsoType | (outerIPv6 ? VirtioNetHeader.gsoUDPTunnelIPv6 : VirtioNetHeader.gsoUDPTunnelIPv4),
            hdrLen: UInt16(truncatingIfNeeded: overhead &+ inner.payload), gsoSize: UInt16(truncatingIfNeeded: s.gsoSize),
            csumStart: UInt16(truncatingIfNeeded: overhead &+ inner.l4), csumOffset: UInt16(csumOffset))
        base.store(to: p)
        (p + VirtioNetHeader.size).initializeMemory(as: UInt8.self, repeating: 0, count: 10)
        p.storeBytes(of: UInt16(truncatingIfNeeded: outerTransport).littleEndian, toByteOffset: 20, as: UInt16.self)
        p.storeBytes(of: UInt16(truncatingIfNeeded: overhead &+ inner.l3).littleEndian, toByteOffset: 22, as: UInt16.self)
    }
}
