/// A neighbour-table entry as control and show commands see it.
public struct NeighborRow: Sendable, Equatable {
    public var vni: VNI
    public var ip: IPAddress
    public var mac: MACAddress
}

/// ARP/ND suppression: a broadcast ARP request or multicast neighbour solicitation from a
/// local port, for an address the neighbour table knows in the frame's own bridge domain,
/// is answered by the switch — the frame is rewritten in place into the reply and sent back
/// out of the ingress port (a trunk tags it as its egress does) — instead of flooded to
/// every member and VTEP.
///
/// ```
///  receiveLocal ── dst multicast? ── table empty ─────────────────────────────▶ flood
///                        │
///                        ├─ ARP request, sender ≠ target, sender ≠ 0.0.0.0 ─┐
///                        ├─ NS: hop limit 255, code 0, source ≠ ::, valid ─┤ target known in this BD?
///                        │   checksum, room for the NA                       │   no ─────────▶ flood
///                        └─ anything else ───────────────────────────────────┼──────────────▶ flood
///                                                                           yes
///                                          rewrite into ARP reply / NA ─▶ sendLocal(ingress)
/// ```
///
/// Not answered, so that they reach the address's real owner: gratuitous ARP (sender =
/// target), ARP probes (sender 0.0.0.0, RFC 5227) and duplicate address detection (NS from
/// ::). The table holds remote hosts only: the EVPN feed installs an entry with each MAC/IP
/// route — every IP of the MAC (IPv4 and IPv6, several of each), an IP that a newer MAC/IP
/// route gave to another MAC (a floating IP) going to that MAC — and removes them with the MAC's
/// withdrawal (the feed remembers which IPs it installed for a MAC, so a withdrawal costs a
/// lookup per IP, not a table scan); `removeVNI` flushes the domain's entries.
extension SwitchPipeline {
    // MARK: control

    /// Maps `ip` to `mac` in the VNI's domain; false when the VNI is not local, the MAC is not
    /// a unicast address, the IP is unspecified or multicast, or the table is full.
    @discardableResult
    public mutating func installNeighbor(vni: VNI, ip: IPAddress, mac: MACAddress) -> Bool {
        guard let bd = bridgeDomains.index(of: vni), !mac.isMulticast, !mac.isZero, ip.isUnicast else { return false }
        return neighbors.set(bd: bd, ip: ip, mac: mac)
    }

    /// Removes `ip` from the VNI's domain (only while it still maps to `mac`, when given).
    @discardableResult
    public mutating func withdrawNeighbor(vni: VNI, ip: IPAddress, mac: MACAddress? = nil) -> Bool {
        guard let bd = bridgeDomains.index(of: vni) else { return false }
        return neighbors.remove(bd: bd, ip: ip, mac: mac) != nil
    }

    /// The MAC the switch answers with for `ip` in `vni`, or nil.
    public func neighbor(vni: VNI, ip: IPAddress) -> MACAddress? {
        bridgeDomains.index(of: vni).flatMap { neighbors.lookup(bd: $0, ip: ip) }
    }

    /// The neighbour table as rows, by VNI then IP (optionally one VNI).
    public func neighborRows(vni: VNI? = nil) -> [NeighborRow] {
        neighbors.entries().compactMap { e in
            let rowVNI = fdb.vni(ofBD: e.bd)
            if let vni, vni != rowVNI { return nil }
            return NeighborRow(vni: rowVNI, ip: e.ip, mac: e.mac)
        }.sorted { ($0.vni, $0.ip) < ($1.vni, $1.ip) }
    }

    // MARK: data path

    /// Answers the multicast frame `f` (at `p`, untagged, from `port` in domain `bd`) when it
    /// is an ARP request or neighbour solicitation for a known neighbour; true when the frame
    /// was consumed (sent back or dropped with a counted reason), false to flood it.
    @inlinable mutating func answerNeighbor<IO: FrameIO>(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer, bd: UInt16,
                                                         from port: PortID, io: inout IO) -> Bool {
        let l3 = Ethernet.headerLength
        switch Ethernet.etherType(p) {
        case ARP.etherType:
            guard f.length >= l3 &+ ARP.length else { return false }
            let arp = p + l3
            guard ARP.isIPv4Request(arp) else { return false }
            let sender = ARP.senderIP(arp), target = ARP.targetIP(arp)
            guard sender != target, sender != 0 else { return false }
            let mac: MACAddress
            if routing.gatewayCount != 0, let gw = routing.gatewayMAC(bd: bd, answering: IPAddress(v4: target)) {
                // For the anycast gateway: answered, and the asking host learned.
                gleanSource(bd: bd, ip: IPAddress(v4: sender), mac: ARP.senderMAC(arp))
                mac = gw
            } else if let m = neighbors.lookup(bd: bd, ip: IPAddress(v4: target)) {
                mac = m
            } else {
                return false
            }
            let requester = Ethernet.source(p)
            ARP.makeReply(arp, mac: mac)
            Ethernet.write(p, dst: requester, src: mac, type: ARP.etherType)
            if routing.gatewayMACs[Int(bd)] != mac.raw { counters.vnis[Int(bd)].arpSuppressed &+= 1 }
            sendLocal(f, to: port, bd: bd, io: &io)
            return true

        case Ethernet.typeIPv6:
            guard f.length >= l3 &+ IPv6.headerLength &+ ICMPv6.ndLength else { return false }
            let ip = p + l3
            guard IPv6.version(ip) == 6, IPv6.nextHeader(ip) == ICMPv6.nextHeader, IPv6.hopLimit(ip) == 255 else {
                return false
            }
            let payload = IPv6.payloadLength(ip)
            guard payload >= ICMPv6.ndLength, payload <= f.length &- l3 &- IPv6.headerLength else { return false }
            let icmp = ip + IPv6.headerLength
            guard ICMPv6.type(icmp) == ICMPv6.typeNeighborSolicitation, ICMPv6.code(icmp) == 0 else { return false }
            let source = IPv6.source(ip), target = ICMPv6.target(icmp)
            // From :: it is duplicate address detection: the owner must see it.
            guard source.hi | source.lo != 0 else { return false }
            let gateway = routing.gatewayCount != 0 ? routing.gatewayMAC(bd: bd, answering: target) : nil
            guard let mac = gateway ?? neighbors.lookup(bd: bd, ip: target) else { return false }
            let replyLength = l3 &+ IPv6.headerLength &+ ICMPv6.advertisementLength
            guard Int(f.addr & UInt64(io.frameSize &- 1)) &+ replyLength <= io.frameSize else { return false }
            // RFC 4861 §7.1.1: a solicitation with a bad checksum is silently discarded; let the hosts do that.
            let check = Checksum.pseudoHeaderV6(ip, protocol: ICMPv6.nextHeader, length: payload)
            guard Checksum.l4(pseudo: check, icmp, count: payload, udp: false) == 0 else { return false }

            let requester = Ethernet.source(p)
            IPv6.write(ip, payloadLength: ICMPv6.advertisementLength, nextHeader: ICMPv6.nextHeader, hopLimit: 255,
                       source: target, destination: source)
            ICMPv6.writeAdvertisement(icmp, mac: mac)
            if gateway != nil {
                icmp.storeBytes(of: ICMPv6.flagRouter | ICMPv6.flagSolicited | ICMPv6.flagOverride, toByteOffset: 4, as: UInt8.self)
                gleanSource(bd: bd, ip: source, mac: requester)
            }
            let pseudo = Checksum.pseudoHeaderV6(ip, protocol: ICMPv6.nextHeader, length: ICMPv6.advertisementLength)
            icmp.storeBE16(Checksum.l4(pseudo: pseudo, icmp, count: ICMPv6.advertisementLength, udp: false), 2)
            Ethernet.write(p, dst: requester, src: mac, type: Ethernet.typeIPv6)
            if gateway == nil { counters.vnis[Int(bd)].ndSuppressed &+= 1 }
            sendLocal(FrameDescriptor(addr: f.addr, length: replyLength), to: port, bd: bd, io: &io)
            return true

        default:
            return false
        }
    }
}

extension IPAddress {
    /// Neither unspecified (0.0.0.0, ::) nor multicast (224.0.0.0/4, ff00::/8).
    public var isUnicast: Bool {
        if isIPv4 { return v4 != 0 && v4 >> 28 != 0xE }
        return hi | lo != 0 && hi >> 56 != 0xFF
    }
}
