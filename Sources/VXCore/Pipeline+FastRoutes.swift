/// What the XDP fast path may route by itself (BPF/lib/fastroute.h), derived from the tables
/// the engine routes with, by the engine's own rules (`Pipeline+RoutedPath.forward`): each
/// anycast gateway, and each address that resolves to one place — the hosts the gateways
/// learned and the host routes (/32, /128) — through the VRF's longest match, then, for a
/// connected subnet, the learned hosts (not the neighbour table the engine falls back to:
/// EVPN changes it without a routing change, so such hosts stay the engine's). An address the engine would
/// resolve some other way (unresolved, behind a VTEP in its L2 VNI, link-local, the gateway's
/// own) is left out: the fast path declines it and the engine does as it always did.
public struct FastGateway: Equatable, Sendable {
    public var bd: UInt16
    public var mac: MACAddress
    public var routerMAC: MACAddress
    public var vrf: UInt8
    /// The VRF's L3 VNI when it has its domain (remote routes need it).
    public var l3VNI: VNI?
    public var ipv4: IPAddress?
    public var ipv6: IPAddress?
    /// The VRF's L3 VNI domain: `mac` is the router MAC, decapsulated frames to it are routed.
    public var isL3 = false
}

/// A host address in a VRF (by VRF index), the fast path's route key.
public struct FastRouteKey: Hashable, Sendable {
    public var vrf: UInt8
    public var ip: IPAddress
    public init(vrf: UInt8, ip: IPAddress) { self.vrf = vrf; self.ip = ip }
}

/// Where the engine sends a packet to that address: a host in a local domain (its MAC; the
/// port comes from the FDB per packet), or a remote VTEP's router MAC through the L3 VNI.
public enum FastRouteTarget: Equatable, Sendable {
    case local(bd: UInt16, mac: MACAddress)
    case remote(vtep: UInt16, routerMAC: MACAddress)
}

extension SwitchPipeline {
    /// Every bridge domain with a gateway, and every VRF's L3 VNI domain.
    public var fastGateways: [FastGateway] {
        let l3 = routing.vrfs.enumerated().compactMap { i, v -> FastGateway? in
            guard v.active, routing.l3BDs[i] != PortTable.noBD else { return nil }
            return FastGateway(bd: routing.l3BDs[i], mac: v.routerMAC, routerMAC: v.routerMAC, vrf: UInt8(i), l3VNI: v.l3VNI,
                               isL3: true)
        }
        return l3 + routing.gateways.enumerated().compactMap { bd, g in
            guard g.vrf != RoutingTables.noVRF else { return nil }
            let l3BD = routing.l3BDs[Int(g.vrf)]
            return FastGateway(bd: UInt16(bd), mac: g.mac, routerMAC: routing.routerMACs[Int(g.vrf)], vrf: g.vrf,
                               l3VNI: l3BD == PortTable.noBD ? nil : fdb.vni(ofBD: l3BD),
                               ipv4: g.length4 == 0xFF ? nil : g.v4, ipv6: g.length6 == 0xFF ? nil : g.v6)
        }
    }

    /// Every host address the engine resolves to one place, and that place.
    public var fastHostRoutes: [FastRouteKey: FastRouteTarget] {
        var candidates = Set<FastRouteKey>()
        for h in routing.hosts.entries() where routing.gateways[Int(h.bd)].vrf != RoutingTables.noVRF {
            candidates.insert(FastRouteKey(vrf: routing.gateways[Int(h.bd)].vrf, ip: h.ip))
        }
        for e in routing.routes.entries() where e.prefix.isHost {
            candidates.insert(FastRouteKey(vrf: e.vrf, ip: e.prefix.address))
        }
        var out: [FastRouteKey: FastRouteTarget] = [:]
        for k in candidates {
            if let t = fastTarget(k) { out[k] = t }
        }
        return out
    }

    /// `forward`'s decision for a packet to `k.ip` in VRF `k.vrf`, when it is one the fast path can take.
    func fastTarget(_ k: FastRouteKey) -> FastRouteTarget? {
        let ip = k.ip
        guard ip.isUnicast, !(ip.isIPv4 && ip.v4 == 0xFFFF_FFFF), !ip.isLinkLocalV6,
              let hop = routing.routes.lookup(vrf: k.vrf, ip) else { return nil }
        switch hop.kind {
        case .remote:
            guard routing.l3BDs[Int(k.vrf)] != PortTable.noBD else { return nil }
            return .remote(vtep: hop.index, routerMAC: hop.mac)
        case .host:
            return .local(bd: hop.index, mac: hop.mac)
        case .connected:
            guard let mac = routing.hosts.lookup(bd: hop.index, ip: ip) else { return nil }
            return .local(bd: hop.index, mac: mac)
        }
    }
}
