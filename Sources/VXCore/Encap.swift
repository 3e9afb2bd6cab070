/// VXLAN encapsulation (RFC 7348): outer Ethernet + IPv4/IPv6 + UDP + VXLAN written into
/// the headroom in front of the inner frame.
///
///     ← overhead (50 v4 / 70 v6) →
///     | eth 14 | ip 20/40 | udp 8 | vxlan 8 | inner frame ... |
public enum Encap {
    public static let overheadV4 = Ethernet.headerLength + IPv4.headerLength + UDP.headerLength + VXLAN.headerLength
    public static let overheadV6 = Ethernet.headerLength + IPv6.headerLength + UDP.headerLength + VXLAN.headerLength

    @inlinable public static func overhead(toward remote: IPAddress) -> Int { remote.isIPv4 ? overheadV4 : overheadV6 }

    /// Length of the outer IP packet for an inner frame of `innerLength` bytes (compare with the uplink MTU).
    @inlinable public static func outerIPLength(innerLength: Int, toward remote: IPAddress) -> Int {
        overhead(toward: remote) &- Ethernet.headerLength &+ innerLength
    }

    /// Writes the outer headers in the `overhead(toward: remote)` bytes before `inner`.
    /// The caller has checked the headroom, the MTU and that `local` has the remote's family.
    /// `partialChecksum`: an IPv6 outer UDP checksum is left as the pseudo-header sum, for
    /// the kernel's tunnel GSO to complete per segment (the inner frame is not read).
    @inlinable public static func writeHeaders(before inner: UnsafeMutableRawPointer, innerLength: Int, vni: VNI,
                                               local: IPAddress, remote: IPAddress, nextHop: MACAddress,
                                               sourcePort: UInt16, underlay: UnderlayConfig, partialChecksum: Bool = false) {
        let udpLength = innerLength &+ UDP.headerLength &+ VXLAN.headerLength
        let vx = inner - VXLAN.headerLength
        let udp = vx - UDP.headerLength
        VXLAN.write(vx, vni: vni)
        if remote.isIPv4 {
            let ip = udp - IPv4.headerLength
            let eth = ip - Ethernet.headerLength
            Ethernet.write(eth, dst: nextHop, src: underlay.uplinkMAC, type: Ethernet.typeIPv4)
            IPv4.write(ip, totalLength: IPv4.headerLength &+ udpLength, protocol: IPv4.protocolUDP,
                       source: local.v4, destination: remote.v4)
            UDP.write(udp, sourcePort: sourcePort, destinationPort: underlay.udpPort, length: udpLength)
        } else {
            let ip = udp - IPv6.headerLength
            let eth = ip - Ethernet.headerLength
            Ethernet.write(eth, dst: nextHop, src: underlay.uplinkMAC, type: Ethernet.typeIPv6)
            IPv6.write(ip, payloadLength: udpLength, nextHeader: IPv4.protocolUDP, source: local, destination: remote)
            UDP.write(udp, sourcePort: sourcePort, destinationPort: underlay.udpPort, length: udpLength)
            if !underlay.udp6ZeroChecksum {
                let pseudo = Checksum.pseudoHeaderV6(ip, protocol: IPv4.protocolUDP, length: udpLength)
                udp.storeBE16(partialChecksum ? pseudo : Checksum.l4(pseudo: pseudo, udp, count: udpLength, udp: true), 6)
            }
        }
    }
}
