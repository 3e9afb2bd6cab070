/// What the anycast gateway itself sends: ICMP errors (time exceeded, unreachable,
/// fragmentation needed / packet too big), echo replies for its own addresses, ARP requests
/// and neighbour solicitations to resolve a host, and what it does with ARP and ND addressed
/// to it. Every message is written into a frame from the pool (or the request itself, for
/// echo); errors and resolutions are rate limited per VRF (`TokenBucket`, 100 per second).
extension SwitchPipeline {
    /// Drops `f` (from `port` in `bd`) with `reason` and sends an ICMP(v6) error about it back
    /// to its sender, from the gateway's address of its family: never about an ICMP error or a
    /// non-first fragment, at most `RoutingTables.icmpPerSecond` per VRF (the rest counted
    /// `icmp_rate_limited`). A packet that came over the VRF's L3 VNI (`bd` is the L3 VNI's
    /// domain, no gateway of its own) is answered the same way back: from the first gateway
    /// of the VRF with an address of the family (as a router answers from an address of its
    /// own), routed to the sender by the VRF's table — through the L3 VNI to its VTEP's router
    /// MAC when that is where the sender is; otherwise no error is sent.
    @usableFromInline mutating func icmpError<IO: FrameIO>(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer, v4: Bool,
                                                           type: UInt8, code: UInt8, word: UInt32, bd: UInt16, vrf: UInt8,
                                                           from port: PortID, now: UInt32, reason: DropReason, io: inout IO) {
        defer { drop(f, reason, port: port, bd: bd, io: &io) }
        let ip = p + Ethernet.headerLength
        let ipLength = f.length &- Ethernet.headerLength
        let overlay = routing.l3VRFOfBD[Int(bd)] == vrf
        var remote: RouteTable.Hop?
        if overlay {
            let sender = v4 ? IPAddress(v4: IPv4.source(ip)) : IPv6.source(ip)
            guard let hop = routing.routes.lookup(vrf: vrf, sender), hop.kind == .remote else { return }
            remote = hop
        }
        guard let sourceBD = overlay ? icmpSourceBD(vrf: vrf, v4: v4) : bd else { return }
        let g = routing.gateways[Int(sourceBD)]
        if v4 {
            let ihl = IPv4.ihlBytes(ip)
            guard g.length4 != 0xFF, ip.loadBE16(6) & 0x1FFF == 0 else { return }
            if IPv4.protocolNumber(ip) == ICMP.protocolNumber {
                guard ipLength > ihl else { return }
                let t = ip.load(fromByteOffset: ihl, as: UInt8.self)
                guard t == ICMP.typeEchoRequest || t == ICMP.typeEchoReply else { return }
            }
        } else {
            guard g.length6 != 0xFF else { return }
            if IPv6.nextHeader(ip) == ICMPv6.nextHeader {
                guard ipLength > IPv6.headerLength, ip.load(fromByteOffset: IPv6.headerLength, as: UInt8.self) >= 128 else { return }
            }
        }
        guard routing.icmpBuckets[Int(vrf)].take(now: now, rate: RoutingTables.icmpPerSecond) else {
            return count(.icmpRateLimited, port: port, bd: bd)
        }
        let headers = Ethernet.headerLength &+ (v4 ? IPv4.headerLength : IPv6.headerLength) &+ ICMP.headerLength
        let room = io.frameSize &- io.allocationHeadroom &- headers
        let quote = min(ipLength, (v4 ? ICMP.maxErrorV4 : ICMP.maxErrorV6) &- (headers &- Ethernet.headerLength), room)
        guard quote > 0, let base = io.allocateFrame() else { return count(.noBuffer, port: port, bd: bd) }
        let addr = base &+ UInt64(io.allocationHeadroom)
        let q = io.memory + Int(addr)
        let icmpLength = ICMP.headerLength &+ quote
        // Back the way it came: to the sender's MAC from the gateway's, or to the remote router
        // MAC from ours.
        Ethernet.write(q, dst: remote?.mac ?? Ethernet.source(p), src: remote == nil ? g.mac : routing.routerMACs[Int(vrf)],
                       type: v4 ? Ethernet.typeIPv4 : Ethernet.typeIPv6)
        let qip = q + Ethernet.headerLength
        let icmp: UnsafeMutableRawPointer
        if v4 {
            IPv4.write(qip, totalLength: IPv4.headerLength &+ icmpLength, protocol: ICMP.protocolNumber,
                       source: g.v4.v4, destination: IPv4.source(ip))
            icmp = qip + IPv4.headerLength
        } else {
            IPv6.write(qip, payloadLength: icmpLength, nextHeader: ICMPv6.nextHeader, source: g.v6,
                       destination: IPv6.source(ip))
            icmp = qip + IPv6.headerLength
        }
        icmp.storeBE32(UInt32(type) << 24 | UInt32(code) << 16, 0)
        icmp.storeBE32(word, 4)
        (icmp + ICMP.headerLength).copyMemory(from: ip, byteCount: quote)
        let check = v4 ? Checksum.internet(icmp, count: icmpLength)
            : Checksum.l4(pseudo: Checksum.pseudoHeaderV6(qip, protocol: ICMPv6.nextHeader, length: icmpLength), icmp,
                          count: icmpLength, udp: false)
        icmp.storeBE16(check, 2)
        counters.vnis[Int(bd)].icmpErrors &+= 1
        let error = FrameDescriptor(addr: addr, length: headers &+ quote)
        if let remote {
            sendRemote(error, vtep: remote.index, bd: bd, hash: FlowHash.hash(q, length: error.length), io: &io)
        } else {
            sendLocal(error, to: port, bd: bd, io: &io)
        }
    }

    /// The first bridge domain of `vrf` whose gateway has an address of the family: where an
    /// error about a packet from the L3 VNI comes from. Only on the (rate-limited) error path.
    @usableFromInline func icmpSourceBD(vrf: UInt8, v4: Bool) -> UInt16? {
        for (bd, g) in routing.gateways.enumerated() where g.vrf == vrf && (v4 ? g.length4 : g.length6) != 0xFF {
            return UInt16(bd)
        }
        return nil
    }

    /// A routed packet larger than the way out's MTU: never fragmented. IPv4 with DF and IPv6
    /// get ICMP fragmentation needed / packet too big with `mtu`; all are dropped `too_big`.
    @usableFromInline mutating func tooBig<IO: FrameIO>(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer, v4: Bool, mtu: Int,
                                                        bd: UInt16, vrf: UInt8, from port: PortID, now: UInt32, io: inout IO) {
        let m = UInt32(truncatingIfNeeded: max(mtu, 0))
        if v4 {
            guard (p + Ethernet.headerLength).loadBE16(6) & IPv4.flagDF != 0 else { return drop(f, .tooBig, port: port, bd: bd, io: &io) }
            icmpError(f, p, v4: true, type: ICMP.typeUnreachable, code: ICMP.codeFragmentationNeeded, word: m & 0xFFFF,
                      bd: bd, vrf: vrf, from: port, now: now, reason: .tooBig, io: &io)
        } else {
            icmpError(f, p, v4: false, type: ICMP.v6PacketTooBig, code: 0, word: m, bd: bd, vrf: vrf, from: port, now: now,
                      reason: .tooBig, io: &io)
        }
    }

    /// Asks the hosts of `bd` who has `ip`: an ARP request (IPv4) or a neighbour solicitation
    /// to the solicited-node group (IPv6) from the gateway, to local ports only (the gateway
    /// MAC never enters the overlay). Rate limited per VRF. The answer comes to the gateway MAC
    /// and is learned (`gatewayARP`, `gatewayLocalV6`).
    @usableFromInline mutating func resolveHost<IO: FrameIO>(_ ip: IPAddress, bd: UInt16, vrf: UInt8, now: UInt32,
                                                             io: inout IO) {
        let g = routing.gateways[Int(bd)]
        guard g.vrf != RoutingTables.noVRF, ip.isIPv4 ? g.length4 != 0xFF : g.length6 != 0xFF,
              routing.resolveBuckets[Int(vrf)].take(now: now, rate: RoutingTables.resolvesPerSecond),
              let base = io.allocateFrame() else { return }
        let addr = base &+ UInt64(io.allocationHeadroom)
        let q = io.memory + Int(addr)
        let length: Int
        if ip.isIPv4 {
            Ethernet.write(q, dst: .broadcast, src: g.mac, type: ARP.etherType)
            let arp = q + Ethernet.headerLength
            arp.storeBE32(0x0001_0800, 0)
            arp.storeBE32(0x0604_0000 | UInt32(ARP.opRequest), 4)
            g.mac.store(to: arp + 8)
            arp.storeBE32(g.v4.v4, 14)
            (arp + 18).initializeMemory(as: UInt8.self, repeating: 0, count: 6)
            arp.storeBE32(ip.v4, 24)
            (arp + ARP.length).initializeMemory(as: UInt8.self, repeating: 0, count: 60 &- Ethernet.headerLength &- ARP.length)
            length = 60
        } else {
            let low = ip.lo & 0xFF_FFFF
            let group = IPAddress(hi: 0xFF02_0000_0000_0000, lo: 0x0000_0001_FF00_0000 | low)
            Ethernet.write(q, dst: MACAddress(raw: 0x3333_FF00_0000 | low), src: g.mac, type: Ethernet.typeIPv6)
            let ip6 = q + Ethernet.headerLength
            let nsLength = ICMPv6.ndLength &+ 8
            IPv6.write(ip6, payloadLength: nsLength, nextHeader: ICMPv6.nextHeader, hopLimit: 255, source: g.v6,
                       destination: group)
            let icmp = ip6 + IPv6.headerLength
            icmp.storeBE32(UInt32(ICMPv6.typeNeighborSolicitation) << 24, 0)
            icmp.storeBE32(0, 4)
            ip.storeV6(to: icmp + 8)
            icmp.storeBE16(0x0101, 24) // source link-layer address option, 1 × 8 bytes
            g.mac.store(to: icmp + 26)
            icmp.storeBE16(Checksum.l4(pseudo: Checksum.pseudoHeaderV6(ip6, protocol: ICMPv6.nextHeader, length: nsLength),
                                       icmp, count: nsLength, udp: false), 2)
            length = Ethernet.headerLength &+ IPv6.headerLength &+ nsLength
        }
        flood(FrameDescriptor(addr: addr, length: length), bd: bd, from: underlay.uplink, toOverlay: false, io: &io)
    }

    /// An ARP frame to the gateway MAC: a request is answered (a host checking its gateway
    /// entry), a reply's sender is learned; everything else is consumed (`for_gateway`).
    @usableFromInline mutating func gatewayARP<IO: FrameIO>(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer, bd: UInt16,
                                                            from port: PortID, io: inout IO) {
        guard f.length >= Ethernet.headerLength &+ ARP.length else { return drop(f, .notRoutable, port: port, bd: bd, io: &io) }
        if answerNeighbor(f, p, bd: bd, from: port, io: &io) { return }
        let arp = p + Ethernet.headerLength
        if arp.loadBE32(0) == 0x0001_0800, arp.loadBE32(4) == 0x0604_0000 | UInt32(ARP.opReply) {
            gleanSource(bd: bd, ip: IPAddress(v4: ARP.senderIP(arp)), mac: ARP.senderMAC(arp))
        }
        drop(f, .forGateway, port: port, bd: bd, io: &io)
    }

    /// IPv4 to the gateway's own address: an echo request is answered, the rest consumed.
    @usableFromInline mutating func gatewayLocalV4<IO: FrameIO>(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer, bd: UInt16,
                                                                from port: PortID, io: inout IO) {
        let ip = p + Ethernet.headerLength
        let ihl = IPv4.ihlBytes(ip)
        guard IPv4.protocolNumber(ip) == ICMP.protocolNumber, !IPv4.isFragment(ip),
              f.length >= Ethernet.headerLength &+ ihl &+ ICMP.headerLength,
              ip.load(fromByteOffset: ihl, as: UInt8.self) == ICMP.typeEchoRequest else {
            return drop(f, .forGateway, port: port, bd: bd, io: &io)
        }
        let icmp = ip + ihl
        icmp.storeBytes(of: ICMP.typeEchoReply, as: UInt8.self)
        // The word type|code drops by 0x0800 (RFC 1624): HC' = ~(~HC + ~0x0800).
        icmp.storeBE16(~Checksum.add(~icmp.loadBE16(2), ~UInt16(0x0800)), 2)
        let requester = ip.loadBE32(12)
        ip.storeBE32(ip.loadBE32(16), 12)
        ip.storeBE32(requester, 16)
        ip.storeBytes(of: UInt8(64), toByteOffset: 8, as: UInt8.self)
        ip.storeBE16(0, 10)
        ip.storeBE16(Checksum.ipv4Header(ip, length: ihl), 10)
        Ethernet.write(p, dst: Ethernet.source(p), src: routing.gateways[Int(bd)].mac, type: Ethernet.typeIPv4)
        sendLocal(f, to: port, bd: bd, io: &io)
    }

    /// IPv6 to the gateway's own address: a neighbour solicitation is answered, an
    /// advertisement's target learned, an echo request answered; the rest consumed.
    @usableFromInline mutating func gatewayLocalV6<IO: FrameIO>(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer, bd: UInt16,
                                                                from port: PortID, io: inout IO) {
        let ip = p + Ethernet.headerLength
        let payload = f.length &- Ethernet.headerLength &- IPv6.headerLength
        guard IPv6.nextHeader(ip) == ICMPv6.nextHeader, payload >= ICMP.headerLength else {
            return drop(f, .forGateway, port: port, bd: bd, io: &io)
        }
        let icmp = ip + IPv6.headerLength
        switch ICMPv6.type(icmp) {
        case ICMPv6.typeNeighborSolicitation:
            if answerNeighbor(f, p, bd: bd, from: port, io: &io) { return }
        case ICMPv6.typeNeighborAdvertisement:
            if payload >= ICMPv6.ndLength && IPv6.hopLimit(ip) == 255 {
                gleanSource(bd: bd, ip: ICMPv6.target(icmp), mac: Ethernet.source(p))
            }
        case ICMP.v6EchoRequest:
            icmp.storeBytes(of: ICMP.v6EchoReply, as: UInt8.self)
            // type|code 0x8000 → 0x8100; the pseudo-header sum is unchanged by the swap below.
            icmp.storeBE16(~Checksum.add(Checksum.add(~icmp.loadBE16(2), ~UInt16(0x8000)), 0x8100), 2)
            let requester = IPv6.source(ip)
            IPv6.destination(ip).storeV6(to: ip + 8)
            requester.storeV6(to: ip + 24)
            ip.storeBytes(of: UInt8(64), toByteOffset: 7, as: UInt8.self)
            Ethernet.write(p, dst: Ethernet.source(p), src: routing.gateways[Int(bd)].mac, type: Ethernet.typeIPv6)
            return sendLocal(f, to: port, bd: bd, io: &io)
        default:
            break
        }
        drop(f, .forGateway, port: port, bd: bd, io: &io)
    }
}
