import VXCore

/// (VRF, prefix): the key of a remote prefix route.
public struct VRFPrefix: Hashable, Sendable, Comparable {
    public var vrf: VNI
    public var prefix: IPPrefix
    public init(_ vrf: VNI, _ prefix: IPPrefix) { self.vrf = vrf; self.prefix = prefix }
    public static func < (a: Self, b: Self) -> Bool { (a.vrf, a.prefix) < (b.vrf, b.prefix) }
}

/// Type-5 IP prefix routes (RFC 9136): a VRF's own prefixes out, received ones into its table.
extension EVPNRIB {
    /// The RD of a VRF's type-5 routes: router-id:n, as FRR gives its VRFs (from the same
    /// counter as the L2 VNIs' RDs, so none is used twice).
    func vrfRD(_ l3: VNI) -> RouteDistinguisher {
        let index = rdIndex[l3] ?? { defer { nextRDIndex &+= 1 }; return nextRDIndex }()
        rdIndex[l3] = index
        return .ipv4(routerID.v4, index)
    }

    /// Our type-5 routes, one per prefix a VRF advertises (`advertise-subnets`): interface-less
    /// (§4.4.1: ESI and gateway IP zero), the L3 VNI as the label, the VRF's export RTs, the
    /// VXLAN encapsulation and the Router's MAC communities. Idempotent.
    func exportVRFPrefixes() {
        var want: [EVPNRouteKey: ExportedRoute] = [:]
        for (l3, v) in vrfs {
            let rd = vrfRD(l3)
            let ec = v.exportRTs.map(ExtendedCommunity.routeTarget) + [.vxlanEncapsulation, .routerMAC(v.routerMAC)]
            for p in v.advertisedPrefixes {
                let r = EVPNRoute.prefix(EVPNPrefixRoute(rd: rd, prefix: p, label: l3.value))
                want[r.key] = ExportedRoute(route: r, vni: l3, extendedCommunities: ec, pmsi: nil)
            }
        }
        var withdraw: [EVPNRoute] = []
        for (key, e) in exported where e.route.routeType == 5 && want[key] == nil {
            exported[key] = nil
            withdraw.append(e.route)
        }
        let announce = want.values.filter { exported[$0.route.key] != $0 }.sorted { $0.route.key < $1.route.key }
        for e in announce { exported[e.route.key] = e }
        if !announce.isEmpty || !withdraw.isEmpty { onExport(announce, withdraw) }
    }

    /// Remote candidates for a prefix in a VRF, best first (lower VTEP, then peer): interface-less
    /// type-5 routes imported by the VRF's RTs, with a router MAC and the VRF's own L3 VNI as
    /// their label (the data plane sends into the VRF's L3 VNI), not ours.
    public func prefixCandidates(_ k: VRFPrefix) -> [(ReceivedRoute, MACAddress)] {
        guard let v = vrfs[k.vrf] else { return [] }
        let rs: [(ReceivedRoute, MACAddress)] = (byPrefix[k.prefix] ?? []).compactMap { ref in
            guard let r = adjRIBIn[ref], r.nextHop != vtep, case .prefix(let p) = r.route,
                  p.isInterfaceless, p.vni == k.vrf, let rmac = r.extendedCommunities.routerMAC,
                  r.routeTargets.contains(where: { v.importRTs.contains($0) }) else { return nil }
            return (r, rmac)
        }
        return rs.sorted { a, b in
            if a.0.nextHop != b.0.nextHop { return a.0.nextHop < b.0.nextHop }
            if a.0.peer != b.0.peer { return a.0.peer < b.0.peer }
            return a.0.route.key < b.0.route.key
        }
    }

    /// Brings the data plane's route for `prefix` in every VRF in line with the best type-5
    /// route. A /32 or /128 that a MAC/IP route already installed as a host route stays the
    /// host route's (type 2 is the more specific information); it comes back when that goes.
    func reconcilePrefix(_ prefix: IPPrefix) {
        for vrf in vrfs.keys.sorted() {
            let k = VRFPrefix(vrf, prefix)
            let shadowed = prefix.isHost && installedHosts[VRFHost(vrf, prefix.address)] != nil
            let want = shadowed ? nil : prefixCandidates(k).first.map { InstalledHostRoute(vtep: $0.0.nextHop, routerMAC: $0.1) }
            guard installedPrefixes[k] != want else { continue }
            installedPrefixes[k] = want
            if let w = want {
                dataplane?.installRemotePrefixRoute(vrf: vrf, prefix: prefix, vtep: w.vtep, routerMAC: w.routerMAC)
            } else if !shadowed {
                dataplane?.withdrawRemotePrefixRoute(vrf: vrf, prefix: prefix)
            }
        }
    }

    /// A type-5 route some VRF takes as a candidate.
    func prefixImportedIntoVRF(_ r: ReceivedRoute) -> Bool {
        guard case .prefix(let p) = r.route else { return false }
        return vrfs.keys.contains { vrf in prefixCandidates(VRFPrefix(vrf, p.prefix)).contains { $0.0 == r } }
    }
}
