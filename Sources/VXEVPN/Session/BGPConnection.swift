import NIOCore
import VXCore

/// One TCP connection of a peer, with its half of the FSM (OpenSent → OpenConfirm →
/// Established). The peer decides; the connection carries bytes and timers.
final class BGPConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = BGPFrame
    typealias OutboundOut = ByteBuffer

    enum State: Comparable { case connecting, openSent, openConfirm, established, closed }

    let inbound: Bool
    var state: State = .connecting
    var channel: Channel?
    weak var peer: BGPPeer?
    /// Resolves the peer for inbound connections once the remote address is known.
    let lookup: ((IPAddress) -> BGPPeer?)?
    var remoteOpen: BGPOpen?
    /// A new hold time (the OPEN's) drops the scheduled task: the next message schedules it anew.
    var holdTime: Int64 = 240 {
        didSet { if holdTime != oldValue { holdTimer?.cancel(); holdTimer = nil } }
    }
    var holdTimer: Scheduled<Void>?
    /// When the last message came.
    private var lastHeard = NIODeadline.now()
    var keepaliveTimer: RepeatedTask?
    /// The NOTIFICATION that ends this connection, whichever way it went.
    var notificationSent: BGPNotification?
    var notificationReceived: BGPNotification?
    /// Why it is ending, set by whoever ends it (FRR's `lastResetDueTo` words, vxsw's detail);
    /// nil when the peer closed it.
    var endReason: (dueTo: String, detail: String?)?
    var context = BGPDecodeContext()
    /// The dataplane batch that the UPDATEs of one socket read share (opened by the read's
    /// first UPDATE, closed when the read completes): a read carries up to ~60 UPDATEs, and
    /// each table hand-off (to the worker, to the fast-path maps) wakes a thread; with 4k
    /// VNIs an UPDATE holds ~25 routes, so one hand-off per UPDATE cost more than the routes.
    private var readBatch: EVPNDataplane?

    init(peer: BGPPeer?, inbound: Bool, lookup: ((IPAddress) -> BGPPeer?)? = nil) {
        self.peer = peer; self.inbound = inbound; self.lookup = lookup
    }

    func channelActive(context: ChannelHandlerContext) {
        channel = context.channel
        if peer == nil, let lookup, let text = context.channel.remoteAddress?.ipAddress, let ip = IPAddress(mappedText: text) {
            peer = lookup(ip)
        }
        guard let peer else { context.close(promise: nil); return }
        peer.connectionUp(self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .message(let bytes):
            if readBatch == nil, bytes[18] == 2, let dataplane = peer?.speaker.rib.dataplane {
                dataplane.beginBatch()
                readBatch = dataplane
            }
            peer?.received(bytes, on: self)
        case .error(let n): peer?.fail(self, n, "bad header")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        endReadBatch()
        context.fireChannelReadComplete()
    }

    private func endReadBatch() {
        if let dataplane = readBatch { readBatch = nil; dataplane.endBatch() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        endReadBatch()
        let wasOpen = state != .closed
        cancelTimers()
        state = .closed
        if wasOpen { peer?.connectionDown(self) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        peer?.lastError = "\(error)"
        if endReason == nil { endReason = ("Connection error", "\(error)") }
        peer?.logger.warning("connection error: \(error)")
        context.close(promise: nil)
    }

    func send(_ m: BGPMessage) {
        guard let channel, state != .closed else { return }
        let bytes = m.encode(fourOctetAS: context.fourOctetAS)
        var buf = channel.allocator.buffer(capacity: bytes.count)
        buf.writeBytes(bytes)
        channel.writeAndFlush(buf, promise: nil)
        peer?.wrote(type: m.typeCode)
    }

    /// Sends the NOTIFICATION and closes once it is written.
    func close(with n: BGPNotification?) {
        guard let channel, state != .closed else { return }
        if let n {
            notificationSent = n
            let bytes = BGPMessage.notification(n).encode()
            var buf = channel.allocator.buffer(capacity: bytes.count)
            buf.writeBytes(bytes)
            peer?.wrote(type: BGPMessage.notification(n).typeCode)
            channel.writeAndFlush(buf).whenComplete { _ in channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }

    func cancelTimers() {
        holdTimer?.cancel(); holdTimer = nil
        keepaliveTimer?.cancel(); keepaliveTimer = nil
    }

    /// (Re)starts the hold timer (RFC 4271 §4.2; a hold time of 0 disables it). Called for every
    /// message, so it only notes the time: the one scheduled task, when it fires early, sleeps
    /// again until the hold time after the last message (cancelling and scheduling a task per
    /// UPDATE cost 3% of the session's time at 100k routes).
    func restartHoldTimer() {
        lastHeard = .now()
        if holdTimer == nil { armHoldTimer() }
    }

    private func armHoldTimer() {
        guard holdTime > 0, let loop = channel?.eventLoop else { return }
        holdTimer = loop.scheduleTask(deadline: lastHeard + .seconds(holdTime)) { [weak self] in
            guard let self else { return }
            self.holdTimer = nil
            if NIODeadline.now() < self.lastHeard + .seconds(self.holdTime) { self.armHoldTimer(); return }
            guard let peer = self.peer else { return }
            peer.fail(self, .holdTimerExpired, "hold timer expired")
        }
    }

    func startKeepalives() {
        keepaliveTimer?.cancel(); keepaliveTimer = nil
        guard holdTime > 0, let loop = channel?.eventLoop else { return }
        let every = TimeAmount.milliseconds(holdTime * 1000 / 3)
        keepaliveTimer = loop.scheduleRepeatedTask(initialDelay: every, delay: every) { [weak self] _ in
            self?.send(.keepalive)
        }
    }
}

extension IPAddress {
    /// Parses a socket's address text, including "::ffff:a.b.c.d" from a dual-stack listener.
    init?(mappedText text: String) {
        let t = text.lowercased()
        if t.hasPrefix("::ffff:") && t.contains(".") { self.init(String(t.dropFirst(7))) } else { self.init(t) }
    }
}
