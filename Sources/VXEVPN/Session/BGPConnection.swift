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
    var holdTime: Int64 = 240
    var holdTimer: Scheduled<Void>?
    var keepaliveTimer: RepeatedTask?
    /// The NOTIFICATION that ends this connection, whichever way it went.
    var notificationSent: BGPNotification?
    var notificationReceived: BGPNotification?
    /// Why it is ending, set by whoever ends it (FRR's `lastResetDueTo` words, vxsw's detail);
    /// nil when the peer closed it.
    var endReason: (dueTo: String, detail: String?)?
    var context = BGPDecodeContext()

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
        case .message(let bytes): peer?.received(bytes, on: self)
        case .error(let n): peer?.fail(self, n, "bad header")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
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

    /// (Re)arms the hold timer; 0 disables it (RFC 4271 §4.2).
    func restartHoldTimer() {
        holdTimer?.cancel(); holdTimer = nil
        guard holdTime > 0, let loop = channel?.eventLoop else { return }
        holdTimer = loop.scheduleTask(in: .seconds(holdTime)) { [weak self] in
            guard let self, let peer = self.peer else { return }
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
