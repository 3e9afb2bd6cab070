/// Routing on the host, control side: tenant VRFs, anycast gateways, routes and learned
/// hosts, all reached through `TableUpdate`s (`Pipeline+Updates.swift`). The data path is in
/// `Pipeline+RoutedPath.swift`, ICMP errors and host resolution in `Pipeline+ICMP.swift`.
///
/// ```
///  .addVRF(l3VNI, routerMAC)   VRF slot + a bridge domain for the L3 VNI (no ports, no learning)
///  .setGateway(vni, gw)        bridge domain → VRF, gateway MAC/addresses, connected routes
///  .installRoute(l3VNI, prefix, hop)   connected / host (a local L2 VNI of the same VRF) / remote VTEP
///  .learnHost(vni, ip, mac)    a local host a worker's gateway learned (fanned out by the owner)
/// ```
///
/// No route crosses VRFs: a connected or host route names an L2 VNI, which must belong to the
/// route's VRF; a packet is looked up in the VRF of the domain it arrived in.
extension SwitchPipeline {
    // MARK: VRFs

    /// Creates or updates the VRF of L3 VNI `vni`; false when the VNI is already an L2 VNI,
    /// or the VRF or bridge-domain table is full.
    @discardableResult
    public mutating func addVRF(_ vni: VNI, routerMAC: MACAddress) -> Bool {
        guard !routerMAC.isMulticast, !routerMAC.isZero else { return false }
        if let v = routing.index(ofVRF: vni) {
            routing.vrfs[Int(v)].routerMAC = routerMAC
            routing.routerMACs[Int(v)] = routerMAC
            return true
        }
        guard bridgeDomains.index(of: vni) == nil else { return false }
        let slot = routing.vrfs.firstIndex { !$0.active } ?? routing.vrfs.count
        guard slot < routing.vrfCapacity, let bd = addVNI(vni, learnRemote: false) else { return false }
        let vrf = RoutingTables.VRF(l3VNI: vni, routerMAC: routerMAC, l3BD: bd, active: true)
        if slot == routing.vrfs.count { routing.vrfs.append(vrf) } else { routing.vrfs[slot] = vrf }
        routing.routerMACs[slot] = routerMAC
        routing.l3BDs[slot] = bd
        routing.l3VRFOfBD[Int(bd)] = UInt8(slot)
        routing.icmpBuckets[slot] = TokenBucket(rate: RoutingTables.icmpPerSecond)
        routing.resolveBuckets[slot] = TokenBucket(rate: RoutingTables.resolvesPerSecond)
        return true
    }

    /// Removes a VRF: its routes, its L2 VNIs' gateways (and learned hosts) and its L3 VNI.
    @discardableResult
    public mutating func removeVRF(_ vni: VNI) -> Bool {
        guard let v = routing.index(ofVRF: vni) else { return false }
        for bd in routing.gateways.indices where routing.gateways[bd].vrf == v { clearGateway(bd: UInt16(bd)) }
        routing.routes.removeAll { vrf, _, _ in vrf == v }
        let bd = routing.l3BDs[Int(v)]
        routing.l3VRFOfBD[Int(bd)] = RoutingTables.noVRF
        routing.vrfs[Int(v)].active = false
        routing.l3BDs[Int(v)] = PortTable.noBD
        removeVNI(vni)
        return true
    }

    // MARK: gateways

    /// Puts L2 VNI `vni` in a VRF with its anycast gateway (nil: out of any VRF). False when
    /// the VNI or the VRF does not exist, or the VNI is an L3 VNI.
    @discardableResult
    public mutating func setGateway(vni: VNI, _ gateway: Gateway?) -> Bool {
        guard let bd = bridgeDomains.index(of: vni), routing.l3VRFOfBD[Int(bd)] == RoutingTables.noVRF else { return false }
        guard let gateway else {
            guard routing.gateways[Int(bd)].vrf != RoutingTables.noVRF else { return false }
            clearGateway(bd: bd)
            return true
        }
        guard let v = routing.index(ofVRF: gateway.vrf), !gateway.mac.isMulticast, !gateway.mac.isZero,
              gateway.ipv4.map(\.address.isIPv4) ?? true, gateway.ipv6.map({ !$0.address.isIPv4 }) ?? true
        else { return false }
        if routing.gateways[Int(bd)].vrf != v { clearGateway(bd: bd) } else { removeConnected(bd: bd) }
        var g = RoutingTables.GatewaySlot()
        g.vrf = v
        g.mac = gateway.mac
        if let a = gateway.ipv4 { g.v4 = a.address; g.length4 = a.length }
        if let a = gateway.ipv6 { g.v6 = a.address; g.length6 = a.length }
        if routing.gateways[Int(bd)].vrf == RoutingTables.noVRF { routing.gatewayCount += 1 }
        routing.gateways[Int(bd)] = g
        routing.gatewayMACs[Int(bd)] = gateway.mac.raw
        for prefix in [gateway.ipv4?.prefix, gateway.ipv6?.prefix].compactMap({ $0 }) {
            routing.routes.set(vrf: v, prefix, RouteTable.Hop(kind: .connected, index: bd, mac: MACAddress(raw: 0)))
        }
        // Learned hosts outside the new subnets go.
        let stale = routing.hosts.entries().filter { $0.bd == bd && !routing.isHostAddress(bd: bd, $0.ip) }
        for h in stale { routing.hosts.remove(bd: bd, ip: h.ip) }
        return true
    }

    /// The gateway of `vni`, or nil.
    public func gateway(vni: VNI) -> Gateway? { bridgeDomains.index(of: vni).flatMap { routing.gateway(bd: $0) } }

    /// Takes a bridge domain out of its VRF: gateway, connected and host routes into it, learned hosts.
    mutating func clearGateway(bd: UInt16) {
        let i = Int(bd)
        if routing.gateways[i].vrf != RoutingTables.noVRF { routing.gatewayCount -= 1 }
        routing.routes.removeAll { _, _, hop in hop.kind != .remote && hop.index == bd }
        routing.gateways[i] = RoutingTables.GatewaySlot()
        routing.gatewayMACs[i] = 0
        routing.hosts.flush(bd: bd)
    }

    mutating func removeConnected(bd: UInt16) {
        routing.routes.removeAll { _, _, hop in hop.kind == .connected && hop.index == bd }
    }

    /// A bridge domain is going away (`removeVNI`): nothing routes into it any more.
    mutating func forgetRouting(bd: UInt16) {
        if routing.gateways[Int(bd)].vrf != RoutingTables.noVRF { clearGateway(bd: bd) }
        let v = routing.l3VRFOfBD[Int(bd)]
        if v != RoutingTables.noVRF {
            routing.routes.removeAll { vrf, _, _ in vrf == v }
            routing.vrfs[Int(v)].active = false
            routing.l3BDs[Int(v)] = PortTable.noBD
            routing.l3VRFOfBD[Int(bd)] = RoutingTables.noVRF
        }
    }

    /// A VTEP is going away (`removeVTEP`): routes toward it go too.
    mutating func forgetRoutes(vtep v: UInt16) {
        routing.routes.removeAll { _, _, hop in hop.kind == .remote && hop.index == v }
    }

    // MARK: routes

    /// Installs (or replaces) a route in the VRF of L3 VNI `vrf`. False when the VRF does not
    /// exist, a connected/host route names an L2 VNI outside that VRF, the prefix is of a
    /// family the next hop cannot carry, or the table is full.
    @discardableResult
    public mutating func installRoute(vrf vni: VNI, _ prefix: IPPrefix, _ nextHop: RouteNextHop) -> Bool {
        guard let v = routing.index(ofVRF: vni) else { return false }
        let hop: RouteTable.Hop
        switch nextHop {
        case .connected(let l2):
            guard let bd = bridgeDomains.index(of: l2), routing.gateways[Int(bd)].vrf == v else { return false }
            hop = RouteTable.Hop(kind: .connected, index: bd, mac: MACAddress(raw: 0))
        case .host(let l2, let mac):
            guard let bd = bridgeDomains.index(of: l2), routing.gateways[Int(bd)].vrf == v,
                  !mac.isMulticast, !mac.isZero else { return false }
            hop = RouteTable.Hop(kind: .host, index: bd, mac: mac)
        case .remote(let ip, let routerMAC):
            guard !routerMAC.isMulticast, !routerMAC.isZero, let t = vteps.add(ip) else { return false }
            hop = RouteTable.Hop(kind: .remote, index: t, mac: routerMAC)
        }
        return routing.routes.set(vrf: v, prefix, hop)
    }

    @discardableResult
    public mutating func removeRoute(vrf vni: VNI, _ prefix: IPPrefix) -> Bool {
        guard let v = routing.index(ofVRF: vni) else { return false }
        return routing.routes.remove(vrf: v, prefix) != nil
    }

    /// The longest route for `ip` in the VRF of L3 VNI `vrf`, as a next hop.
    public func lookupRoute(vrf vni: VNI, _ ip: IPAddress) -> RouteNextHop? {
        guard let v = routing.index(ofVRF: vni), let hop = routing.routes.lookup(vrf: v, ip) else { return nil }
        return nextHop(hop)
    }

    func nextHop(_ hop: RouteTable.Hop) -> RouteNextHop {
        switch hop.kind {
        case .connected: return .connected(fdb.vni(ofBD: hop.index))
        case .host: return .host(fdb.vni(ofBD: hop.index), hop.mac)
        case .remote: return .remote(vtep: vteps[hop.index].ip, routerMAC: hop.mac)
        }
    }

    // MARK: learned hosts

    /// Records a local host of `vni` (a gateway's VNI; the IP in its subnets); false otherwise.
    @discardableResult
    public mutating func learnHost(vni: VNI, ip: IPAddress, mac: MACAddress) -> Bool {
        guard let bd = bridgeDomains.index(of: vni), routing.isHostAddress(bd: bd, ip), !mac.isMulticast, !mac.isZero
        else { return false }
        return routing.hosts.set(bd: bd, ip: ip, mac: mac)
    }

    @discardableResult
    public mutating func forgetHost(vni: VNI, ip: IPAddress) -> Bool {
        guard let bd = bridgeDomains.index(of: vni) else { return false }
        return routing.hosts.remove(bd: bd, ip: ip) != nil
    }

    /// Every host the gateways learned, as (L2 VNI, IP, MAC): what the EVPN speaker advertises.
    public func learnedHosts() -> [LearnedHost] {
        routing.hosts.entries().map { LearnedHost(vni: fdb.vni(ofBD: $0.bd), ip: $0.ip, mac: $0.mac) }
    }

    // MARK: show

    /// The VRF of L3 VNI `vni`'s routes and learned hosts as rows, IPv4 first, by prefix.
    public func routeRows(vrf vni: VNI) -> [RouteRow] {
        guard let v = routing.index(ofVRF: vni) else { return [] }
        var rows: [RouteRow] = routing.routes.entries().filter { $0.vrf == v }.map { e in
            switch e.hop.kind {
            case .connected:
                return RouteRow(prefix: e.prefix, source: .connected, vni: fdb.vni(ofBD: e.hop.index))
            case .host:
                return RouteRow(prefix: e.prefix, source: .host, vni: fdb.vni(ofBD: e.hop.index), mac: e.hop.mac,
                                port: localPort(bd: e.hop.index, e.hop.mac))
            case .remote:
                return RouteRow(prefix: e.prefix, source: .remote, mac: e.hop.mac, vtep: vteps[e.hop.index].ip)
            }
        }
        for h in routing.hosts.entries() where routing.gateways[Int(h.bd)].vrf == v {
            let prefix = IPPrefix(h.ip, length: h.ip.isIPv4 ? 32 : 128)!
            if rows.contains(where: { $0.prefix == prefix }) { continue } // an installed route wins
            rows.append(RouteRow(prefix: prefix, source: .learned, vni: fdb.vni(ofBD: h.bd), mac: h.mac,
                                 port: localPort(bd: h.bd, h.mac)))
        }
        return rows.sorted { $0.prefix < $1.prefix }
    }

    func localPort(bd: UInt16, _ mac: MACAddress) -> PortID? {
        if case .port(let p) = fdb.entry(key: FDBEntry.key(bd: bd, mac: mac))?.destination { return p }
        return nil
    }
}
