import Logging
import NIOCore
import NIOPosix
import Synchronization
import VXCore

/// The BGP EVPN speaker: sessions, RIB, export of local MACs and VNIs. All state lives on one
/// event loop; the public methods may be called from any thread.
public final class EVPNSpeaker: @unchecked Sendable {
    public let config: EVPNConfig
    let loop: EventLoop
    /// Local MAC changes from the switch, waiting for the loop (`localMACsChanged`).
    let changeQueue = Mutex(LocalMACQueue())
    private let ownedGroup: MultiThreadedEventLoopGroup?
    let rib: EVPNRIB
    var peers: [BGPPeer] = []
    private var listener: Channel?
    let logger: Logger
    let clock: @Sendable () -> Double
    let startedAt: Double

    /// `group`: an event loop group to share; nil starts a private one-thread group.
    public init(config: EVPNConfig, dataplane: EVPNDataplane?, group: EventLoopGroup? = nil,
                logger: Logger = Logger(label: "vxsw.evpn")) {
        self.config = config
        self.ownedGroup = group == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        self.loop = (group ?? ownedGroup!).next()
        self.logger = logger
        let clock: @Sendable () -> Double = { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }
        self.clock = clock
        self.startedAt = clock()
        self.rib = EVPNRIB(asn: config.asn, routerID: config.routerID, vtep: config.vtep, vnis: config.vnis,
                           autoRTRFC8365: config.autoRTRFC8365, vrfs: config.vrfs, duplicateAddressDetection: config.duplicateAddressDetection,
                           tableCapacity: config.tableCapacity, now: clock)
        rib.dataplane = dataplane
        rib.onExport = { [unowned self] announce, withdraw in self.broadcast(announce: announce, withdraw: withdraw) }
        rib.onDuplicate = { [unowned self] k in self.scheduleRecovery(at: self.rib.detector.recoveryTime(k)) }
        rib.onDuplicateIP = { [unowned self] k in self.scheduleRecovery(at: self.rib.ipDetector.recoveryTime(k)) }
        peers = config.peers.map { BGPPeer(config: $0, speaker: self, logger: logger) }
    }

    // MARK: lifecycle

    /// Binds the listener (when configured) and starts every peer.
    public func start() async throws {
        try await startListener()
        try await startPeers()
    }

    func startListener() async throws {
        if let addr = config.listenAddress {
            let bootstrap = ServerBootstrap(group: loop)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { [unowned self] ch in
                    let conn = BGPConnection(peer: nil, inbound: true) { [unowned self] ip in
                        self.peers.first { $0.config.address == ip }
                    }
                    return ch.eventLoop.makeCompletedFuture {
                        try ch.pipeline.syncOperations.addHandler(ByteToMessageHandler(BGPFrameDecoder()))
                        try ch.pipeline.syncOperations.addHandler(conn)
                    }
                }
            listener = try await bootstrap.bind(host: addr.description, port: config.listenPort).get()
        }
    }

    func startPeers() async throws {
        try await loop.submit { self.peers.forEach { $0.start() } }.get()
    }

    /// Sends Cease to every peer, closes the listener and (if owned) the event loop.
    public func stop() async {
        try? await loop.submit { self.peers.forEach { $0.stop() } }.get()
        try? await loop.scheduleTask(in: .milliseconds(200)) {}.futureResult.get()
        try? await listener?.close()
        if let g = ownedGroup { try? await g.shutdownGracefully() }
    }

    /// Drops every TCP connection without a NOTIFICATION and stops reconnecting: what peers see
    /// when this process dies (used to exercise graceful restart).
    func abort() async {
        try? await loop.submit {
            for p in self.peers {
                p.running = false
                p.connectRetry?.cancel(); p.connectRetry = nil
                for c in p.connections { c.close(with: nil) }
            }
        }.get()
        try? await listener?.close()
    }

    /// Stops for a restart that keeps forwarding: sessions close without a NOTIFICATION, so
    /// peers that negotiated graceful restart keep our routes until we are back (RFC 4724).
    /// The data plane is detached first: the switch keeps its tables, whatever this speaker's
    /// sessions do on the way down; the next speaker reconciles them.
    public func stopForRestart() async {
        try? await loop.submit {
            self.rib.dataplane = nil
            self.peers.forEach { $0.stop(nil) }
        }.get()
        try? await listener?.close()
        if let g = ownedGroup { try? await g.shutdownGracefully() }
    }

    /// Resets sessions (all, or the one to `address`) without a NOTIFICATION; they reconnect.
    public func resetSessions(_ address: IPAddress? = nil) async throws {
        try await loop.submit {
            for p in self.peers where address == nil || p.config.address == address { p.reset() }
        }.get()
    }

    /// True when every peer is Established and has sent its End-of-RIB.
    public func allPeersSynchronized() async -> Bool {
        (try? await loop.submit { self.peers.allSatisfy(\.isSynchronized) }.get()) ?? false
    }

    /// The port the listener is bound to (useful with port 0 in tests).
    public var listeningPort: Int? { listener?.localAddress?.port }

    // MARK: from the switch

    public func setLocalVNIs(_ vnis: Set<VNI>) { loop.execute { self.rib.setLocalVNIs(vnis) } }
    public func localMACLearned(vni: VNI, mac: MACAddress, ip: IPAddress? = nil, sticky: Bool = false) {
        loop.execute { self.rib.localMACLearned(vni: vni, mac: mac, ip: ip, sticky: sticky) }
    }
    public func localMACRemoved(vni: VNI, mac: MACAddress) { loop.execute { self.rib.localMACRemoved(vni: vni, mac: mac) } }
    /// A gateway learned (or forgot) a local host: its MAC/IP route, with the L3 VNI in a VRF.
    public func localHostLearned(vni: VNI, mac: MACAddress, ip: IPAddress) {
        loop.execute { self.rib.localHostLearned(vni: vni, mac: mac, ip: ip) }
    }
    public func localHostRemoved(vni: VNI, ip: IPAddress) { loop.execute { self.rib.localHostRemoved(vni: vni, ip: ip) } }
    /// FRR's `clear evpn dup-addr vni N|all [mac M]`: ends the duplicate state (and freeze) of one
    /// MAC, a VNI's (`mac` nil) or all (`vni` nil); returns how many were duplicates.
    public func clearDuplicates(vni: VNI? = nil, mac: MACAddress? = nil) async throws -> Int {
        try await loop.submit { self.rib.clearDuplicates(vni: vni, mac: mac) }.get()
    }

    /// `freeze: SECONDS`: a freeze (of a MAC or an IP) ends on its own `at` (FRR's auto-recovery).
    func scheduleRecovery(at: Double?) {
        guard let at else { return }
        let delay = max(0, at - clock())
        loop.scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) { [weak self] in self?.rib.recoverExpiredDuplicates() }
    }

    /// Runs `body` on the speaker's loop with its RIB (for show commands and tests).
    public func withRIB<T: Sendable>(_ body: @escaping @Sendable (EVPNRIB) -> T) async throws -> T {
        try await loop.submit { body(self.rib) }.get()
    }

    // MARK: to peers

    /// OPEN capabilities. Graceful restart always says "forwarding state preserved" (F bit):
    /// vxsw's data plane forwards with its tables through session loss and control-plane
    /// restarts, like a router whose FIB is separate from BGP, and helpers such as FRR only
    /// retain routes for families whose F bit was set when the session came up. A fresh process
    /// sends End-of-RIB at once, so a helper flushes whatever was stale from before.
    func capabilities() -> [BGPCapability] {
        var caps: [BGPCapability] = [.multiprotocol(.l2vpnEVPN), .routeRefresh, .fourOctetAS(config.asn)]
        let gr = config.gracefulRestart
        if gr.enabled {
            caps.append(.gracefulRestart(GracefulRestartCapability(restarting: gr.restarting, restartTime: gr.restartTime,
                                                                   families: [(.l2vpnEVPN, forwardingPreserved: true)])))
        }
        return caps
    }

    /// Full table then End-of-RIB (on Established and on ROUTE-REFRESH). A table of more than
    /// `changesPerTurn` routes goes that many per turn of the loop, unsorted, the keepalives
    /// and the rest of the loop's work between turns: 200k local MACs once took the loop long
    /// enough (a sort and one pass) for the peer's hold timer to expire, and the new session
    /// sent the table again. A route withdrawn meanwhile is skipped; one announced meanwhile
    /// went out by `broadcast` already (sent twice at most, which BGP takes).
    func sendTable(to c: BGPConnection, isInternal: Bool) {
        let keys = rib.exported.count <= Self.changesPerTurn ? rib.exported.keys.sorted() : Array(rib.exported.keys)
        sendTable(keys[...], to: c, isInternal: isInternal)
    }

    private func sendTable(_ keys: ArraySlice<EVPNRouteKey>, to c: BGPConnection, isInternal: Bool) {
        guard c.peer?.established === c else { return } // the session went down: a new one starts over
        let chunk = keys.prefix(Self.changesPerTurn)
        let routes = chunk.compactMap { rib.exported[$0] }
        for m in updates(announce: routes, withdraw: [], isInternal: isInternal) { c.send(m) }
        let rest = keys.dropFirst(chunk.count)
        guard rest.isEmpty else {
            loop.execute { self.sendTable(rest, to: c, isInternal: isInternal) }
            return
        }
        c.send(.update(.endOfRIB(.l2vpnEVPN)))
        c.peer?.endOfRIBSent = true
    }

    func broadcast(announce: [ExportedRoute], withdraw: [EVPNRoute]) {
        for p in peers {
            guard let c = p.established else { continue }
            for m in updates(announce: announce, withdraw: withdraw, isInternal: p.isInternal) { c.send(m) }
        }
    }

    /// Packs routes with equal attributes into UPDATEs below the 4096-byte limit.
    func updates(announce: [ExportedRoute], withdraw: [EVPNRoute], isInternal: Bool) -> [BGPMessage] {
        var out: [BGPMessage] = []
        let budget = 3800
        var batch: [EVPNRoute] = [], size = 0
        func flushWithdraw() {
            guard !batch.isEmpty else { return }
            var u = BGPUpdate(); u.attributes.mpUnreach = MPUnreachNLRI(routes: batch)
            out.append(.update(u)); batch = []; size = 0
        }
        for r in withdraw {
            var b = [UInt8](); r.encode(into: &b)
            if size + b.count > budget { flushWithdraw() }
            batch.append(r); size += b.count
        }
        flushWithdraw()

        var groups: [[ExtendedCommunity]: [ExportedRoute]] = [:], order: [[ExtendedCommunity]] = []
        for e in announce {
            if e.pmsi != nil { out.append(.update(update(for: [e], isInternal: isInternal))); continue }
            if groups[e.extendedCommunities] == nil { order.append(e.extendedCommunities) }
            groups[e.extendedCommunities, default: []].append(e)
        }
        for key in order {
            var chunk: [ExportedRoute] = []; size = 0
            for e in groups[key] ?? [] {
                var b = [UInt8](); e.route.encode(into: &b)
                if size + b.count > budget { out.append(.update(update(for: chunk, isInternal: isInternal))); chunk = []; size = 0 }
                chunk.append(e); size += b.count
            }
            if !chunk.isEmpty { out.append(.update(update(for: chunk, isInternal: isInternal))) }
        }
        return out
    }

    func update(for routes: [ExportedRoute], isInternal: Bool) -> BGPUpdate {
        var a = PathAttributes()
        a.origin = .igp
        a.asPath = isInternal ? [] : [ASPathSegment(.sequence, [config.asn])]
        if isInternal { a.localPref = 100 }
        a.extendedCommunities = routes.first?.extendedCommunities ?? []
        a.pmsiTunnel = routes.first?.pmsi
        a.mpReach = MPReachNLRI(nextHop: config.vtep, routes: routes.map(\.route))
        return BGPUpdate(attributes: a)
    }
}
