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
    /// The `bgp:` section changed: the speaker restarts gracefully with it (forwarding kept).
    public var restartBGP = false

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
            + (agingTime.map { ["fdb aging-time: \($0) s"] } ?? [])
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
        try fixed("vtep", vtep == new.vtep)
        try fixed("uplink", uplink == new.uplink)
        try fixed("datapath", datapath == new.datapath)
        try fixed("control", control == new.control)
        try fixed("fdb.max-entries", fdb.maxEntries == new.fdb.maxEntries)
        try fixed("fdb.max-neighbors", fdb.maxNeighbors == new.fdb.maxNeighbors)
        try fixed("fdb.port-mac-limit", fdb.defaultPortMACLimit == new.fdb.defaultPortMACLimit)
        try fixed("bgp", (bgp == nil) == (new.bgp == nil))
        try fixed("vrfs", vrfs == new.vrfs)
        try fixed("storm-control", stormControl == new.stormControl)
        for v in new.vnis where vni(v.vni)?.gateway != v.gateway {
            try fixed("vnis[\(new.vnis.firstIndex(of: v)!)].gateway", false)
        }
        for v in vnis where v.gateway != nil && new.vni(v.vni) == nil {
            try fixed("vnis (VNI \(v.vni) with a gateway)", false)
        }

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
        plan.restartBGP = bgp != new.bgp
        return plan
    }
}
