/// VTEP admission (`vtep.accept`, `vtep.max-learned`): which source VTEPs the overlay takes
/// frames from (the check is in `receiveOverlay`), and how VTEPs learned from the data plane
/// (`accept: any`) leave again. Control-plane VTEPs (flood lists, static entries, EVPN routes,
/// next hops) never age here; a learned one they name is promoted (`VTEPTable.add`).
extension SwitchPipeline {
    /// `.setVTEPAdmission` and `.ageVTEP` (`apply`). Both change every copy the same way: they
    /// look only at the VTEP table, which every copy holds alike.
    mutating func applyAdmission(_ update: TableUpdate) -> Bool {
        switch update {
        case .setVTEPAdmission(let a):
            vteps.setAdmission(a)
            if a.accept == .known { for ip in vteps.learnedAddresses { removeVTEP(ip) } }
            return true
        case .ageVTEP(let ip):
            guard let i = vteps.index(of: ip), vteps[i].learned else { return false }
            removeVTEP(ip)
            return true
        default:
            return false
        }
    }

    /// Learned VTEPs that no FDB entry points at (one pass over the FDB, for the owner's
    /// periodic aging; never on the data path).
    public func unreferencedLearnedVTEPs() -> [IPAddress] {
        let learned = vteps.learnedAddresses
        guard !learned.isEmpty else { return [] }
        var referenced = [Bool](repeating: false, count: vteps.entries.count)
        for s in 0..<fdb.slotCount {
            let e = fdb.slots[s]
            if e.key != FDB.emptyKey, case .vtep(let v) = e.destination, Int(v) < referenced.count { referenced[Int(v)] = true }
        }
        return vteps.entries.indices.filter { vteps.entries[$0].active && vteps.entries[$0].learned && !referenced[$0] }
            .map { vteps.entries[$0].ip }
    }
}

/// When learned VTEPs go: once no FDB entry has pointed at one for `idle` seconds (the FDB
/// aging time, so its MACs aged out first), the owner removes it for every copy
/// (`TableUpdate.ageVTEP`). Kept by the owner of the tables, called every few seconds.
public struct LearnedVTEPAging: Sendable {
    /// When each unreferenced learned VTEP was first seen unreferenced.
    var since: [IPAddress: UInt32] = [:]

    public init() {}

    /// The learned VTEPs of `tables` unreferenced for more than `idle` seconds at `now`:
    /// the updates that remove them.
    public mutating func expired(_ tables: SwitchPipeline, now: UInt32, idle: UInt32) -> [TableUpdate] {
        let unreferenced = tables.unreferencedLearnedVTEPs()
        let current = Set(unreferenced)
        since = since.filter { current.contains($0.key) }
        var out: [TableUpdate] = []
        for ip in unreferenced {
            let first = since[ip] ?? now
            since[ip] = first
            if now &- first >= idle { out.append(.ageVTEP(ip)); since[ip] = nil }
        }
        return out
    }
}
