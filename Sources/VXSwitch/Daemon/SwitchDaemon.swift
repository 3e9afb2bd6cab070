import Foundation
import VXConfig
import VXControl
import VXCore
import VXDatapath
import VXEVPN
import VXTables

/// vxsw running: the AF_XDP datapath with the switch pipeline, ports from the config (and
/// added at run time), VTEP next hops resolved through the kernel, the control socket.
///
/// Threads: each worker (one per CPU in `datapath.workers`) owns its copy of the tables;
/// control code changes them only through the owner (`tables.apply`), which keeps its own copy
/// and posts each change to every worker's job ring. `show` and metrics read the owner's copy
/// and the workers' counters; nothing here takes a lock a worker holds.
public final class SwitchDaemon: @unchecked Sendable {
    /// The configuration it runs; `reload` replaces it (`SwitchDaemon+Reload.swift`).
    public var config: SwitchConfig { configLock.withLock { currentConfig } }
    private var currentConfig: SwitchConfig
    private let configLock = NSLock()
    /// The file the config came from (set by `vxsw run`), which `reload` reads again.
    public var configPath: String?
    let log: DaemonLog
    let datapath: Datapath<SwitchPipeline>
    /// The owner of the switch tables (`VXTables`).
    let tables: SwitchTables
    /// Each worker's counters (its own storage: read live and summed, never copied with a worker).
    let counters: [Counters]
    var reportsThread: Thread?
    let uplink: InterfaceInfo?
    /// Port names by id; id 0 is the uplink. Guarded by `lock` (control threads only).
    var portNames: [PortID: String] = [:]
    var portConfigs: [PortID: SwitchConfig.Port] = [:]
    /// Ports on a packet socket (taps): not in the XDP program's tables, so not in the fast path.
    var packetPorts: Set<PortID> = []
    /// VM ports whose interface is gone (or not there yet), by name: attached when it appears
    /// (`SwitchDaemon+Lifecycle.swift`). Guarded by `lock`.
    var waitingPorts: [String: SwitchConfig.Port] = [:]
    /// Serializes attaching and detaching ports (control socket, link events, shutdown).
    let portOps = NSLock()
    var linkThread: Thread?
    /// Run-time ports and static MACs as the state file holds them (`SwitchDaemon+State.swift`).
    /// Guarded by `lock`; `stateWrites` serializes rewriting the file.
    var runState = RunState()
    let stateWrites = NSLock()
    let lock = NSLock()
    let startedAt = Date()
    /// When the last consistency audit ran and how many entries differed (guarded by `lock`).
    var lastAudit: (at: Date, differences: Int)?
    /// What the control socket's `version` answers (the CLI sets it with the build's commit).
    public var version = vxswVersion
    var control: ControlServer?
    var metrics: MetricsServer?
    /// The speaker; read by control, reports and restart threads alike, so under `lock`.
    var evpn: EVPNSpeaker? {
        get { lock.withLock { evpnSpeaker } }
        set { lock.withLock { evpnSpeaker = newValue } }
    }
    private var evpnSpeaker: EVPNSpeaker?
    /// Serializes requests that change something (port, fdb, bgp), so that the change and its
    /// state-file record are one step; shows run concurrently.
    let controlOps = NSLock()
    var evpnFeed: SwitchDataplaneFeed?
    var resolverThread: Thread?
    /// The XDP fast path's maps and mirror thread (nil: `datapath.fast-path: false`).
    var fastPath: FastPathState?
    /// Driver of each port by name, for the fast path's veth rule (guarded by `lock`).
    var fastPathDriver: [String: String] = [:]
    let stopping = NSCondition()
    var stopped = false
    public static let uplinkID = PortID(0)

    public init(config: SwitchConfig, log: DaemonLog) throws {
        currentConfig = config
        self.log = log
        uplink = try config.uplink.map { try InterfaceInfo(name: $0.interface) }
        let underlayMTU: Int
        switch config.uplink?.mtu {
        case .fixed(let m)?: underlayMTU = m
        default: underlayMTU = uplink?.mtu ?? 1500
        }
        var underlay = UnderlayConfig(uplink: Self.uplinkID, uplinkMAC: uplink?.mac ?? .zero,
                                      localV4: config.vtep.ipv4, localV6: config.vtep.ipv6)
        underlay.udpPort = config.vtep.udpPort
        underlay.uplinkMTU = underlayMTU
        underlay.udp6ZeroChecksum = config.vtep.udp6ZeroChecksum
        underlay.verifyUDPChecksumV4 = config.vtep.verifyUDPChecksumV4
        underlay.verifyUDPChecksumV6 = config.vtep.verifyUDPChecksumV6
        underlay.sourcePortRange = config.vtep.sourcePortRange
        // Kernel VTEPs and offloading senders leave inner checksums partial: complete them.
        underlay.completeDecapChecksums = true
        // Two copies of the same empty tables: the owner's and the worker's. Everything in them
        // from here on arrives as `TableUpdate`s through the owner, to both in the same order.
        func emptyTables() -> SwitchPipeline {
            var p = SwitchPipeline(underlay: underlay, fdbCapacity: config.fdb.maxEntries, neighborCapacity: config.fdb.maxNeighbors)
            p.fdb.ageLimit = config.fdb.agingTime == 0 ? .max : UInt32(config.fdb.agingTime)
            p.apply(.setVTEPAdmission(config.vtep.admission))
            p.learnsNeighbors = config.bgp != nil // EVPN advertises local VMs' IPs (and ages them with their MAC)
            return p
        }
        // One copy per worker (a worker per CPU in `datapath.workers`), each counting in its own storage.
        let workerCPUs = config.datapath.workers.isEmpty ? [firstAllowedCPU()] : config.datapath.workers
        let pipelines = workerCPUs.map { _ in
            var p = emptyTables()
            p.createsVTEPs = false
            return p
        }
        counters = pipelines.map(\.counters)
        tables = SwitchTables(emptyTables())
        let settings = DatapathSettings(
            frameCount: config.datapath.frames, frameSize: config.datapath.frameSize,
            ringSize: config.datapath.ringSize,
            attachMode: XDPAttachMode(rawValue: config.datapath.attach.rawValue) ?? .auto,
            numaNode: config.datapath.numaNode.map(Int32.init) ?? uplink?.numaNode,
            worker: WorkerSettings(cpus: workerCPUs, batchSize: config.datapath.batchSize,
                                   poll: PollMode(rawValue: config.datapath.poll.rawValue) ?? .adaptive),
            busyPoll: config.datapath.busyPoll.map {
                XSKBusyPoll(timeoutMicroseconds: Int32($0.timeoutMicroseconds), budget: Int32($0.budget), prefer: $0.prefer)
            }, tunnelGSO: config.datapath.tunnelGSO)
        datapath = try Datapath(processors: pipelines, settings: settings)
        for w in datapath.workers { tables.subscribe(WorkerTables(w)) }
        // With EVPN, remote MACs come from type-2 routes (like FRR's `nolearning` vxlan devices).
        if config.bgp != nil && config.vnis.contains(where: \.learnRemote) {
            log.info("EVPN configured: remote MACs come from BGP, data-plane remote learning is off")
        }
        for v in config.vnis {
            guard tables.apply(v.tableUpdate(learnRemote: config.bgp == nil, in: config)) else { throw ConfigError(path: "vnis", problem: "more VNIs than the switch table holds") }
            tables.apply(v.flood.map { .addFlood(v.vni, $0, .static) })
        }
        try installRouting()
        try datapath.program.setConfig(vtep4: config.vtep.ipv4, vtep6: config.vtep.ipv6, udpPort: config.vtep.udpPort)
        if config.datapath.fastPath != .off {
            let fast = FastPathState(maps: try FastPathMaps(program: datapath.program), enabled: config.datapath.attach != .generic)
            tables.observe(fast)
            fastPath = fast
            if config.datapath.attach == .generic { log.warning("XDP fast path off: it needs native XDP (datapath.attach is generic)") }
        }
    }

    /// Attaches the uplink, the configured ports and then the state file's, installs static MACs,
    /// starts the worker, the VTEP resolver and the control socket. On error everything started is undone.
    /// The calling thread, and so every control thread started from it (EVPN event loops, the
    /// control socket, resolver, reports, fast-path mirror), runs at nice +5 from here on; the
    /// workers at 0 (`ControlPriority`).
    public func start() throws {
        if let problem = ControlPriority.lowerCurrentThread() { log.warning(problem) }
        do {
            try loadState()
            if let uplink = config.uplink {
                var queues: [Int]?
                if case .list(let list) = uplink.queues { queues = list.map(Int.init) }
                let mtu = tables.read { $0.underlay.uplinkMTU }
                try attach(interface: uplink.interface, id: Self.uplinkID, role: .uplink, queues: queues) { _ in
                    PortConfig(kind: .uplink, mtu: mtu)
                }
                checkMTU()
                if let problem = datapath.tapDeliveryError {
                    log.warning("\(uplink.interface): overlay frames to taps go through the worker (\(problem))")
                }
            }
            try startLinkWatcher()
            for port in config.ports { try addOrAwait(port) }
            try addStatePorts()
            for entry in config.fdb.staticEntries {
                // A static MAC on a port that waits for its interface is installed when it is attached.
                if case .port(let name) = entry.target, lock.withLock({ waitingPorts[name] != nil }) {
                    log.info("fdb static \(entry.mac): installed when port \(name) is attached")
                    continue
                }
                try addStatic(entry)
            }
            addStateStatics()
            datapath.start()
            if let e = datapath.pinError { log.warning(e) }
            try startEVPN()
            startReports()
            startResolver()
            startFastPath()
            startAudits()
            let server = ControlServer(path: config.control.socket) { [weak self] request in
                guard let self else { return .failure("vxsw is stopping") }
                return self.handle(request)
            }
            try server.start()
            control = server
            try startMetrics()
            log.info("running: \(portNames.count) ports, \(config.vnis.count) VNIs, control socket \(config.control.socket)")
        } catch {
            shutdown()
            throw error
        }
    }

    /// Attaches an interface; with `attach: auto` the datapath falls back to generic XDP where
    /// the driver has no native XDP (in one attach: the sockets are bound once). The port is in
    /// the tables (`portConfig` of the interface) before its sockets receive, and taken out
    /// again when attaching fails: a failed attach leaves nothing behind.
    func attach(interface: String, id: PortID, role: XDPPortRole, queues: [Int]? = nil,
                portConfig: (InterfaceInfo) -> PortConfig) throws {
        let info = try InterfaceInfo(name: interface)
        tables.apply(.setPort(id, portConfig(info)), wait: true)
        let port: AttachedPort
        do {
            port = try datapath.attach(interface: interface, as: id, role: role, queues: queues)
        } catch {
            tables.apply(.setPort(id, nil), wait: true)
            throw error
        }
        let mode = port.attachMode?.rawValue ?? "no"
        log.info("attached \(interface) as port \(id) (\(role == .uplink ? "uplink" : "access"), \(port.queues) queue\(port.queues == 1 ? "" : "s"), \(mode) XDP)")
        if port.attachMode == .generic && config.datapath.attach == .auto {
            log.warning("\(interface): no native XDP (driver \(info.driver ?? "?")); using generic XDP")
            disableFastPath("\(interface) runs generic XDP")
        }
        lock.lock(); portNames[id] = interface; lock.unlock()
        fastPath?.markStructural()
    }

    func replaceConfig(_ new: SwitchConfig) { configLock.withLock { currentConfig = new } }

    /// The MTU chain: the underlay must carry the largest inner frame plus 50 (IPv4) / 70 (IPv6).
    func checkMTU() {
        let underlay = tables.read { $0.underlay.uplinkMTU }
        let overhead = config.vtep.ipv6 != nil ? 70 : 50
        if underlay < 1500 + overhead {
            log.warning("underlay MTU \(underlay) carries inner frames up to MTU \(underlay - overhead) only; VM ports at 1500 need \(1500 + overhead) (larger frames are dropped and counted as too_big)")
        }
    }

    /// Stops everything and detaches every XDP program. Idempotent.
    public func shutdown() {
        stopping.lock()
        let already = stopped
        stopped = true
        stopping.broadcast()
        stopping.unlock()
        guard !already else { return }
        metrics?.stop()
        control?.stop()
        stopEVPN()
        stopFastPath()
        portOps.lock()
        datapath.shutdown()
        portOps.unlock()
        log.info("stopped; all XDP programs detached")
    }
}

extension SwitchConfig.VNIConfig {
    /// The update that configures this VNI in the tables; remote learning only where `learnRemote`
    /// allows it (with EVPN, remote MACs come from BGP); its MAC limit, or `config`'s default.
    func tableUpdate(learnRemote allowed: Bool, in config: SwitchConfig) -> TableUpdate {
        .addVNI(vni, learnRemote: learnRemote && allowed, macLimit: config.macLimit(of: self), carryTagged: carryTagged)
    }
}
