/// What validating a frame from the uplink found: the inner frame, or why it is dropped.
public enum Decapsulated: Sendable {
    /// The inner Ethernet frame starts `offset` bytes into the frame and is `length` bytes.
    case inner(vni: VNI, offset: Int, length: Int, source: IPAddress)
    case drop(DropReason)
}

/// VXLAN decapsulation: validation of Ethernet → IPv4/IPv6 → UDP → VXLAN, with what a host
/// checks before taking a packet (RFC 1122 §3.2.1): the destination MAC is ours (or a group),
/// the IPv4 header checksum holds, the source is a unicast address and not one of ours, the UDP
/// checksum holds where it is verified. IPv6 extension headers: `IPv6Extensions.walk`. Decapsulating
/// is then only advancing the frame address by `offset` (no copy). Whether the VNI is
/// configured is the pipeline's question (`.unknownVNI`).
public enum Decap {
    @inlinable public static func parse(_ p: UnsafeRawPointer, length: Int, underlay: UnderlayConfig) -> Decapsulated {
        guard length >= Ethernet.headerLength else { return .drop(.runt) }
        // A frame the NIC took in only because the uplink is promiscuous is not ours to decapsulate.
        let dmac = Ethernet.destination(p)
        guard dmac == underlay.uplinkMAC || dmac.isMulticast || underlay.uplinkMAC.isZero else { return .drop(.notOurMAC) }
        let ip = p + Ethernet.headerLength
        let present = length &- Ethernet.headerLength
        let l4: Int, end: Int, source: IPAddress, destination: IPAddress, v6: Bool
        switch Ethernet.etherType(p) {
        case Ethernet.typeIPv4:
            guard present >= IPv4.headerLength else { return .drop(.truncatedHeader) }
            let ihl = IPv4.ihlBytes(ip), total = IPv4.totalLength(ip)
            guard IPv4.version(ip) == 4, ihl >= IPv4.headerLength, total >= ihl else { return .drop(.badIPHeader) }
            guard total <= present else { return .drop(.truncatedHeader) }
            guard IPv4.checksumValid(ip, ihl: ihl) else { return .drop(.badIPChecksum) }
            guard !IPv4.isFragment(ip) else { return .drop(.fragmented) }
            guard IPv4.protocolNumber(ip) == IPv4.protocolUDP else { return .drop(.notVXLAN) }
            l4 = ihl; end = total // trailing Ethernet padding is ignored
            v6 = false
            guard IPv4.isUnicastSource(IPv4.source(ip)) else { return .drop(.badOuterSource) }
            source = IPAddress(v4: IPv4.source(ip)); destination = IPAddress(v4: IPv4.destination(ip))
        case Ethernet.typeIPv6:
            guard present >= IPv6.headerLength else { return .drop(.truncatedHeader) }
            guard IPv6.version(ip) == 6 else { return .drop(.badIPHeader) }
            let payload = IPv6.payloadLength(ip)
            guard payload <= present &- IPv6.headerLength else { return .drop(.truncatedHeader) }
            end = IPv6.headerLength &+ payload
            destination = IPv6.destination(ip)
            switch IPv6Extensions.walk(ip, end: end) {
            case .upper(let next, let offset):
                guard next == IPv4.protocolUDP else { return .drop(.notVXLAN) }
                l4 = offset
            // Behind a chain we do not walk the UDP port is unknown: our address is what says it was for us.
            case .fragment: return .drop(underlay.isLocal(destination) ? .fragmented : .notVXLAN)
            case .unsupported: return .drop(underlay.isLocal(destination) ? .badExtensionHeader : .notVXLAN)
            }
            source = IPv6.source(ip)
            v6 = true
            guard IPv6.isUnicastSource(source) else { return .drop(.badOuterSource) }
        default:
            return .drop(.notVXLAN)
        }
        guard end &- l4 >= UDP.headerLength else { return .drop(.truncatedHeader) }
        let udp = ip + l4
        guard UDP.destinationPort(udp) == underlay.udpPort else { return .drop(.notVXLAN) }
        guard underlay.isLocal(destination) else { return .drop(.notForLocalVTEP) }
        guard !underlay.isLocal(source) else { return .drop(.badOuterSource) } // our own address, looped or spoofed
        let udpLength = UDP.length(udp)
        guard udpLength >= UDP.headerLength &+ VXLAN.headerLength, udpLength <= end &- l4 else {
            return .drop(.truncatedHeader)
        }
        if v6 ? underlay.verifyUDPChecksumV6 : underlay.verifyUDPChecksumV4, UDP.checksum(udp) != 0 {
            let pseudo = v6 ? Checksum.pseudoHeaderV6(ip, protocol: IPv4.protocolUDP, length: udpLength)
                            : Checksum.pseudoHeaderV4(ip, protocol: IPv4.protocolUDP, length: udpLength)
            // The pseudo-header sum alone: left partial by a sender on this host (a veth peer's
            // CHECKSUM_PARTIAL), which the wire never carries; a damaged frame matches it no more
            // often (2^-16) than it matches a right checksum.
            let partial = UDP.checksum(udp) == pseudo
            if !partial && Checksum.add(pseudo, Checksum.sum(udp, count: udpLength)) != 0xFFFF {
                // A kernel VTEP on this host (behind a veth) computes the outer checksum for the
                // frame with its inner TCP/UDP checksum filled in (local checksum offload) and
                // leaves the inner one partial: complete it, as the pipeline would, and look again.
                // Only a partial one (the pseudo-header sum, 2^-16 by chance): a completed checksum
                // would hide damage to the inner payload from the outer one.
                let inner = UnsafeMutableRawPointer(mutating: udp + UDP.headerLength + VXLAN.headerLength)
                let innerLength = udpLength &- UDP.headerLength &- VXLAN.headerLength
                guard underlay.completeDecapChecksums, innerLength >= Ethernet.headerLength,
                      ChecksumCompletion.complete(inner, length: innerLength, onlyIfPartial: true),
                      Checksum.add(pseudo, Checksum.sum(udp, count: udpLength)) == 0xFFFF else {
                    return .drop(.badUDPChecksum)
                }
            }
        }
        let vx = udp + UDP.headerLength
        guard VXLAN.hasValidVNI(vx) else { return .drop(.badVXLANFlags) }
        let innerLength = udpLength &- UDP.headerLength &- VXLAN.headerLength
        guard innerLength >= Ethernet.headerLength else { return .drop(.innerRunt) }
        let offset = Ethernet.headerLength &+ l4 &+ UDP.headerLength &+ VXLAN.headerLength
        return .inner(vni: VXLAN.vni(vx), offset: offset, length: innerLength, source: source)
    }
}
