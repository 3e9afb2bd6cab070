/// Routing on the host, data side (symmetric IRB with a distributed anycast gateway).
///
/// ```
///  receiveLocal ─ FDB miss, dst = the domain's gateway MAC ─▶ routeLocal
///     ARP to the gateway: request → answered (answerNeighbor), reply → sender learned, consumed
///     IPv4 / IPv6: header checks, source learned as a local host (in the subnet)
///       to the gateway's own address: echo → reply, NS → NA, NA → learned; else consumed
///       TTL / hop limit ≤ 1 ─────────────────▶ ICMP time exceeded (rate limited), drop ttl_exceeded
///       LPM in the ingress domain's VRF: none ▶ ICMP unreachable, drop no_route
///         connected / host: host MAC (learned hosts, then neighbours; none: ARP/NS sent, drop
///           neighbor_unresolved) → FDB in the destination domain:
///             port → MTU (ICMP frag needed / PTB) → TTL−1 → MACs := host, gateway → sendLocal
///             vtep → the same, bridged to it in the L2 VNI (source: our router MAC)
///         remote: MTU → TTL−1 → MACs := remote router MAC, our router MAC → sendRemote in the L3 VNI
///  receiveOverlay ─ FDB miss in an L3 VNI's domain ─▶ routeOverlay: dst must be our router MAC;
///       LPM in that VRF → a local host only (never back to the overlay) → TTL−1 → sendLocal
/// ```
///
/// Nothing here runs for a bridged frame: the gateway-MAC check sits on the FDB-miss branch,
/// where the frame would otherwise be flooded. No allocation: an ICMP error or ARP/NS request
/// is written into a frame from the pool.
extension SwitchPipeline {
    /// A frame from a local port in domain `bd` addressed to its gateway MAC.
    @inlinable mutating func routeLocal<IO: FrameIO>(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer, bd: UInt16,
                                                     from port: PortID, now: UInt32, io: inout IO) {
        switch Ethernet.etherType(p) {
        case Ethernet.typeIPv4: routeLocalV4(f, p, bd: bd, from: port, now: now, io: &io)
        case Ethernet.typeIPv6: routeLocalV6(f, p, bd: bd, from: port, now: now, io: &io)
        case ARP.etherType: gatewayARP(f, p, bd: bd, from: port, io: &io)
        default: drop(f, .notRoutable, port: port, bd: bd, io: &io)
        }
    }

    @inlinable mutating func routeLocalV4<IO: FrameIO>(_ frame: FrameDescriptor, _ p: UnsafeMutableRawPointer, bd: UInt16,
                                                       from port: PortID, now: UInt32, io: inout IO) {
        var f = frame
        let l3 = Ethernet.headerLength
        guard let total = validIPv4(f, p) else { return drop(f, .badIPHeader, port: port, bd: bd, io: &io) }
        let ip = p + l3
        guard IPv4.checksumValid(ip, ihl: IPv4.ihlBytes(ip)) else { return drop(f, .badIPChecksum, port: port, bd: bd, io: &io) }
        f.length = l3 &+ total // Ethernet padding goes
        let src = IPAddress(v4: IPv4.source(ip)), dst = IPAddress(v4: IPv4.destination(ip))
        guard IPv4.isUnicastSource(src.v4), dst.isUnicast, dst.v4 != 0xFFFF_FFFF else {
            return drop(f, .notRoutable, port: port, bd: bd, io: &io)
        }
        gleanSource(bd: bd, ip: src, mac: Ethernet.source(p))
        if routing.gatewayMAC(bd: bd, answering: dst) != nil { return gatewayLocalV4(f, p, bd: bd, from: port, io: &io) }
        let vrf = routing.gateways[Int(bd)].vrf
        guard ip.load(fromByteOffset: 8, as: UInt8.self) > 1 else {
            return icmpError(f, p, v4: true, type: ICMP.typeTimeExceeded, code: 0, word: 0, bd: bd, vrf: vrf,
                             from: port, now: now, reason: .ttlExceeded, io: &io)
        }
        guard let hop = routing.routes.lookup(vrf: vrf, dst) else {
            return icmpError(f, p, v4: true, type: ICMP.typeUnreachable, code: ICMP.codeNetUnreachable, word: 0, bd: bd,
                             vrf: vrf, from: port, now: now, reason: .noRoute, io: &io)
        }
        forward(f, p, dst: dst, hop: hop, vrf: vrf, bd: bd, from: port, now: now, io: &io)
    }

    @inlinable mutating func routeLocalV6<IO: FrameIO>(_ frame: FrameDescriptor, _ p: UnsafeMutableRawPointer, bd: UInt16,
                                                       from port: PortID, now: UInt32, io: inout IO) {
        var f = frame
        let l3 = Ethernet.headerLength
        guard let payload = validIPv6(f, p) else { return drop(f, .badIPHeader, port: port, bd: bd, io: &io) }
        f.length = l3 &+ IPv6.headerLength &+ payload
        let ip = p + l3
        let src = IPv6.source(ip), dst = IPv6.destination(ip)
        guard IPv6.isUnicastSource(src), dst.isUnicast else { return drop(f, .notRoutable, port: port, bd: bd, io: &io) }
        if routing.gatewayMAC(bd: bd, answering: dst) != nil {
            return gatewayLocalV6(f, p, bd: bd, from: port, io: &io)
        }
        // Link-local addresses are never routed (RFC 4291 §2.5.6).
        guard !src.isLinkLocalV6, !dst.isLinkLocalV6 else { return drop(f, .notRoutable, port: port, bd: bd, io: &io) }
        gleanSource(bd: bd, ip: src, mac: Ethernet.source(p))
        let vrf = routing.gateways[Int(bd)].vrf
        guard IPv6.hopLimit(ip) > 1 else {
            return icmpError(f, p, v4: false, type: ICMP.v6TimeExceeded, code: 0, word: 0, bd: bd, vrf: vrf,
                             from: port, now: now, reason: .ttlExceeded, io: &io)
        }
        guard let hop = routing.routes.lookup(vrf: vrf, dst) else {
            return icmpError(f, p, v4: false, type: ICMP.v6Unreachable, code: 0, word: 0, bd: bd, vrf: vrf,
                             from: port, now: now, reason: .noRoute, io: &io)
        }
        forward(f, p, dst: dst, hop: hop, vrf: vrf, bd: bd, from: port, now: now, io: &io)
    }

    /// Sends a routed packet (`f` trimmed to its IP length) on along `hop`.
    @inlinable mutating func forward<IO: FrameIO>(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer, dst: IPAddress,
                                                  hop: RouteTable.Hop, vrf: UInt8, bd: UInt16, from port: PortID,
                                                  now: UInt32, io: inout IO) {
        let v4 = dst.isIPv4
        let ipLength = f.length &- Ethernet.headerLength
        if hop.kind == .remote {
            let l3BD = routing.l3BDs[Int(vrf)]
            guard l3BD != PortTable.noBD else { return drop(f, .noRoute, port: port, bd: bd, io: &io) }
            let remote = Int(hop.index) < vteps.slots.count ? vteps.slots[Int(hop.index)].ip : dst
            let mtu = underlay.uplinkMTU &- Encap.outerIPLength(innerLength: Ethernet.headerLength, toward: remote)
            if ipLength > mtu { return tooBig(f, p, v4: v4, mtu: mtu, bd: bd, vrf: vrf, from: port, now: now, io: &io) }
            decrementTTL(p, v4: v4)
            Ethernet.write(p, dst: hop.mac, src: routing.routerMACs[Int(vrf)], type: v4 ? Ethernet.typeIPv4 : Ethernet.typeIPv6)
            counters.vnis[Int(bd)].routed &+= 1
            return sendRemote(f, vtep: hop.index, bd: l3BD, hash: FlowHash.hash(p, length: f.length), io: &io)
        }
        let outBD = hop.index
        let mac: MACAddress
        if hop.kind == .host {
            mac = hop.mac
        } else if let m = routing.hosts.lookup(bd: outBD, ip: dst) ?? neighbors.lookup(bd: outBD, ip: dst) {
            mac = m
        } else {
            resolveHost(dst, bd: outBD, vrf: vrf, now: now, io: &io)
            return drop(f, .neighborUnresolved, port: port, bd: bd, io: &io)
        }
        switch fdb.lookup(bd: outBD, mac: mac) {
        case .port(let out)?:
            let mtu = ports.contains(out) ? ports.slots[Int(out.raw)].maxFrame &- Ethernet.headerLength : 0
            if ipLength > mtu { return tooBig(f, p, v4: v4, mtu: mtu, bd: bd, vrf: vrf, from: port, now: now, io: &io) }
            decrementTTL(p, v4: v4)
            Ethernet.write(p, dst: mac, src: routing.gateways[Int(outBD)].mac, type: v4 ? Ethernet.typeIPv4 : Ethernet.typeIPv6)
            counters.vnis[Int(bd)].routed &+= 1
            sendLocal(f, to: out, bd: outBD, io: &io)
        case .vtep(let t)?:
            // Known behind a remote VTEP in the L2 VNI (no host route through the L3 VNI):
            // bridged to it there, from our router MAC (never the shared gateway MAC).
            let remote = Int(t) < vteps.slots.count ? vteps.slots[Int(t)].ip : dst
            let mtu = underlay.uplinkMTU &- Encap.outerIPLength(innerLength: Ethernet.headerLength, toward: remote)
            if ipLength > mtu { return tooBig(f, p, v4: v4, mtu: mtu, bd: bd, vrf: vrf, from: port, now: now, io: &io) }
            decrementTTL(p, v4: v4)
            Ethernet.write(p, dst: mac, src: routing.routerMACs[Int(vrf)], type: v4 ? Ethernet.typeIPv4 : Ethernet.typeIPv6)
            counters.vnis[Int(bd)].routed &+= 1
            sendRemote(f, vtep: t, bd: outBD, hash: FlowHash.hash(p, length: f.length), io: &io)
        case nil:
            // The MAC aged out of the FDB: ask the host again (its answer is learned), drop this one.
            resolveHost(dst, bd: outBD, vrf: vrf, now: now, io: &io)
            drop(f, .neighborUnresolved, port: port, bd: bd, io: &io)
        }
    }

    /// A decapsulated frame in an L3 VNI's domain `bd` that the FDB does not know: routed when
    /// it is addressed to the VRF's router MAC, to a local host only (split horizon).
    @inlinable mutating func routeOverlay<IO: FrameIO>(_ frame: FrameDescriptor, _ p: UnsafeMutableRawPointer, bd: UInt16,
                                                       vrf: UInt8, port: PortID, now: UInt32, io: inout IO) {
        var f = frame
        guard Ethernet.destination(p) == routing.routerMACs[Int(vrf)] else {
            return drop(f, .notRoutable, port: port, bd: bd, io: &io)
        }
        let dst: IPAddress, v4: Bool, hopLimit: UInt8
        let ip = p + Ethernet.headerLength
        switch Ethernet.etherType(p) {
        case Ethernet.typeIPv4:
            guard let total = validIPv4(f, p) else { return drop(f, .badIPHeader, port: port, bd: bd, io: &io) }
            guard IPv4.checksumValid(ip, ihl: IPv4.ihlBytes(ip)) else { return drop(f, .badIPChecksum, port: port, bd: bd, io: &io) }
            f.length = Ethernet.headerLength &+ total
            dst = IPAddress(v4: IPv4.destination(ip)); v4 = true
            hopLimit = ip.load(fromByteOffset: 8, as: UInt8.self)
        case Ethernet.typeIPv6:
            guard let payload = validIPv6(f, p) else { return drop(f, .badIPHeader, port: port, bd: bd, io: &io) }
            f.length = Ethernet.headerLength &+ IPv6.headerLength &+ payload
            dst = IPv6.destination(ip); v4 = false
            hopLimit = IPv6.hopLimit(ip)
        default:
            return drop(f, .notRoutable, port: port, bd: bd, io: &io)
        }
        guard dst.isUnicast else { return drop(f, .notRoutable, port: port, bd: bd, io: &io) }
        // Errors go back through the L3 VNI to the sender's VTEP (`icmpError`).
        guard hopLimit > 1 else {
            return icmpError(f, p, v4: v4, type: v4 ? ICMP.typeTimeExceeded : ICMP.v6TimeExceeded, code: 0, word: 0, bd: bd,
                             vrf: vrf, from: port, now: now, reason: .ttlExceeded, io: &io)
        }
        guard let hop = routing.routes.lookup(vrf: vrf, dst) else {
            return icmpError(f, p, v4: v4, type: v4 ? ICMP.typeUnreachable : ICMP.v6Unreachable,
                             code: v4 ? ICMP.codeNetUnreachable : 0, word: 0, bd: bd, vrf: vrf, from: port, now: now,
                             reason: .noRoute, io: &io)
        }
        guard hop.kind != .remote else { return drop(f, .splitHorizon, port: port, bd: bd, io: &io) }
        let outBD = hop.index
        let mac: MACAddress
        if hop.kind == .host {
            mac = hop.mac
        } else if let m = routing.hosts.lookup(bd: outBD, ip: dst) {
            mac = m
        } else {
            resolveHost(dst, bd: outBD, vrf: vrf, now: now, io: &io)
            return drop(f, .neighborUnresolved, port: port, bd: bd, io: &io)
        }
        guard case .port(let out)? = fdb.lookup(bd: outBD, mac: mac) else {
            return drop(f, .splitHorizon, port: port, bd: bd, io: &io)
        }
        let mtu = ports.contains(out) ? ports.slots[Int(out.raw)].maxFrame &- Ethernet.headerLength : 0
        if f.length &- Ethernet.headerLength > mtu { return tooBig(f, p, v4: v4, mtu: mtu, bd: bd, vrf: vrf, from: port, now: now, io: &io) }
        decrementTTL(p, v4: v4)
        Ethernet.write(p, dst: mac, src: routing.gateways[Int(outBD)].mac, type: v4 ? Ethernet.typeIPv4 : Ethernet.typeIPv6)
        counters.vnis[Int(bd)].routed &+= 1
        sendLocal(f, to: out, bd: outBD, io: &io)
    }

    // MARK: helpers

    /// The IPv4 total length when the header at `p + 14` is sound (version, IHL, lengths).
    @inlinable func validIPv4(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer) -> Int? {
        let l3 = Ethernet.headerLength
        guard f.length >= l3 &+ IPv4.headerLength else { return nil }
        let ip = p + l3
        let ihl = IPv4.ihlBytes(ip), total = IPv4.totalLength(ip)
        guard IPv4.version(ip) == 4, ihl >= IPv4.headerLength, total >= ihl, total <= f.length &- l3 else { return nil }
        return total
    }

    /// The IPv6 payload length when the header at `p + 14` is sound.
    @inlinable func validIPv6(_ f: FrameDescriptor, _ p: UnsafeMutableRawPointer) -> Int? {
        let l3 = Ethernet.headerLength
        guard f.length >= l3 &+ IPv6.headerLength else { return nil }
        let ip = p + l3
        let payload = IPv6.payloadLength(ip)
        guard IPv6.version(ip) == 6, payload <= f.length &- l3 &- IPv6.headerLength else { return nil }
        return payload
    }

    /// TTL − 1 with the header checksum updated incrementally (RFC 1624 eqn. 3: the 16-bit
    /// word TTL|protocol drops by 0x0100, so HC' = ~(~HC + 0xFEFF)); IPv6: hop limit − 1.
    @inlinable func decrementTTL(_ p: UnsafeMutableRawPointer, v4: Bool) {
        let ip = p + Ethernet.headerLength
        if v4 {
            ip.storeBytes(of: ip.load(fromByteOffset: 8, as: UInt8.self) &- 1, toByteOffset: 8, as: UInt8.self)
            ip.storeBE16(~Checksum.add(~ip.loadBE16(10), 0xFEFF), 10)
        } else {
            ip.storeBytes(of: IPv6.hopLimit(ip) &- 1, toByteOffset: 7, as: UInt8.self)
        }
    }

    /// Learns a routed packet's source as a local host of `bd` (in its subnet), reporting a new
    /// or changed one to the owner.
    @usableFromInline mutating func gleanSource(bd: UInt16, ip: IPAddress, mac: MACAddress) {
        guard routing.hosts.lookup(bd: bd, ip: ip) != mac, routing.isHostAddress(bd: bd, ip),
              !mac.isMulticast, !mac.isZero else { return }
        if routing.hosts.set(bd: bd, ip: ip, mac: mac) { noteHost(bd: bd, ip: ip, mac: mac) }
    }

    /// Remembers a learned host for the owner (at most 256 per report round).
    @usableFromInline mutating func noteHost(bd: UInt16, ip: IPAddress, mac: MACAddress) {
        guard discoveredHosts.count < 256 else { return }
        discoveredHosts.append(LearnedHost(vni: VNI(unchecked: fdb.vniOfBD[Int(bd)]), ip: ip, mac: mac))
    }
}

/// A local host a gateway learned, on its way to the owner (`DataplaneReport.hostLearned`).
public struct LearnedHost: Sendable, Equatable {
    public var vni: VNI
    public var ip: IPAddress
    public var mac: MACAddress
    @inlinable public init(vni: VNI, ip: IPAddress, mac: MACAddress) { self.vni = vni; self.ip = ip; self.mac = mac }
}

extension IPAddress {
    /// fe80::/10.
    @inlinable public var isLinkLocalV6: Bool { !isIPv4 && hi >> 54 == 0x3FA }
}
