/// `show evpn vni json` and `show evpn vni N json` in FRR 8.4's shapes. The list is an object
/// keyed by VNI (`EVPNVNIList`), each row with FRR's keys (`vni`, `type`, `vxlanIf`, `numMacs`,
/// `numArpNd`, `numRemoteVteps`, `tenantVrf`, `remoteVteps`); one VNI is FRR's detail object
/// (`EVPNVNIDetail`: `vtepIp`, `vxlanInterface`, `numRemoteVteps` as the list of VTEPs, as FRR
/// 8.4 writes it; an L3 VNI `localVtepIp`, `routerMac`, `l2Vnis`). vxsw's extra keys on both:
/// `rd`, `importRts`, `exportRts` (bgpd's names in `show bgp l2vpn evpn vni`), `numLocalMacs`,
/// `numRemoteMacs`. FRR's keys for a Linux device vxsw has none of (`ifindex`, `sviInterface`,
/// `sviIfindex`) are left out; the VXLAN interface is named `vxsw`.
extension EVPNVNIInfo {
    enum CodingKeys: String, CodingKey {
        case vni, type, vxlanIf, numMacs, numArpNd, numRemoteVteps, tenantVrf, remoteVteps
        case vrf, vxlanInterface, vtepIp, mcastGroup, advertiseGatewayMacip, advertiseSviMacip
        case localVtepIp, vxlanIntf, state, routerMac, l2Vnis
        case rd, importRts, exportRts, numLocalMacs, numRemoteMacs
    }

    /// A row of the list.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vni, forKey: .vni)
        try c.encode(type, forKey: .type)
        try c.encode("vxsw", forKey: .vxlanIf)
        try c.encode(localMACs + remoteMACs, forKey: .numMacs)
        if isL3 {
            try c.encode(0, forKey: .numArpNd)
            try c.encode("n/a", forKey: .numRemoteVteps)
        } else {
            try c.encode(arps, forKey: .numArpNd)
            try c.encode(remoteVTEPs.count, forKey: .numRemoteVteps)
            try c.encode(remoteVTEPs, forKey: .remoteVteps)
        }
        try c.encode(tenantVRF, forKey: .tenantVrf)
        try encodeExtras(&c)
    }

    func encodeExtras(_ c: inout KeyedEncodingContainer<CodingKeys>) throws {
        if !rd.isEmpty {
            try c.encode(rd, forKey: .rd)
            try c.encode(importRTs, forKey: .importRts)
            try c.encode(exportRTs, forKey: .exportRts)
        }
        try c.encode(localMACs, forKey: .numLocalMacs)
        try c.encode(remoteMACs, forKey: .numRemoteMacs)
    }

    /// A row of the list, or the detail object.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decodeIfPresent(String.self, forKey: .type) ?? "L2"
        let vteps = try c.decodeIfPresent([String].self, forKey: .remoteVteps) ?? (try? c.decode([String].self, forKey: .numRemoteVteps)) ?? []
        let local = try c.decodeIfPresent(Int.self, forKey: .numLocalMacs)
        let remote = try c.decodeIfPresent(Int.self, forKey: .numRemoteMacs)
        let total = try c.decodeIfPresent(Int.self, forKey: .numMacs) ?? 0
        self.init(vni: try c.decode(UInt32.self, forKey: .vni), rd: try c.decodeIfPresent(String.self, forKey: .rd) ?? "",
                  importRTs: try c.decodeIfPresent([String].self, forKey: .importRts) ?? [],
                  exportRTs: try c.decodeIfPresent([String].self, forKey: .exportRts) ?? [],
                  localMACs: local ?? total - (remote ?? 0), remoteMACs: remote ?? 0,
                  arps: (try? c.decode(Int.self, forKey: .numArpNd)) ?? 0, remoteVTEPs: vteps, type: type,
                  tenantVRF: try c.decodeIfPresent(String.self, forKey: .tenantVrf) ?? c.decodeIfPresent(String.self, forKey: .vrf) ?? "default",
                  localVTEP: try c.decodeIfPresent(String.self, forKey: .vtepIp) ?? c.decodeIfPresent(String.self, forKey: .localVtepIp) ?? "",
                  routerMAC: try c.decodeIfPresent(String.self, forKey: .routerMac), l2VNIs: try c.decodeIfPresent([UInt32].self, forKey: .l2Vnis))
    }
}

/// `show evpn vni N json`: FRR's detail object of one VNI.
public struct EVPNVNIDetail: Codable, Sendable {
    public var info: EVPNVNIInfo
    public init(_ info: EVPNVNIInfo) { self.info = info }

    public func encode(to encoder: Encoder) throws {
        typealias K = EVPNVNIInfo.CodingKeys
        var c = encoder.container(keyedBy: K.self)
        let v = info
        try c.encode(v.vni, forKey: .vni)
        try c.encode(v.type, forKey: .type)
        if v.isL3 {
            try c.encode(v.localVTEP, forKey: .localVtepIp)
            try c.encode("vxsw", forKey: .vxlanIntf)
            try c.encode("Up", forKey: .state)
            try c.encode(v.tenantVRF, forKey: .vrf)
            try c.encodeIfPresent(v.routerMAC, forKey: .routerMac)
            try c.encode(v.l2VNIs ?? [], forKey: .l2Vnis)
        } else {
            try c.encode(v.tenantVRF, forKey: .vrf)
            try c.encode("vxsw", forKey: .vxlanInterface)
            try c.encode(v.localVTEP, forKey: .vtepIp)
            try c.encode("0.0.0.0", forKey: .mcastGroup)
            try c.encode("No", forKey: .advertiseGatewayMacip)
            try c.encode("No", forKey: .advertiseSviMacip)
            try c.encode(v.localMACs + v.remoteMACs, forKey: .numMacs)
            try c.encode(v.arps, forKey: .numArpNd)
            try c.encode(v.remoteVTEPs, forKey: .numRemoteVteps)
        }
        try v.encodeExtras(&c)
    }

    public init(from decoder: Decoder) throws { info = try EVPNVNIInfo(from: decoder) }
}
