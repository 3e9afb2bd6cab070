import Foundation
import VXConfig
import VXControl
import VXCore
import VXDatapath
import VXEVPN
import VXTables

/// The EVPN route feed wired to the switch: the speaker's routes become FDB entries and
/// flood lists (table updates through the owner, which posts them to the worker without
/// waiting), the switch's local MACs become type-2 routes, every local VNI a type-3 route.
///
/// ```
///  EVPNSpeaker ──installRemoteMAC / addFloodVTEP──▶ SwitchDataplaneFeed ──tables.apply──▶ SwitchTables ──job ring──▶ worker
///       ▲                                                                                                            │ reports
///       └──────────── localMACsChanged (batches) ◀───────── reports thread ◀─────────────────────────────────────────┘
/// ```
final class SwitchDataplaneFeed: EVPNDataplane, @unchecked Sendable {
    let tables: SwitchTables
    let log: DaemonLog
    /// What EVPN installed, so a control-plane restart can sweep what is not re-announced (the
    /// MACs: the owner's FDB entries of origin EVPN, read when the restart begins).
    private let lock = NSLock()
    private var installedFloods: Set<VNIVTEP> = []
    private var staleMACs: Set<VNIMAC> = []
    private var staleFloods: Set<VNIVTEP> = []
    /// Host routes (type 2) and prefix routes (type 5) EVPN installed in the VRFs.
    private var installedRoutes: Set<VRFPrefix> = []
    private var staleRoutes: Set<VRFPrefix> = []
    /// The VRFs' connected subnets: a type-5 route for one of them never replaces it.
    private var connected: Set<VRFPrefix> = []
    var connectedSubnets: Set<VRFPrefix> {
        get { lock.withLock { connected } }
        set { lock.withLock { connected = newValue } }
    }
    /// The IPs of each installed MAC's MAC/IP routes: its neighbour entries (ARP/ND suppression).
    private var neighborIPs: [VNIMAC: [IPAddress]] = [:]

    struct VNIVTEP: Hashable { var vni: VNI; var vtep: IPAddress }

    /// MAC installs, withdrawals and flood list changes queued between `beginBatch` and `endBatch`
    /// (one socket read's UPDATEs),
    /// applied in one `tables.apply`; what to warn about when one of them is refused.
    private var batchDepth = 0
    private var queued: [TableUpdate] = []
    private var queuedChecks: [InstallCheck] = []
    struct InstallCheck { var index: Int; var vni: VNI; var mac: MACAddress; var ip: IPAddress? }

    func beginBatch() { lock.withLock { batchDepth += 1 } }

    func endBatch() {
        let outermost = lock.withLock { () -> Bool in batchDepth = max(0, batchDepth - 1); return batchDepth == 0 }
        if outermost { flushQueued() }
    }

    /// Applies what is queued (before any other table change, which keeps the RIB's order).
    private func flushQueued() {
        let (updates, checks) = lock.withLock { () -> ([TableUpdate], [InstallCheck]) in
            defer { queued = []; queuedChecks = [] }
            return (queued, queuedChecks)
        }
        guard !updates.isEmpty else { return }
        warnRefused(tables.apply(updates), checks)
    }

    /// Applies updates now, or queues them inside a batch: `write` appends them (and their
    /// checks, indexed in the same array) to the batch's queue under the lock, or to a fresh
    /// one applied at once outside a batch. One UPDATE's ~100 MACs go straight into the queue.
    private func submit(_ write: (inout [TableUpdate], inout [InstallCheck]) -> Void) {
        var now: [TableUpdate] = [], nowChecks: [InstallCheck] = []
        lock.withLock {
            if batchDepth > 0 { write(&queued, &queuedChecks) } else { write(&now, &nowChecks) }
        }
        if !now.isEmpty { warnRefused(tables.apply(now), nowChecks) }
    }

    private func warnRefused(_ results: [Bool], _ checks: [InstallCheck]) {
        for c in checks where !results[c.index] {
            if let ip = c.ip {
                log.warning("EVPN: cannot install neighbour \(ip) -> \(c.mac) in VNI \(c.vni) (table full?)")
            } else {
                log.warning("EVPN: cannot install \(c.mac) in VNI \(c.vni) (VNI not local or table full)")
            }
        }
    }

    init(tables: SwitchTables, log: DaemonLog) {
        self.tables = tables
        self.log = log
    }

    /// A restart begins: everything installed so far is stale until announced again.
    func markAllStale() {
        let macs = tables.read { p -> Set<VNIMAC> in
            var out = Set<VNIMAC>()
            p.fdb.forEachEntry { e in
                if e.origin == .evpn { out.insert(VNIMAC(p.fdb.vni(ofBD: UInt16(e.key >> 48)), MACAddress(raw: e.key))) }
            }
            return out
        }
        lock.withLock {
            staleMACs = macs
            staleFloods = installedFloods
            staleRoutes = installedRoutes
        }
    }

    /// The restarted speaker is synchronized: withdraw what no peer announced again.
    func sweepStale() -> Int {
        let (macs, floods, routes) = lock.withLock { () -> (Set<VNIMAC>, Set<VNIVTEP>, Set<VRFPrefix>) in
            defer { staleMACs = []; staleFloods = []; staleRoutes = [] }
            return (staleMACs, staleFloods, staleRoutes)
        }
        for k in macs { withdrawRemoteMAC(vni: k.vni, mac: k.mac) }
        for f in floods { removeFloodVTEP(vni: f.vni, vtep: f.vtep) }
        for r in routes { withdrawRemoteRoute(r) }
        return macs.count + floods.count + routes.count
    }

    func installRemoteMAC(vni: VNI, mac: MACAddress, ips: [IPAddress], vtep: IPAddress, seq: UInt32) {
        let k = VNIMAC(vni, mac)
        // The neighbour entries (ARP/ND suppression) follow the MAC's best route: each of its IPs
        // (IPv4 and IPv6, several of each) maps to the MAC; an IP it no longer has is withdrawn
        // while it still maps to this MAC (another MAC may have taken it: a floating IP), and all
        // leave with the MAC (`withdrawRemoteMAC`).
        let previous = lock.withLock { () -> [IPAddress] in
            if !staleMACs.isEmpty { staleMACs.remove(k) }
            if ips.isEmpty { return neighborIPs.isEmpty ? [] : neighborIPs.removeValue(forKey: k) ?? [] }
            return neighborIPs.updateValue(ips, forKey: k) ?? []
        }
        submit { queue, checks in
            for ip in previous where !ips.contains(ip) { queue.append(.withdrawNeighbor(vni, ip, mac)) }
            for ip in ips {
                checks.append(InstallCheck(index: queue.count, vni: vni, mac: mac, ip: ip))
                queue.append(.installNeighbor(vni, ip, mac))
            }
            checks.append(InstallCheck(index: queue.count, vni: vni, mac: mac, ip: nil))
            queue.append(.installEVPN(vni, mac, vtep: vtep, sequence: seq))
        }
        log.debug("EVPN: \(mac)\(ips.isEmpty ? "" : " (\(ips.map { "\($0)" }.joined(separator: ", ")))") in VNI \(vni) -> \(vtep) seq \(seq)")
    }

    func withdrawRemoteMAC(vni: VNI, mac: MACAddress) {
        let ips = lock.withLock { () -> [IPAddress] in
            return neighborIPs.removeValue(forKey: VNIMAC(vni, mac)) ?? []
        }
        submit { queue, _ in
            for ip in ips { queue.append(.withdrawNeighbor(vni, ip, mac)) }
            queue.append(.withdrawEVPN(vni, mac))
        }
        log.debug("EVPN: withdrew \(mac) in VNI \(vni)")
    }

    /// Flood list changes join the batch too (one type-3 route per UPDATE, one per VNI: with
    /// 4k VNIs, 4k table hand-offs of their own before), in the RIB's order.
    func addFloodVTEP(vni: VNI, vtep: IPAddress) {
        let new = lock.withLock { () -> Bool in
            staleFloods.remove(VNIVTEP(vni: vni, vtep: vtep))
            return installedFloods.insert(VNIVTEP(vni: vni, vtep: vtep)).inserted
        }
        submit { queue, _ in queue.append(.addFlood(vni, vtep, .evpn)) }
        // Debug, not info: a VTEP joins every VNI it shares with us (4k lines per VTEP with 4k
        // VNIs); `show vni` lists the flood lists.
        if new { log.debug("EVPN: VTEP \(vtep) joins the flood list of VNI \(vni)") }
    }

    /// Only what EVPN added goes: a statically configured flood entry stays.
    func removeFloodVTEP(vni: VNI, vtep: IPAddress) {
        let was = lock.withLock { installedFloods.remove(VNIVTEP(vni: vni, vtep: vtep)) != nil }
        submit { queue, _ in queue.append(.removeFlood(vni, vtep, origin: .evpn)) }
        if was { log.debug("EVPN: VTEP \(vtep) leaves the flood list of VNI \(vni)") }
    }

    /// Symmetric IRB: a host route to the remote VTEP's router MAC through the L3 VNI.
    func installRemoteHostRoute(vrf: VNI, ip: IPAddress, vtep: IPAddress, routerMAC: MACAddress) {
        installRemoteRoute(VRFPrefix(vrf, Self.hostPrefix(ip)), vtep: vtep, routerMAC: routerMAC)
    }

    func withdrawRemoteHostRoute(vrf: VNI, ip: IPAddress) { withdrawRemoteRoute(VRFPrefix(vrf, Self.hostPrefix(ip))) }

    /// A type-5 prefix, the same way; never over one of the VRF's connected subnets (an anycast
    /// gateway's subnet that another VTEP advertises too stays connected here).
    func installRemotePrefixRoute(vrf: VNI, prefix: IPPrefix, vtep: IPAddress, routerMAC: MACAddress) {
        let k = VRFPrefix(vrf, prefix)
        if connectedSubnets.contains(k) {
            log.debug("EVPN: prefix \(prefix) from \(vtep) is connected in VRF \(vrf): kept connected")
            return
        }
        installRemoteRoute(k, vtep: vtep, routerMAC: routerMAC)
    }

    func withdrawRemotePrefixRoute(vrf: VNI, prefix: IPPrefix) {
        let k = VRFPrefix(vrf, prefix)
        if connectedSubnets.contains(k) { return }
        withdrawRemoteRoute(k)
    }

    private func installRemoteRoute(_ k: VRFPrefix, vtep: IPAddress, routerMAC: MACAddress) {
        flushQueued()
        lock.withLock { installedRoutes.insert(k); staleRoutes.remove(k) }
        if !tables.apply(.installRoute(vrf: k.vrf, k.prefix, .remote(vtep: vtep, routerMAC: routerMAC))) {
            log.warning("EVPN: cannot install route \(k.prefix) in VRF \(k.vrf) (VRF not local or table full)")
        }
        log.debug("EVPN: route \(k.prefix) in VRF \(k.vrf) -> \(vtep) rmac \(routerMAC)")
    }

    private func withdrawRemoteRoute(_ k: VRFPrefix) {
        flushQueued()
        lock.withLock { _ = installedRoutes.remove(k) }
        tables.apply(.removeRoute(vrf: k.vrf, k.prefix))
        log.debug("EVPN: withdrew route \(k.prefix) in VRF \(k.vrf)")
    }

    static func hostPrefix(_ ip: IPAddress) -> IPPrefix { IPPrefix(ip, length: ip.isIPv4 ? 32 : 128)! }

    /// FRR's words (zebra's EC_ZEBRA_DUP_MAC_DETECTED), and what vxsw does about it.
    func duplicateMACDetected(vni: VNI, mac: MACAddress, moves: Int, local: Bool, vtep: IPAddress?, frozen: Bool) {
        let during = local ? "local update, last VTEP" : "remote update, from VTEP"
        log.warning("EVPN: VNI \(vni): MAC \(mac) detected as duplicate during \(during) \(vtep.map { "\($0)" } ?? "-") "
                    + "(\(moves) moves); " + (frozen ? "frozen: not advertised or installed until cleared" : "still advertised (no freeze)"))
    }

    /// FRR's words (zebra's EC_ZEBRA_DUP_IP_DETECTED) for a local VM's IP.
    func duplicateIPDetected(vni: VNI, ip: IPAddress, moves: Int, local: Bool, vtep: IPAddress?, frozen: Bool) {
        let during = local ? "local update, last VTEP" : "remote update, from VTEP"
        log.warning("EVPN: VNI \(vni): IP \(ip) detected as duplicate during \(during) \(vtep.map { "\($0)" } ?? "-") "
                    + "(\(moves) moves); " + (frozen ? "frozen: not advertised until cleared" : "still advertised (no freeze)"))
    }

    /// A local VM's IP left with its MAC: its neighbour entry goes (while it still maps there).
    func localNeighborRemoved(vni: VNI, ip: IPAddress, mac: MACAddress) {
        tables.apply(.withdrawNeighbor(vni, ip, mac))
    }
}

extension EVPNConfig {
    /// Route targets as the config writes them ("65001:100"); nil stays nil (auto).
    static func routeTargets(_ list: [String]?, path: String) throws -> [RouteTarget]? {
        try list.map { try $0.map { text in
            guard let rt = RouteTarget(text) else {
                throw ConfigError(path: path, problem: "'\(text)' is not a route target this version understands")
            }
            return rt
        } }
    }

    /// The speaker's configuration from the switch's `bgp:` and `vtep:` sections.
    init(switchConfig c: SwitchConfig, bgp: BGPConfig) throws {
        guard let vtep = c.vtep.ipv4 ?? c.vtep.ipv6 else {
            throw ConfigError(path: "vtep", problem: "EVPN needs a local VTEP address")
        }
        self.init(asn: bgp.asn, routerID: bgp.routerID, vtep: vtep, listenAddress: vtep)
        tableCapacity = c.fdb.maxEntries
        let dad = bgp.dupAddrDetection
        duplicateAddressDetection = DuplicateAddressDetectionConfig(
            enabled: dad.enabled, maxMoves: dad.maxMoves, seconds: Double(dad.time),
            freeze: { switch dad.freeze { case .off: .off; case .permanent: .permanent; case .seconds(let n): .seconds(n) } }())
        peers = try bgp.peers.enumerated().map { i, p in
            let remote: UInt32
            switch p.remoteAS {
            case .asn(let n): remote = n
            case .internal: remote = bgp.asn
            case .external:
                throw ConfigError(path: "bgp.peers[\(i)].remote-as", problem: "'external' needs the peer's AS number in this version")
            }
            return PeerConfig(address: p.address, remoteAS: remote, port: Int(p.port))
        }
        vnis = try bgp.vnis.enumerated().map { i, o in
            func targets(_ list: [String]?, _ field: String) throws -> [RouteTarget]? {
                try Self.routeTargets(list, path: "bgp.vnis[\(i)].\(field)")
            }
            var rd: RouteDistinguisher?
            if let text = o.rd {
                guard let parsed = RouteDistinguisher(text) else {
                    throw ConfigError(path: "bgp.vnis[\(i)].rd", problem: "'\(text)' is not a route distinguisher")
                }
                rd = parsed
            }
            return VNIConfig(vni: o.vni.value, rd: rd, importRTs: try targets(o.importTargets, "route-targets.import"),
                             exportRTs: try targets(o.exportTargets, "route-targets.export"))
        }
        vrfs = try c.vrfs.enumerated().map { i, v in
            func targets(_ list: [String]?, _ field: String) throws -> [RouteTarget]? {
                try Self.routeTargets(list, path: "vrfs[\(i)].\(field)")
            }
            return VRFConfig(l3VNI: v.l3VNI.value, routerMAC: c.routerMAC(of: v), vnis: v.vnis.map(\.value),
                             importRTs: try targets(v.importTargets, "route-targets.import"),
                             exportRTs: try targets(v.exportTargets, "route-targets.export"),
                             advertisedPrefixes: Self.advertised(v, in: c), name: v.name)
        }
    }

    /// A VRF's type-5 prefixes: its gateways' subnets with `advertise-subnets`, then `advertise-prefixes`.
    static func advertised(_ v: SwitchConfig.VRFConfig, in c: SwitchConfig) -> [IPPrefix] {
        var out = v.advertiseSubnets ? c.subnets(of: v) : []
        for p in v.advertisePrefixes where !out.contains(p) { out.append(p) }
        return out
    }
}

/// Runs async work from the daemon's synchronous control threads.
func blocking<T>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, Error>?
    Task {
        do { result = .success(try await body()) } catch { result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try result!.get()
}

extension SwitchDaemon {
    /// Starts the speaker when the config has a `bgp:` section.
    func startEVPN() throws {
        guard let bgp = config.bgp else { return }
        // The speaker holds its dataplane weakly: the daemon keeps the feed alive.
        let feed = SwitchDataplaneFeed(tables: tables, log: log)
        feed.connectedSubnets = Self.connectedSubnets(config)
        evpnFeed = feed
        let speaker = EVPNSpeaker(config: try EVPNConfig(switchConfig: config, bgp: bgp), dataplane: feed)
        speaker.setLocalVNIs(Set(config.vnis.map(\.vni)))
        for entry in config.fdb.staticEntries {
            if case .port = entry.target { speaker.localMACLearned(vni: entry.vni, mac: entry.mac, sticky: true) }
        }
        try blocking { try await speaker.start() }
        evpn = speaker
        log.info("EVPN: AS \(bgp.asn), router-id \(bgp.routerID), \(bgp.peers.count) peer(s)")
    }

    /// `vxsw bgp restart`: a new speaker replaces the old one while the worker keeps forwarding
    /// with its tables. Sessions drop without a NOTIFICATION, so graceful-restart peers keep our
    /// routes; the new speaker says "restarting, forwarding preserved" (R and F bits), re-announces
    /// local VNIs and MACs, and once every peer has sent End-of-RIB (or the restart time passed)
    /// what no peer announced again is withdrawn.
    func restartEVPN() throws {
        guard let old = evpn, let bgp = config.bgp, let feed = evpnFeed else {
            throw SwitchError("BGP is not configured on this switch (no `bgp:` section)")
        }
        log.info("EVPN: graceful control-plane restart; the data plane keeps forwarding")
        feed.markAllStale()
        try blocking { await old.stopForRestart() }
        var cfg = try EVPNConfig(switchConfig: config, bgp: bgp)
        cfg.gracefulRestart.restarting = true
        let speaker = EVPNSpeaker(config: cfg, dataplane: feed)
        speaker.setLocalVNIs(Set(config.vnis.map(\.vni)))
        let localMACs = snapshot(rows: true).fdb.filter { $0.port != nil }
        speaker.localMACsChanged(localMACs.map {
            LocalMACChange(vni: $0.vni, mac: $0.mac, learned: true, sticky: $0.origin == .static)
        })
        // The workers report a local IP once: the new speaker takes the neighbour entries at local MACs.
        let local = Set(localMACs.map { VNIMAC($0.vni, $0.mac) })
        speaker.localMACsChanged(tables.read { $0.neighborRows() }.filter { local.contains(VNIMAC($0.vni, $0.mac)) }.map {
            LocalMACChange(vni: $0.vni, mac: $0.mac, ip: $0.ip)
        })
        // The gateways report a host once: the new speaker takes the ones they have.
        for h in tables.read({ $0.learnedHosts() }) { speaker.localHostLearned(vni: h.vni, mac: h.mac, ip: h.ip) }
        try blocking { try await speaker.start() }
        evpn = speaker
        let limit = Date().addingTimeInterval(Double(cfg.gracefulRestart.restartTime))
        Thread.detachNewThread { [weak self] in
            while Date() < limit {
                if (try? blocking({ await speaker.allPeersSynchronized() })) == true { break }
                usleep(200_000)
            }
            guard let self, self.evpn === speaker else { return }
            let swept = feed.sweepStale()
            self.log.info("EVPN: restart complete; \(swept) stale entries withdrawn")
        }
    }

    func clearBGP(_ address: IPAddress?) throws {
        guard let speaker = evpn else { throw SwitchError("BGP is not configured on this switch (no `bgp:` section)") }
        try blocking { try await speaker.resetSessions(address) }
        log.info("EVPN: sessions reset\(address.map { " with \($0)" } ?? ""); routes held by graceful restart")
    }

    /// `vxsw clear evpn dup-addr vni N|all [mac M]`, as FRR's `clear evpn dup-addr`.
    func clearDuplicates(vni: VNI?, mac: MACAddress?) throws -> String {
        guard let speaker = evpn else { throw SwitchError("BGP is not configured on this switch (no `bgp:` section)") }
        if let vni, config.vni(vni) == nil { throw SwitchError("VNI \(vni) is not configured") }
        let cleared = try blocking { try await speaker.clearDuplicates(vni: vni, mac: mac) }
        if let mac, let vni, cleared == 0 { throw SwitchError("\(mac) in VNI \(vni) is not a duplicate") }
        let scope = mac.map { "\($0) in VNI \(vni!)" } ?? vni.map { "VNI \($0)" } ?? "all VNIs"
        log.info("EVPN: duplicate addresses cleared (\(scope)): \(cleared)")
        return "cleared \(cleared) duplicate address\(cleared == 1 ? "" : "es") (MACs and IPs; \(scope))"
    }

    func stopEVPN() {
        guard let speaker = evpn else { return }
        evpn = nil
        _ = try? blocking { await speaker.stop() }
    }

    /// Local MACs learned, moved here, aged or removed, and local IPs (ARP/ND) → type-2 routes,
    /// handed to the speaker as one batch in report order (one task on its loop, routes packed
    /// into UPDATEs).
    func advertise(_ reports: [DataplaneReport]) {
        guard let speaker = evpn else { return }
        var changes: [LocalMACChange] = []
        for r in reports {
            switch r {
            case .fdb(let e):
                guard case .port = e.destination else { continue }
                switch e.kind {
                case .learned, .moved:
                    changes.append(LocalMACChange(vni: e.vni, mac: e.mac, learned: true, sticky: e.origin == .static))
                case .aged, .removed:
                    changes.append(LocalMACChange(vni: e.vni, mac: e.mac, learned: false))
                case .refreshed:
                    break
                }
            case .neighborLearned(let n):
                changes.append(LocalMACChange(vni: n.vni, mac: n.mac, ip: n.ip))
            case .vtepSeen, .hostLearned:
                break
            }
        }
        speaker.localMACsChanged(changes)
    }
}

extension SwitchDaemon {
    /// Every VRF's connected subnets (its gateways'), for the feed.
    static func connectedSubnets(_ config: SwitchConfig) -> Set<VRFPrefix> {
        Set(config.vrfs.flatMap { v in config.subnets(of: v).map { VRFPrefix(v.l3VNI, $0) } })
    }
}
