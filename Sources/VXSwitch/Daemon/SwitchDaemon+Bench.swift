import VXControl
import VXCore

/// What `vxsw bench-tables` (VXBench's `TablesBench`) drives in a daemon it runs in-process:
/// the few steps a benchmark needs, so that VXBench sees neither the datapath nor the owner.
extension SwitchDaemon {
    /// Hands `updates` to the owner of the tables, as EVPN routes or the control socket do.
    public func applyTableUpdates(_ updates: [TableUpdate]) { tables.apply(updates) }

    /// Returns when every worker has applied every update handed to the owner so far.
    public func waitUntilWorkersApplied() { datapath.waitUntilApplied() }

    /// FDB entries written to the XDP fast path's maps; nil when the fast path is off.
    public var fastPathFDBEntries: Int? {
        guard let fast = fastPath else { return nil }
        return fast.lock.withLock { fast.written.fdb.count }
    }

    /// One page of `show mac` (all VNIs), as the control socket answers it.
    public func macPage(from: Int, limit: Int) -> MACTable { macPage(vni: nil, page: .init(from: from, limit: limit)) }
}
