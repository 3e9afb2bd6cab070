import VXControl
import VXCore
import VXDatapath

/// What every `show` and the Prometheus page are built from: rows of the owner's copy of the
/// tables and the workers' counters (summed) as they are now. No worker stops for it.
struct SwitchSnapshot {
    var now: UInt32
    var ports: [(PortID, PortConfig)]
    var counters: CounterSnapshot
    var domains: [(bd: UInt16, domain: BridgeDomain)]
    /// All VTEP slots, indexed like the pipeline's VTEP table (inactive ones included).
    var vteps: [VTEP]
    /// Rows only when asked for (`snapshot(rows: true)`); `fdbCounts` always.
    var fdb: [FDBRow]
    var fdbCounts: [VNI: FDBCounts]
    /// Neighbour-table entries per bridge domain.
    var neighbors: [UInt16: Int]
    var freeFrames: Int
    var sockets: [QueueCounters]
    var taps: [TapPortCounters]
    /// Report rounds the workers held back (their report ring was full).
    var eventsHeldBack: UInt64
    /// MACs learned per port (the owner's copy).
    var portLearned: [PortID: Int]
}

extension SwitchDaemon {
    /// With `rows`, every FDB row (of `vni`, when given); without, only counts per VNI.
    func snapshot(vni: VNI? = nil, rows: Bool = false) -> SwitchSnapshot {
        let now = Worker<SwitchPipeline>.seconds()
        let counts = CounterSnapshot.sum(counters.map { $0.snapshot() })
        let heldBack = counters.reduce(0) { $0 &+ $1.reportsHeldBack }
        let (free, sockets, taps) = (datapath.freeFrames, datapath.queueCounters, datapath.tapCounters)
        return tables.read { p in
            let ports = (0..<p.ports.capacity).compactMap { i -> (PortID, PortConfig)? in
                p.ports.config(PortID(i)).map { (PortID(i), $0) }
            }
            let domains = p.bridgeDomains.domains.enumerated()
                .filter { $0.element.active }
                .map { (bd: UInt16($0.offset), domain: $0.element) }
            let learned = Dictionary(uniqueKeysWithValues: ports.map { ($0.0, p.fdb.learnedEntries(port: $0.0)) })
            return SwitchSnapshot(now: now, ports: ports, counters: counts, domains: domains,
                                  vteps: p.vteps.entries, fdb: rows ? p.fdbRows(now: now, vni: vni) : [],
                                  fdbCounts: p.fdbCounts(),
                                  neighbors: p.neighbors.countsByDomain(),
                                  freeFrames: free, sockets: sockets, taps: taps, eventsHeldBack: heldBack,
                                  portLearned: learned)
        }
    }

    func name(of port: PortID) -> String {
        lock.lock(); defer { lock.unlock() }
        return portNames[port] ?? "port\(port)"
    }

    func portViews(_ snap: SwitchSnapshot) -> [PortView] {
        var kernel: [UInt16: XSKKernelDrops] = [:]
        for s in snap.sockets { if let k = s.kernel { kernel[s.port, default: .zero].add(k) } }
        return snap.ports.map { id, cfg in
            let c = snap.counters.ports[Int(id.raw)]
            let kind: String, vnis: [UInt32]
            switch cfg.kind {
            case .uplink: kind = "uplink"; vnis = []
            case .access(let v): kind = "access"; vnis = [v.value]
            case .trunk(let vlans, let native):
                kind = "trunk"; vnis = Set(vlans.values.map(\.value) + (native.map { [$0.value] } ?? [])).sorted()
            }
            var drops: [String: UInt64] = [:]
            for r in DropReason.allCases { let n = snap.counters.drops(port: id, r); if n > 0 { drops[r.name] = n } }
            return PortView(id: Int(id.raw), name: name(of: id), kind: kind, vnis: vnis, mtu: cfg.mtu,
                            rxPackets: c.rxPackets, rxBytes: c.rxBytes, txPackets: c.txPackets, txBytes: c.txBytes, drops: drops,
                            stormControl: kind == "uplink" ? nil : cfg.storm, kernelDrops: kernel[id.raw],
                            learnedMACs: kind == "uplink" ? nil : snap.portLearned[id] ?? 0,
                            macLimit: cfg.macLimit, macLimitHits: kind == "uplink" ? nil : c.macLimitHits)
        }
    }

    func macViews(_ snap: SwitchSnapshot) -> [MACView] { macViews(snap.fdb) }

    func macViews(_ rows: [FDBRow]) -> [MACView] {
        let names = lock.withLock { portNames }
        // Few VTEPs, many rows: format each address once.
        var vtepText: [IPAddress: String] = [:]
        return rows.map { row in
            let vtep = row.vtep.map { ip in
                if let t = vtepText[ip] { return t }
                let t = ip.description
                vtepText[ip] = t
                return t
            }
            return MACView(vni: row.vni.value, mac: row.mac.description, type: Self.typeName(row.origin),
                           port: row.port.map { names[$0] ?? "port\($0)" }, vtep: vtep,
                           ageSeconds: row.age, sequence: row.sequence, sticky: row.sticky)
        }
    }

    static func typeName(_ origin: FDBOrigin) -> String {
        switch origin {
        case .localLearned: return "local"
        case .remoteLearned: return "remote"
        case .static: return "static"
        case .evpn: return "evpn"
        }
    }

    /// One page of `show mac`, read from the owner's copy (the page's rows, never the table's).
    func macPage(vni: VNI?, page: ControlRequest.MACPage) -> MACTable {
        let now = Worker<SwitchPipeline>.seconds()
        let limit = min(page.limit, 100_000)
        let (rows, next) = tables.read { $0.fdbRowsPage(now: now, vni: vni, from: page.from, limit: limit) }
        return MACTable(entries: macViews(rows), next: next)
    }

    func macCount(vni: VNI?) -> MACCount {
        let counts = tables.read { $0.fdbCounts() }.filter { vni == nil || $0.key == vni }
        var byType: [String: Int] = [:], byVNI: [String: Int] = [:]
        for (v, c) in counts {
            for (origin, n) in c.byOrigin { byType[Self.typeName(origin), default: 0] += n }
            byVNI[String(v.value)] = c.local + c.remote
        }
        let byVTEP = tables.read { p -> [String: Int] in
            let bd = vni.flatMap { p.bridgeDomains.index(of: $0) }
            if vni != nil && bd == nil { return [:] }
            let vteps = p.vteps.entries
            var out: [String: Int] = [:]
            for (v, n) in p.fdb.countsByVTEP(bridgeDomain: bd) where Int(v) < vteps.count { out[vteps[Int(v)].ip.description, default: 0] += n }
            return out
        }
        return MACCount(total: byVNI.values.reduce(0, +), byType: byType, byVNI: byVNI, byVTEP: byVTEP)
    }

    func vniViews(_ snap: SwitchSnapshot, only: VNI? = nil) -> [VNIView] {
        snap.domains.filter { only == nil || $0.domain.vni == only }.map { bd, d in
            let c = snap.counters.vnis[Int(bd)]
            let counts = snap.fdbCounts[d.vni] ?? FDBCounts()
            var drops: [String: UInt64] = [:]
            for r in DropReason.allCases { let n = snap.counters.drops(bd: bd, r); if n > 0 { drops[r.name] = n } }
            let flood = d.floodList.map { snap.vteps[Int($0.vtep)].ip.description }
            return VNIView(vni: d.vni.value, ports: d.members.map { name(of: $0.port) }, floodList: flood,
                           localMACs: counts.local, remoteMACs: counts.remote,
                           macLimit: d.macLimit, learnRemote: d.learnRemote,
                           rxPackets: c.rxPackets, rxBytes: c.rxBytes, txPackets: c.txPackets, txBytes: c.txBytes,
                           floods: c.floods, arpSuppressed: c.arpSuppressed, ndSuppressed: c.ndSuppressed,
                           neighbors: snap.neighbors[bd, default: 0], drops: drops,
                           macLimitHits: c.macLimitHits, tableFullHits: c.tableFullHits, learnsDeferred: c.learnsDeferred)
        }.sorted { $0.vni < $1.vni }
    }

    func statsView(_ snap: SwitchSnapshot) -> StatsView {
        var drops: [String: UInt64] = [:]
        for r in DropReason.allCases { drops[r.name] = snap.counters.drops(r) }
        return StatsView(
            uptimeSeconds: Int(-startedAt.timeIntervalSinceNow),
            ports: portViews(snap), vnis: vniViews(snap),
            vteps: snap.vteps.enumerated().filter(\.element.active).map { i, v in
                let c = i < snap.counters.vteps.count ? snap.counters.vteps[i] : VTEPCounters()
                return VTEPView(address: v.ip.description, nextHop: v.nextHop?.description,
                                txPackets: c.txPackets, txBytes: c.txBytes, drops: c.drops, learned: v.learned)
            },
            drops: drops, xdp: datapath.program.statistics(), freeFrames: snap.freeFrames,
            sockets: snap.sockets.map { SocketView(port: name(of: PortID($0.port)), txKicks: $0.txKicks,
                                                   txKickErrors: $0.txKickErrors, outstandingTx: $0.outstandingTx,
                                                   fillFrames: $0.filled, kernelDrops: $0.kernel) },
            taps: snap.taps.map { TapView(port: name(of: PortID($0.port)), counters: $0.counters) },
            fdbEventsHeldBack: snap.eventsHeldBack, workerHeartbeat: datapath.workers[0].heartbeat,
            workers: workerViews(),
            tunnel: TunnelView(tap: datapath.tunnelTap?.name, unavailable: datapath.tunnelError, counters: datapath.tunnelCounters))
    }

    func workerViews() -> [WorkerView] {
        datapath.workers.map { w in
            let on = datapath.ports.values.filter { $0.receivers.contains(w.index) }
                .sorted { $0.id.raw < $1.id.raw }.map { name(of: $0.id) }
            return WorkerView(index: w.index, cpu: w.cpu, heartbeat: w.heartbeat, frames: w.frames,
                              cpuSeconds: Double(w.cpuNanoseconds) / 1e9, freeFrames: w.freeFrames, receivesOn: on)
        }
    }
}
