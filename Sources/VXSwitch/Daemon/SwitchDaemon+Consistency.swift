import Foundation
import VXCore
import VXDatapath

/// `vxsw show consistency`: proves that the owner's copy of the tables, every worker's copy and
/// the XDP fast-path maps agree, and names every entry that differs — the drift FRR operators
/// chase between zebra and the kernel FDB. Each worker is read a page at a time between its
/// batches (`Worker.inspect`), the maps in batches; nothing stops forwarding. Copies are
/// eventually consistent (a learn reaches the owner within ~10 ms, an update the worker within
/// a batch, the maps within 10 ms), so what differs is looked at again 100 ms later and only
/// what still differs is reported.
public struct ConsistencyReport: Codable, Sendable, Equatable {
    public struct Difference: Codable, Sendable, Equatable {
        /// Which copy disagrees with the owner's: worker (worker N with several) | xdp.
        public var place: String
        public var vni: UInt32?
        public var mac: String?
        /// What the owner's copy says, and what the other place holds ("absent" when nothing).
        public var owner: String
        public var other: String
    }

    public var ok: Bool
    public var ownerEntries: Int
    /// Entries in the first worker's copy; `workerCopies`: in each worker's.
    public var workerEntries: Int
    public var workerCopies: [Int]?
    /// Fast-path map entries (nil: no fast path).
    public var xdpEntries: Int?
    /// At most 1000 (`ok` and the log say how many in all).
    public var differences: [Difference]
    public var seconds: Double
}

extension SwitchDaemon {
    static let auditPage = 8192
    /// How often the audit runs by itself (its result is on the metrics page).
    static let auditInterval: TimeInterval = 300

    func startAudits() {
        let t = Thread { [weak self] in
            self?.runRounds(every: Self.auditInterval) { round in if round > 1 { _ = self?.auditConsistency() } }
        }
        t.name = "vxsw-audit"
        t.start()
    }

    func auditConsistency() -> ConsistencyReport {
        let start = Date()
        var (owner, copies, diffs) = compareWorkers()
        var xdp = fastPathDifferences(vniOfBD: owner.vniOfBD)
        if !diffs.isEmpty || !(xdp?.diffs.isEmpty ?? true) {
            // In flight a moment ago, settled now? Look again at what differed.
            usleep(100_000)
            (owner, copies, diffs) = compareWorkers()
            xdp = fastPathDifferences(vniOfBD: owner.vniOfBD)
        }
        let all = diffs + (xdp?.diffs ?? [])
        let report = ConsistencyReport(ok: all.isEmpty, ownerEntries: owner.entries.count, workerEntries: copies[0],
                                       workerCopies: copies.count > 1 ? copies : nil,
                                       xdpEntries: xdp?.count, differences: Array(all.prefix(1000)),
                                       seconds: Date().timeIntervalSince(start))
        lock.withLock { lastAudit = (Date(), all.count) }
        if !all.isEmpty { log.warning("consistency: \(all.count) entries differ from the owner's copy (vxsw show consistency)") }
        return report
    }

    private typealias Copy = (entries: [FDBEntry], vteps: [VTEP], vniOfBD: [UInt16: VNI])

    /// Every worker's copy against the owner's (read after them: what a worker reported is
    /// in it), with the entries of each.
    private func compareWorkers() -> (owner: Copy, copies: [Int], diffs: [ConsistencyReport.Difference]) {
        let workers = datapath.workers.map { workerEntries($0) }
        let owner = ownerEntries()
        var diffs: [ConsistencyReport.Difference] = []
        for (i, w) in workers.enumerated() {
            let place = workers.count > 1 ? "worker \(i)" : "worker"
            diffs += compare(owner, w.entries, place: place) + compareVTEPs(owner: owner.vteps, worker: w.vteps, place: place)
        }
        return (owner, workers.map(\.entries.count), diffs)
    }

    /// A worker's FDB, page by page between its batches, sorted by key.
    private func workerEntries(_ worker: Worker<SwitchPipeline>) -> Copy {
        var entries: [FDBEntry] = []
        var vteps: [VTEP] = []
        var vniOfBD: [UInt16: VNI] = [:]
        var from: Int? = 0
        while let at = from {
            let page = TableInspection(.page(from: at, limit: Self.auditPage))
            worker.inspect(page)
            entries += page.entries
            if at == 0 {
                vteps = page.vteps
                for (vni, bd) in page.domains { vniOfBD[bd] = vni }
            }
            from = page.next
        }
        entries.sort { $0.key < $1.key }
        return (entries, vteps, vniOfBD)
    }

    /// The owner's FDB, sorted by key.
    private func ownerEntries() -> Copy {
        tables.read { p in
            var entries: [FDBEntry] = []
            entries.reserveCapacity(p.fdb.count)
            p.fdb.forEachEntry { entries.append($0) }
            var vniOfBD: [UInt16: VNI] = [:]
            for d in p.bridgeDomains.domains where d.active {
                if let bd = p.bridgeDomains.index(of: d.vni) { vniOfBD[bd] = d.vni }
            }
            entries.sort { $0.key < $1.key }
            return (entries, p.vteps.entries, vniOfBD)
        }
    }

    private func describe(_ e: FDBEntry?, vteps: [VTEP]) -> String {
        guard let e else { return "absent" }
        let place: String
        switch e.destination {
        case .port(let p): place = name(of: p)
        case .vtep(let v): place = Int(v) < vteps.count ? "vtep \(vteps[Int(v)].ip)" : "vtep #\(v)"
        }
        return "\(SwitchDaemon.typeName(e.origin)) \(place) seq \(e.sequence)\(e.sticky ? " sticky" : "")"
    }

    /// A merge of the owner's sorted copy with the worker's.
    private func compare(_ ownerCopy: Copy, _ worker: [FDBEntry], place: String) -> [ConsistencyReport.Difference] {
        let owner = ownerCopy.entries
        var out: [ConsistencyReport.Difference] = []
        var i = 0, j = 0
        func diff(_ o: FDBEntry?, _ w: FDBEntry?) {
            let e = (o ?? w)!
            out.append(.init(place: place, vni: ownerCopy.vniOfBD[e.bridgeDomain]?.value, mac: e.mac.description,
                             owner: describe(o, vteps: ownerCopy.vteps), other: describe(w, vteps: ownerCopy.vteps)))
        }
        while i < owner.count || j < worker.count {
            if j == worker.count || (i < owner.count && owner[i].key < worker[j].key) { diff(owner[i], nil); i += 1 }
            else if i == owner.count || worker[j].key < owner[i].key { diff(nil, worker[j]); j += 1 }
            else {
                if !owner[i].forwardsLike(worker[j]) { diff(owner[i], worker[j]) }
                i += 1; j += 1
            }
        }
        return out
    }

    private func compareVTEPs(owner: [VTEP], worker: [VTEP], place: String) -> [ConsistencyReport.Difference] {
        var out: [ConsistencyReport.Difference] = []
        for i in 0..<max(owner.count, worker.count) {
            let o = i < owner.count && owner[i].active ? owner[i] : nil
            let w = i < worker.count && worker[i].active ? worker[i] : nil
            func text(_ v: VTEP?) -> String { v.map { "vtep \($0.ip) next hop \($0.nextHop?.description ?? "unresolved")" } ?? "absent" }
            if o?.ip != w?.ip || o?.nextHop != w?.nextHop {
                out.append(.init(place: place, vni: nil, mac: nil, owner: "VTEP #\(i): " + text(o), other: text(w)))
            }
        }
        return out
    }

    /// What the maps hold against what the owner's copy says they should (through the mirror's
    /// own view of ports and VTEPs); nil without a fast path.
    private func fastPathDifferences(vniOfBD: [UInt16: VNI]) -> (count: Int, diffs: [ConsistencyReport.Difference])? {
        guard let fast = fastPath else { return nil }
        let actual = fast.maps.fdbEntries()
        // The mirror's own view of ports and VTEPs, read in place under its lock (as the fast-path thread does).
        let expected: [UInt64: FastPathTables.Target] = fast.lock.withLock {
            tables.read { p in
                var out: [UInt64: FastPathTables.Target] = [:]
                p.fdb.forEachEntry { e in if let t = fast.written.target(for: e) { out[e.key] = t } }
                return out
            }
        }
        let full = actual.count >= FastPathMaps.fdbCapacity
        var diffs: [ConsistencyReport.Difference] = []
        func text(_ t: FastPathTables.Target?) -> String {
            switch t {
            case .port(let ifindex)?: return "port ifindex \(ifindex)"
            case .vtep(let v)?: return "vtep #\(v)"
            case nil: return "absent"
            }
        }
        for key in Set(actual.keys).union(expected.keys) where actual[key] != expected[key] {
            // A full map holds only some of the entries: the rest are the engine's, by design.
            if full && actual[key] == nil { continue }
            diffs.append(.init(place: "xdp", vni: vniOfBD[UInt16(truncatingIfNeeded: key >> 48)]?.value,
                               mac: MACAddress(raw: key).description, owner: text(expected[key]), other: text(actual[key])))
        }
        return (actual.count, diffs)
    }
}
