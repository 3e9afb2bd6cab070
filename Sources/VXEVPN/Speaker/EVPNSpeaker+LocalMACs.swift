/// Local MACs from the switch in batches: the data plane's FDB events (a flood can be 200k
/// MACs) reach the RIB a bounded number at a time and leave as few UPDATEs as they fit.
extension EVPNSpeaker {
    /// Local MACs learned (or moved here) and removed, in order. They queue here and the loop
    /// takes them `changesPerTurn` at a time, their routes packed into as few UPDATEs as they
    /// fit, with the sessions' I/O in between: a flood of 200k MACs is some thousands of
    /// UPDATEs, not 200k, and never holds the loop long enough for a hold timer to expire
    /// (NIO runs the timers that came due before it reads the keepalives that arrived meanwhile).
    public func localMACsChanged(_ changes: [LocalMACChange]) {
        guard !changes.isEmpty else { return }
        let schedule = changeQueue.withLock { (q: inout LocalMACQueue) -> Bool in
            q.items += changes
            defer { q.scheduled = true }
            return !q.scheduled
        }
        if schedule { loop.execute { self.takeChanges() } }
    }

    static var changesPerTurn: Int { 2048 }

    /// One turn: up to `changesPerTurn` queued changes into the RIB, then the loop's I/O.
    func takeChanges() {
        let (batch, more) = changeQueue.withLock { (q: inout LocalMACQueue) -> ([LocalMACChange], Bool) in
            let end = min(q.items.count, q.head + Self.changesPerTurn)
            let batch = Array(q.items[q.head..<end])
            q.head = end
            if q.head == q.items.count { q.items.removeAll(keepingCapacity: true); q.head = 0; q.scheduled = false }
            return (batch, q.scheduled)
        }
        exportingOnce {
            for c in batch {
                if let ip = c.ip {
                    rib.localIPLearned(vni: c.vni, mac: c.mac, ip: ip)
                } else if c.learned {
                    rib.localMACLearned(vni: c.vni, mac: c.mac, ip: nil, sticky: c.sticky)
                } else {
                    rib.localMACRemoved(vni: c.vni, mac: c.mac)
                }
            }
        }
        if more { loop.execute { self.takeChanges() } }
    }

    /// Runs `body` with the RIB's exports collected, then sends their net effect once (a route
    /// announced and then withdrawn within the batch is only withdrawn, and the reverse).
    func exportingOnce(_ body: () -> Void) {
        enum Net { case announce(ExportedRoute), withdraw(EVPNRoute) }
        var last: [EVPNRouteKey: Net] = [:], order: [EVPNRouteKey] = []
        let send = rib.onExport
        rib.onExport = { announce, withdraw in
            for r in withdraw {
                if last.updateValue(.withdraw(r), forKey: r.key) == nil { order.append(r.key) }
            }
            for e in announce {
                if last.updateValue(.announce(e), forKey: e.route.key) == nil { order.append(e.route.key) }
            }
        }
        body()
        rib.onExport = send
        var announce: [ExportedRoute] = [], withdraw: [EVPNRoute] = []
        for key in order {
            switch last[key]! {
            case .announce(let e): announce.append(e)
            case .withdraw(let r): withdraw.append(r)
            }
        }
        if !announce.isEmpty || !withdraw.isEmpty { send(announce, withdraw) }
    }
}
