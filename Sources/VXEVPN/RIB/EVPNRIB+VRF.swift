import VXCore

/// A tenant VRF's EVPN side (symmetric IRB, RFC 9135 §8.1): the L3 VNI our MAC/IP routes carry
/// as Label2, the router MAC they carry as an extended community, and the route targets.
public struct VRFInstance: Sendable, Hashable {
    public var l3VNI: VNI
    public var routerMAC: MACAddress
    public var vnis: Set<VNI>
    public var importRTs: [RouteTarget]
    public var exportRTs: [RouteTarget]
    /// Prefixes advertised as type-5 routes (RFC 9136).
    public var advertisedPrefixes: [IPPrefix]
    public var name: String
}

/// (VRF, IP): the key of a remote host route.
public struct VRFHost: Hashable, Sendable, Comparable {
    public var vrf: VNI
    public var ip: IPAddress
    public init(_ vrf: VNI, _ ip: IPAddress) { self.vrf = vrf; self.ip = ip }
    public static func < (a: Self, b: Self) -> Bool { (a.vrf, a.ip) < (b.vrf, b.ip) }
}

/// A remote host route as installed: the VTEP and its router MAC.
public struct InstalledHostRoute: Sendable, Hashable {
    public var vtep: IPAddress
    public var routerMAC: MACAddress
}

/// Local hosts → MAC/IP routes with the L3 VNI; remote MAC/IP routes with an L3 VNI → host routes.
extension EVPNRIB {
    func makeVRFs(_ configs: [VRFConfig]) {
        for c in configs {
            let l3 = VNI(unchecked: c.l3VNI), auto = autoRouteTarget(l3)
            let v = VRFInstance(l3VNI: l3, routerMAC: c.routerMAC, vnis: Set(c.vnis.map { VNI(unchecked: $0) }),
                                importRTs: c.importRTs ?? [auto], exportRTs: c.exportRTs ?? [auto],
                                advertisedPrefixes: c.advertisedPrefixes, name: c.name)
            vrfs[l3] = v
            for vni in v.vnis { vrfOfVNI[vni] = l3 }
        }
    }

    /// A gateway learned a local host (`ip` at `mac` in L2 VNI `vni`): its MAC/IP route is
    /// advertised (while the MAC is local), with the L3 VNI when the VNI is in a VRF.
    public func localHostLearned(vni: VNI, mac: MACAddress, ip: IPAddress) {
        guard vnis[vni] != nil else { return }
        // An IP that moved to another MAC leaves the old one.
        for (k, ips) in localHosts where k.vni == vni && k.mac != mac && ips.contains(ip) {
            localHosts[k]?.remove(ip)
            if localHosts[k]?.isEmpty ?? false { localHosts[k] = nil }
            exportLocal(k)
        }
        let k = VNIMAC(vni, mac)
        guard localHosts[k, default: []].insert(ip).inserted else { return }
        exportLocal(k)
    }

    /// The gateway forgot a local host.
    public func localHostRemoved(vni: VNI, ip: IPAddress) {
        for (k, ips) in localHosts where k.vni == vni && ips.contains(ip) {
            localHosts[k]?.remove(ip)
            if localHosts[k]?.isEmpty ?? false { localHosts[k] = nil }
            exportLocal(k)
        }
    }

    /// The route a local (vni, mac, ip) is advertised with: the VRF's L3 VNI as Label2, its
    /// export RTs and router MAC added to the L2 VNI's communities.
    func vrfDecoration(_ vni: VNI) -> (label2: UInt32, communities: [ExtendedCommunity])? {
        guard let l3 = vrfOfVNI[vni], let v = vrfs[l3] else { return nil }
        return (l3.value, v.exportRTs.map(ExtendedCommunity.routeTarget) + [.routerMAC(v.routerMAC)])
    }

    /// Remote candidates for a host route, best first: higher MAC mobility sequence, then lower
    /// VTEP, then peer. Only MAC/IP routes with Label2 and a router MAC, imported by RT, not ours.
    public func hostCandidates(_ h: VRFHost) -> [(ReceivedRoute, MACAddress)] {
        guard let v = vrfs[h.vrf] else { return [] }
        let rs: [(ReceivedRoute, MACAddress)] = (byIP[h.ip] ?? []).compactMap { ref in
            guard let r = adjRIBIn[ref], r.nextHop != vtep, let m = macIPRoute(r), m.label2 != nil,
                  let rmac = r.extendedCommunities.routerMAC,
                  r.routeTargets.contains(where: { v.importRTs.contains($0) }) else { return nil }
            return (r, rmac)
        }
        return rs.sorted { a, b in
            if a.0.sequence != b.0.sequence { return a.0.sequence > b.0.sequence }
            if a.0.nextHop != b.0.nextHop { return a.0.nextHop < b.0.nextHop }
            if a.0.peer != b.0.peer { return a.0.peer < b.0.peer }
            return a.0.route.key < b.0.route.key
        }
    }

    /// A MAC/IP or IP prefix route some VRF takes as a candidate.
    func importedIntoVRF(_ r: ReceivedRoute) -> Bool {
        if case .prefix = r.route { return prefixImportedIntoVRF(r) }
        guard case .macIP(let m) = r.route, let ip = m.ip else { return false }
        return vrfs.keys.contains { vrf in hostCandidates(VRFHost(vrf, ip)).contains { $0.0 == r } }
    }

    /// Brings the data plane's host route for `ip` in every VRF in line with the best route.
    func reconcileHost(_ ip: IPAddress) {
        for vrf in vrfs.keys.sorted() {
            let h = VRFHost(vrf, ip)
            let want = hostCandidates(h).first.map { InstalledHostRoute(vtep: $0.0.nextHop, routerMAC: $0.1) }
            guard installedHosts[h] != want else { continue }
            installedHosts[h] = want
            if let w = want {
                dataplane?.installRemoteHostRoute(vrf: vrf, ip: ip, vtep: w.vtep, routerMAC: w.routerMAC)
            } else {
                dataplane?.withdrawRemoteHostRoute(vrf: vrf, ip: ip)
            }
            // A type-5 route for the same /32 or /128 gives way to the host route, or comes back.
            if let host = IPPrefix(ip, length: ip.isIPv4 ? 32 : 128), byPrefix[host] != nil { reconcilePrefix(host) }
        }
    }
}

extension Array where Element == ExtendedCommunity {
    /// RFC 9135 §8.1 Router's MAC; nil without the community.
    public var routerMAC: MACAddress? {
        for c in self { if case .routerMAC(let m) = c { return m } }
        return nil
    }
}
