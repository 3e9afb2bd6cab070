import VXCore

/// What `vxsw reload` (or SIGHUP) changes in a running switch: the difference between the
/// config it runs and the file now, in the order it is applied. Only what can change without
/// dropping traffic of what did not change is in here; anything else is refused with its field
/// named (`reloadPlan(to:)` throws), and the running switch is left as it was.
public struct ReloadPlan: Equatable, Sendable {
    /// New VNIs, and VNIs whose MAC limit or remote learning changed (applied first).
    public var vnisToSet: [SwitchConfig.VNIConfig] = []
    /// A VTEP in or out of a VNI's flood list.
    public struct Flood: Equatable, Sendable {
        public var vni: VNI
        public var vtep: IPAddress
    }

    public var floodToAdd: [Flood] = []
    public var floodToRemove: [Flood] = []
    /// Ports gone from the file, or whose settings changed (detached, then attached again).
    public var portsToRemove: [String] = []
    public var portsToAdd: [SwitchConfig.Port] = []
    public var staticsToRemove: [SwitchConfig.FDB.StaticEntry] = []
    public var staticsToAdd: [SwitchConfig.FDB.StaticEntry] = []
    /// VNIs gone from the file (after their ports and static entries).
    public var vnisToRemove: [VNI] = []
    public var agingTime: Int?
    /// `vtep.accept` / `vtep.max-learned` changed (to `known`: learned VTEPs go at once).
    public var vtepAdmission: VTEPAdmission?
    /// The `bgp:` section changed: the speaker restarts gracefully with it (forwarding kept).
    /// Also when VRFs or gateways changed and BGP runs (its VRFs and type-5 subnets follow them).
    public var restartBGP = false
    /// Routing on the host, applied around the VNI changes: gateways that go or change are
    /// cleared first, then removed VRFs (by L3 VNI) go; after the VNIs, new or changed VRFs are
    /// set and the new gateways put in place. Routed traffic of the tenants concerned pauses
    /// for that moment; nothing else does.
    public var gatewaysToClear: [VNI] = []
    public var vrfsToRemove: [VNI] = []
    public var vrfsToSet: [SwitchConfig.VRFConfig] = []
    public var gatewaysToSet: [SwitchConfig.VNIConfig] = []

    public var isEmpty: Bool { self == ReloadPlan() }

    /// One line per change, for the answer and the log.
    public var summary: [String] {
        vnisToSet.map { "VNI \($0.vni): set (MAC limit \($0.macLimit.map { $0 == 0 ? "none" : String($0) } ?? "fdb.vni-mac-limit"))" }
            + floodToAdd.map { "VNI \($0.vni): flood to \($0.vtep)" }
            + floodToRemove.map { "VNI \($0.vni): no flood to \($0.vtep)" }
            + portsToRemove.map { "port \($0): detached" }
            + portsToAdd.map { "port \($0.name): attached" }
            + staticsToRemove.map { "fdb static \($0.mac) in VNI \($0.vni): removed" }
            + staticsToAdd.map { "fdb static \($0.mac) in VNI \($0.vni): added" }
            + vnisToRemove.map { "VNI \($0): removed" }
            + vrfsToRemove.map { "VRF with L3 VNI \($0): removed" }
            + vrfsToSet.map { "VRF \($0.name) (L3 VNI \($0.l3VNI)): set" }
            + gatewaysToClear.filter { vni in !gatewaysToSet.contains { $0.vni == vni } }.map { "VNI \($0): gateway removed" }
            + gatewaysToSet.map { "VNI \($0.vni): gateway set" }
            + (agingTime.map { ["fdb aging-time: \($0) s"] } ?? [])
            + (vtepAdmission.map { ["vtep accept: \($0.accept.rawValue), max-learned \($0.maxLearned)"] } ?? [])
            + (restartBGP ? ["bgp: speaker restarted gracefully with the new section"] : [])
    }
}

extension SwitchConfig {
    /// The changes from this (running) config to `new`; throws `ConfigError` naming the first
    /// field that cannot change while the switch runs.
    public func reloadPlan(to new: SwitchConfig) throws -> ReloadPlan {
        func fixed(_ path: String, _ same: Bool) throws {
            guard same else { throw ConfigError(path: path, problem: "cannot change while vxsw runs (restart vxsw for it)") }
        }
        var sameVTEP = new.vtep
        sameVTEP.admission = vtep.admission
        try fixed("vtep", vtep == sameVTEP)
        try fixed("uplink", uplink == new.uplink)
        try fixed("datapath", datapath == new.datapath)
        try fixed("control", control == new.control)
        try fixed("fdb.max-entries", fdb.maxEntries == new.fdb.maxEntries)
        try fixed("fdb.max-neighbors", fdb.maxNeighbors == new.fdb.maxNeighbors)
        try fixed("fdb.port-mac-limit", fdb.defaultPortMACLimit == new.fdb.defaultPortMACLimit)
        try fixed("bgp", (bgp == nil) == (new.bgp == nil))
        try fixed("storm-control", stormControl == new.stormControl)

        var plan = ReloadPlan()
        for v in new.vnis {
            let old = vni(v.vni)
            if old == nil || macLimit(of: old!) != new.macLimit(of: v) || old!.learnRemote != v.learnRemote || old!.carryTagged != v.carryTagged { plan.vnisToSet.append(v) }
            let before = Set(old?.flood ?? [])
            plan.floodToAdd += v.flood.filter { !before.contains($0) }.map { .init(vni: v.vni, vtep: $0) }
            plan.floodToRemove += (old?.flood ?? []).filter { !v.flood.contains($0) }.map { .init(vni: v.vni, vtep: $0) }
        }
        for p in ports where new.port(named: p.name) != p { plan.portsToRemove.append(p.name) }
        for p in new.ports where port(named: p.name) != p { plan.portsToAdd.append(p) }
        plan.staticsToRemove = fdb.staticEntries.filter { !new.fdb.staticEntries.contains($0) }
        plan.staticsToAdd = new.fdb.staticEntries.filter { !fdb.staticEntries.contains($0) }
        plan.vnisToRemove = vnis.map(\.vni).filter { new.vni($0) == nil }
        if fdb.agingTime != new.fdb.agingTime { plan.agingTime = new.fdb.agingTime }
        if vtep.admission != new.vtep.admission { plan.vtepAdmission = new.vtep.admission }
        plan.restartBGP = bgp != new.bgp
        routingChanges(to: new, into: &plan)
        if new.bgp != nil && (!plan.vrfsToSet.isEmpty || !plan.vrfsToRemove.isEmpty || !plan.gatewaysToSet.isEmpty
                              || !plan.gatewaysToClear.isEmpty) {
            plan.restartBGP = true
        }
        return plan
    }

    /// VRFs and gateways: a VNI's gateway changes when its addresses, MAC or VRF (or that VRF's
    /// L3 VNI) do; a VRF changes when any of its fields does (a new L3 VNI is another VRF).
    func routingChanges(to new: SwitchConfig, into plan: inout ReloadPlan) {
        let oldVRFs = Dictionary(uniqueKeysWithValues: vrfs.map { ($0.l3VNI, $0) })
        let newL3 = Set(new.vrfs.map(\.l3VNI))
        plan.vrfsToRemove = vrfs.map(\.l3VNI).filter { !newL3.contains($0) }
        plan.vrfsToSet = new.vrfs.filter { oldVRFs[$0.l3VNI] != $0 }
        /// What a VNI's gateway is in the data plane: its addresses and MAC, its VRF's L3 VNI and router MAC.
        struct Routed: Equatable { var gateway: GatewayConfig; var l3VNI: VNI; var routerMAC: MACAddress }
        func routed(_ c: SwitchConfig, _ v: VNIConfig?) -> Routed? {
            guard let v, let g = v.gateway, let vrf = c.vrf(of: v.vni) else { return nil }
            return Routed(gateway: g, l3VNI: vrf.l3VNI, routerMAC: c.routerMAC(of: vrf))
        }
        for v in vnis where v.gateway != nil && routed(self, v) != routed(new, new.vni(v.vni)) {
            plan.gatewaysToClear.append(v.vni)
        }
        for v in new.vnis where v.gateway != nil && routed(self, vni(v.vni)) != routed(new, v) {
            plan.gatewaysToSet.append(v)
        }
    }
}
