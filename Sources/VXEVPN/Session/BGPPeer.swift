import Logging
import NIOCore
import NIOPosix
import VXCore

/// RFC 4271 §8 session states.
public enum BGPState: String, Codable, Sendable, CaseIterable {
    case idle = "Idle", connect = "Connect", active = "Active"
    case openSent = "OpenSent", openConfirm = "OpenConfirm", established = "Established"
}

/// One configured neighbour: the peer-level FSM (Idle/Connect/Active), its connections
/// (at most one outgoing and one incoming while a collision is resolved), graceful restart
/// helper state and counters. Lives on the speaker's event loop.
final class BGPPeer: @unchecked Sendable {
    let config: PeerConfig
    unowned let speaker: EVPNSpeaker
    var logger: Logger
    var connections: [BGPConnection] = []
    var established: BGPConnection?
    var connectRetry: Scheduled<Void>?
    var running = false

    /// Messages by type, over every session of this speaker's life.
    var sentMessages = BGPMessageCounts()
    var receivedMessages = BGPMessageCounts()
    /// When the last message was read and written (speaker clock).
    var lastRead: Double?
    var lastWrite: Double?
    var stateSince: Double
    var lastError: String?
    var connectionsEstablished = 0
    var connectionsDropped = 0
    /// How the last session (or attempt) ended; nil: never.
    var lastReset: PeerReset?
    /// Set while the peer's routes are kept stale (RFC 4724 helper), with when that ends.
    var staleTimer: Scheduled<Void>?
    var staleDeadline: Double?
    var peerGracefulRestart: GracefulRestartCapability?
    var endOfRIBReceived = false
    var endOfRIBSent = false

    var id: String { config.address.description }
    var isInternal: Bool { config.remoteAS == speaker.config.asn }

    init(config: PeerConfig, speaker: EVPNSpeaker, logger: Logger) {
        self.config = config; self.speaker = speaker
        self.logger = logger
        self.logger[metadataKey: "peer"] = "\(config.address)"
        self.stateSince = speaker.clock()
    }

    var state: BGPState {
        if established != nil { return .established }
        if connections.contains(where: { $0.state == .openConfirm }) { return .openConfirm }
        if connections.contains(where: { $0.state == .openSent }) { return .openSent }
        if !running { return .idle }
        if connections.contains(where: { $0.state == .connecting }) { return .connect }
        return .active
    }

    // MARK: start / stop

    func start() {
        running = true
        if !config.passive { connect() }
    }

    /// Stops the peer. With `nil` the TCP session just closes, no NOTIFICATION: a peer that
    /// negotiated graceful restart keeps our routes (RFC 4724), which is what a control-plane
    /// restart with forwarding preserved wants.
    func stop(_ n: BGPNotification? = .cease(.administrativeShutdown), reason: String = "Admin. shutdown") {
        running = false
        connectRetry?.cancel(); connectRetry = nil
        for c in connections {
            c.endReason = (reason, nil)
            c.close(with: c.state >= .openSent ? n : nil)
        }
    }

    /// Drops the session without a NOTIFICATION and reconnects at once (`vxsw clear bgp`):
    /// the sooner the session is back, the shorter a peer without a graceful-restart helper
    /// for EVPN goes without our routes.
    func reset() {
        stop(nil, reason: "User reset")
        running = true
        connectRetry = speaker.loop.scheduleTask(in: .milliseconds(50)) { [weak self] in self?.connect() }
    }

    /// Established and its End-of-RIB received: its table is complete.
    var isSynchronized: Bool { established != nil && endOfRIBReceived }

    func connect() {
        guard running, !config.passive, established == nil, !connections.contains(where: { !$0.inbound }) else { return }
        let conn = BGPConnection(peer: self, inbound: false)
        connections.append(conn)
        let loop = speaker.loop
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(ByteToMessageHandler(BGPFrameDecoder()))
                    try ch.pipeline.syncOperations.addHandler(conn)
                }
            }
        if let local = config.localAddress, let a = try? SocketAddress(ipAddress: local.description, port: 0) {
            bootstrap = bootstrap.bind(to: a)
        }
        bootstrap.connect(host: config.address.description, port: config.port).whenFailure { [weak self] error in
            guard let self else { return }
            self.lastError = "connect: \(error)"
            self.connections.removeAll { $0 === conn }
            self.scheduleRetry()
        }
    }

    func scheduleRetry() {
        guard running, !config.passive, connectRetry == nil else { return }
        connectRetry = speaker.loop.scheduleTask(in: .milliseconds(Int64(speaker.config.connectRetrySeconds * 1000))) { [weak self] in
            self?.connectRetry = nil
            self?.connect()
        }
    }

    // MARK: connection events

    func connectionUp(_ c: BGPConnection) {
        if c.inbound {
            guard running else { c.close(with: .cease(.connectionRejected)); return }
            connections.append(c)
        }
        let caps = speaker.capabilities()
        c.state = .openSent
        c.holdTime = 240 // RFC 4271 §8.2.2: a large value until the OPEN arrives
        c.restartHoldTimer()
        c.send(.open(BGPOpen(asn: speaker.config.asn, holdTime: config.holdTime ?? speaker.config.holdTime,
                             routerID: speaker.config.routerID.v4, capabilities: caps)))
        logger.debug("connection up (\(c.inbound ? "in" : "out")), OPEN sent")
    }

    func connectionDown(_ c: BGPConnection) {
        connections.removeAll { $0 === c }
        recordReset(c)
        guard established === c else {
            if !c.inbound { scheduleRetry() }
            return
        }
        established = nil
        connectionsDropped += 1
        stateSince = speaker.clock()
        // RFC 4724 §4.2: without a NOTIFICATION, a peer that can restart gracefully keeps its routes (stale).
        let graceful = c.notificationSent == nil && c.notificationReceived == nil && speaker.config.gracefulRestart.enabled
            && (peerGracefulRestart?.families.contains { $0.0 == .l2vpnEVPN } ?? false)
        if graceful, let gr = peerGracefulRestart {
            logger.info("session down, keeping routes stale for \(gr.restartTime) s (graceful restart)")
            speaker.rib.markStale(id)
            armStaleTimer(seconds: Double(gr.restartTime))
        } else {
            logger.info("session down\(lastError.map { ": \($0)" } ?? "")")
            cancelStaleTimer()
            speaker.rib.dropRoutes(of: id)
        }
        scheduleRetry()
    }

    /// Keeps how a connection ended as the peer's last reset: the established session's, or an
    /// attempt's that a NOTIFICATION ended while none is up (an OPEN refused either way). An
    /// attempt the peer merely closed (a peer that just reset holds off for a while) is only
    /// the last error: it would hide why the session went. A collision's loser leaves a session.
    func recordReset(_ c: BGPConnection) {
        let notification = c.notificationSent ?? c.notificationReceived
        let reason = c.endReason ?? ("Peer closed the session", nil)
        guard established === c || (established == nil && notification != nil
                                    && notification != .cease(.connectionCollisionResolution)) else {
            if established == nil, notification == nil { lastError = reason.dueTo + (reason.detail.map { ": \($0)" } ?? "") }
            return
        }
        lastReset = PeerReset(at: speaker.clock(), dueTo: reason.dueTo, notification: notification, detail: reason.detail)
    }

    /// Counts a message written on one of the peer's connections.
    func wrote(type: UInt8) {
        sentMessages.count(type: type)
        lastWrite = speaker.clock()
    }

    func armStaleTimer(seconds: Double) {
        staleTimer?.cancel()
        staleDeadline = speaker.clock() + seconds
        staleTimer = speaker.loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) { [weak self] in
            guard let self else { return }
            self.staleTimer = nil; self.staleDeadline = nil
            self.logger.info("graceful restart time over: flushing stale routes")
            self.speaker.rib.dropRoutes(of: self.id, onlyStale: true)
        }
    }

    func cancelStaleTimer() {
        staleTimer?.cancel(); staleTimer = nil; staleDeadline = nil
    }

    /// Sends the NOTIFICATION and ends the connection.
    func fail(_ c: BGPConnection, _ n: BGPNotification, _ why: String) {
        lastError = "sent \(n) (\(why))"
        c.endReason = ("BGP Notification send", why)
        logger.warning("\(why): sending NOTIFICATION \(n)")
        c.close(with: n)
    }

    // MARK: messages

    func received(_ bytes: [UInt8], on c: BGPConnection) {
        receivedMessages.count(type: bytes[18])   // the frame decoder passes whole messages only
        lastRead = speaker.clock()
        let message: BGPMessage
        do { message = try BGPMessage.decode(bytes, context: c.context) } catch let n as BGPNotification {
            fail(c, n, "malformed message")
            return
        } catch { fail(c, BGPNotification(.fsm), "\(error)"); return }

        switch (c.state, message) {
        case (_, .notification(let n)):
            c.notificationReceived = n
            c.endReason = ("BGP Notification received", nil)
            lastError = "received \(n)"
            logger.warning("received NOTIFICATION \(n)")
            c.close(with: nil)
        case (.openSent, .open(let o)):
            handleOpen(o, on: c)
        case (.openConfirm, .keepalive):
            becomeEstablished(c)
        case (.established, .keepalive):
            c.restartHoldTimer()
        case (.established, .update(let u)):
            c.restartHoldTimer()
            handleUpdate(u)
        case (.established, .routeRefresh(let f, _)):
            if f == .l2vpnEVPN { speaker.sendTable(to: c, isInternal: isInternal) }
        case (.openConfirm, _):
            fail(c, BGPNotification(code: 5, subcode: 2), "unexpected message in OpenConfirm")
        case (.openSent, _):
            fail(c, BGPNotification(code: 5, subcode: 1), "unexpected message in OpenSent")
        default:
            fail(c, BGPNotification(code: 5, subcode: 3), "unexpected message in Established")
        }
    }

    func handleOpen(_ o: BGPOpen, on c: BGPConnection) {
        guard o.asn == config.remoteAS else {
            fail(c, .open(.badPeerAS), "peer AS \(o.asn), expected \(config.remoteAS)"); return
        }
        if isInternal && o.routerID == speaker.config.routerID.v4 {
            fail(c, .open(.badBGPIdentifier), "peer uses our router-id"); return
        }
        c.remoteOpen = o
        // RFC 4271 §6.8 collision detection against the other connection.
        if let other = connections.first(where: { $0 !== c && $0.state >= .openConfirm }) {
            if other.state == .established {
                // RFC 4724 §4.2: an OPEN with the Restart bit on a connection the peer opened
                // means it restarted and the old session is dead. Anything else is a collision
                // with the established session: the new connection goes (RFC 4271 §6.8).
                if c.inbound && (o.gracefulRestart?.restarting ?? false) {
                    logger.info("peer reconnected while established: treating as graceful restart")
                    other.close(with: nil)
                } else {
                    fail(c, .cease(.connectionCollisionResolution), "collision with established session"); return
                }
            } else {
                let keepLocalInitiated = speaker.config.routerID.v4 > o.routerID
                let loser = (keepLocalInitiated == c.inbound) ? c : other
                fail(loser, .cease(.connectionCollisionResolution), "connection collision")
                if loser === c { return }
            }
        }
        let localHold = Int64(config.holdTime ?? speaker.config.holdTime)
        c.holdTime = min(localHold, Int64(o.holdTime))
        c.context = BGPDecodeContext(fourOctetAS: o.supportsFourOctetAS, internalPeer: isInternal)
        peerGracefulRestart = speaker.config.gracefulRestart.enabled ? o.gracefulRestart : nil
        c.state = .openConfirm
        c.send(.keepalive)
        c.restartHoldTimer()
    }

    func becomeEstablished(_ c: BGPConnection) {
        c.state = .established
        established = c
        connectionsEstablished += 1
        stateSince = speaker.clock()
        lastError = nil
        endOfRIBReceived = false
        endOfRIBSent = false
        for other in connections where other !== c {
            fail(other, .cease(.connectionCollisionResolution), "connection collision")
        }
        c.restartHoldTimer()
        c.startKeepalives()
        // RFC 4724 §4.2: routes kept stale stay until End-of-RIB, unless the peer lost its forwarding state.
        if staleTimer != nil {
            let kept = peerGracefulRestart?.families.first { $0.0 == .l2vpnEVPN }?.forwardingPreserved ?? false
            if kept { armStaleTimer(seconds: speaker.config.gracefulRestart.stalePathTime) } else {
                cancelStaleTimer()
                speaker.rib.dropRoutes(of: id, onlyStale: true)
            }
        }
        logger.info("session established (hold \(c.holdTime) s)")
        speaker.sendTable(to: c, isInternal: isInternal)
    }

    func handleUpdate(_ raw: BGPUpdate) {
        var u = raw
        for p in u.problems { logger.notice("UPDATE: \(p)") }
        // Loop prevention: our AS in an eBGP path, our router-id as ORIGINATOR_ID.
        let ourAS = speaker.config.asn
        let looped = (!isInternal && (u.attributes.asPath ?? []).contains { $0.asns.contains(ourAS) })
            || u.attributes.originatorID == speaker.config.routerID.v4
        if looped && !u.evpnAnnounced.isEmpty {
            u.problems.append(AttributeProblem(type: 2, action: .treatAsWithdraw, reason: "routing loop"))
        }
        if let f = u.endOfRIB {
            if f == .l2vpnEVPN {
                endOfRIBReceived = true
                cancelStaleTimer()
                speaker.rib.dropRoutes(of: id, onlyStale: true)
            }
            return
        }
        speaker.rib.apply(u, from: id)
    }
}
