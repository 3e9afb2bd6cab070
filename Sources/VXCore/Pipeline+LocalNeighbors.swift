/// Local neighbour learning: the IPs of the switch's own VMs, from the ARP and neighbour
/// discovery they send, for EVPN MAC/IP routes and for ARP/ND suppression.
///
/// ```
///  receiveLocal ── EtherType ARP or IPv6? ── no ──▶ (nothing: one compare per frame)
///                        │ yes
///   ARP request/reply/gratuitous: (sender IP, sender MAC)
///   NS with a source ≠ :: : (source, source link-layer option or Ethernet source)
///   NA: (target, target link-layer option or Ethernet source)
///   DAD (NS from ::), ARP probes (sender 0.0.0.0), bad ND checksums: not learned
///                        │
///   already in the neighbour table at that MAC? ── yes ──▶ done (the common case: a lookup)
///                        │ no
///   table entry set here (suppression answers with it at once) and reported to the owner
///   (`DataplaneReport.neighborLearned`, at most 256 per report round): every copy gets it
///   and the EVPN speaker advertises a MAC/IP route for it
/// ```
///
/// A gratuitous ARP from another MAC (a floating IP moved onto this VM) replaces the entry,
/// so suppression never answers with the old MAC.
extension SwitchPipeline {
    /// Learns the sender of the ARP or ND frame `f` (untagged at `p`, EtherType already ARP or
    /// IPv6) from a local port of domain `bd`.
    @inlinable mutating func learnNeighborSource(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer, bd: UInt16) {
        let l3 = Ethernet.headerLength
        if Ethernet.etherType(p) == ARP.etherType {
            guard f.length >= l3 &+ ARP.length else { return }
            let arp = p + l3
            // Ethernet/IPv4, hlen 6, plen 4; op 1 (request, gratuitous too) or 2 (reply).
            guard arp.loadBE32(0) == 0x0001_0800, arp.loadBE16(4) == 0x0604 else { return }
            let op = arp.loadBE16(6)
            guard op == ARP.opRequest || op == ARP.opReply else { return }
            return noteLocalNeighbor(bd: bd, ip: IPAddress(v4: ARP.senderIP(arp)), mac: ARP.senderMAC(arp))
        }
        guard f.length >= l3 &+ IPv6.headerLength &+ ICMPv6.ndLength else { return }
        let ip = p + l3
        guard IPv6.nextHeader(ip) == ICMPv6.nextHeader else { return }
        let icmp = ip + IPv6.headerLength
        let type = ICMPv6.type(icmp)
        guard type == ICMPv6.typeNeighborSolicitation || type == ICMPv6.typeNeighborAdvertisement else { return }
        learnND(f, p, bd: bd, type: type)
    }

    /// An NS or NA (RFC 4861 §7.1: hop limit 255, code 0, a valid checksum).
    @usableFromInline mutating func learnND(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer, bd: UInt16, type: UInt8) {
        let ip = p + Ethernet.headerLength, icmp = ip + IPv6.headerLength
        let payload = Int(IPv6.payloadLength(ip))
        guard IPv6.version(ip) == 6, IPv6.hopLimit(ip) == 255, ICMPv6.code(icmp) == 0, payload >= ICMPv6.ndLength,
              payload <= f.length &- Ethernet.headerLength &- IPv6.headerLength else { return }
        let check = Checksum.pseudoHeaderV6(ip, protocol: ICMPv6.nextHeader, length: payload)
        guard Checksum.l4(pseudo: check, icmp, count: payload, udp: false) == 0 else { return }
        let solicitation = type == ICMPv6.typeNeighborSolicitation
        let address = solicitation ? IPv6.source(ip) : ICMPv6.target(icmp)
        // From :: it is duplicate address detection: the address is not the sender's yet.
        guard address.hi | address.lo != 0 else { return }
        let option: UInt8 = solicitation ? ICMPv6.optionSourceLinkLayer : ICMPv6.optionTargetLinkLayer
        let mac = ICMPv6.linkLayerAddress(icmp, length: payload, option: option) ?? Ethernet.source(p)
        noteLocalNeighbor(bd: bd, ip: address, mac: mac)
    }

    /// Sets `ip` → `mac` in `bd` and reports it, unless the table has it already. When the
    /// round's reports are full it is left for a later frame (the table is not changed either).
    @usableFromInline mutating func noteLocalNeighbor(bd: UInt16, ip: IPAddress, mac: MACAddress) {
        guard ip.isUnicast, !(ip.isIPv4 && ip.v4 == 0xFFFF_FFFF), !mac.isMulticast, !mac.isZero,
              neighbors.lookup(bd: bd, ip: ip) != mac, discoveredNeighbors.count < 256,
              neighbors.set(bd: bd, ip: ip, mac: mac) else { return }
        discoveredNeighbors.append(LearnedHost(vni: VNI(unchecked: fdb.vniOfBD[Int(bd)]), ip: ip, mac: mac))
    }
}
