import CVXSW
import VXCore

/// What the workers share of an AF_XDP socket whose tx ring several of them use (a port with
/// fewer sockets than workers, e.g. a single-queue veth): the lock over its tx ring and
/// completion ring, and the frames in flight on it. Allocated by the datapath, freed after
/// every worker let go of the socket.
@usableFromInline
struct SocketShare {
    @usableFromInline var lock: Int32 = 0
    /// Submitted frames the kernel has not completed yet (under `lock`).
    @usableFromInline var outstandingTx: UInt32 = 0
    /// One worker at a time calls `sendto` on the socket (`kicking`); one that finds it taken
    /// sets `kickAgain` and goes on, and the kicker calls again for it. In copy mode that call
    /// copies every frame in the ring under the socket's kernel mutex: a second caller would
    /// only spin on the mutex.
    @usableFromInline var kicking: Int32 = 0
    @usableFromInline var kickAgain: Int32 = 0
    init() {}
}

/// One worker's hot-path view of one AF_XDP socket: ring pointers and counters, in a flat
/// table the worker indexes directly. Every worker has a view of every socket (it may
/// transmit on any port); only the worker that `receives` on it touches its rx and fill rings.
@usableFromInline
struct QueueState {
    @usableFromInline var rx: UnsafeMutablePointer<xsk_ring_cons>
    @usableFromInline var tx: UnsafeMutablePointer<xsk_ring_prod>
    @usableFromInline var fill: UnsafeMutablePointer<xsk_ring_prod>
    @usableFromInline var comp: UnsafeMutablePointer<xsk_ring_cons>
    @usableFromInline var fd: Int32
    @usableFromInline var port: UInt16
    @usableFromInline var active: Bool
    /// Descriptors written to the tx ring but not yet submitted (submitted once per batch).
    @usableFromInline var pendingTx: UInt32 = 0
    /// Submitted frames the kernel has not completed yet (exclusive sockets).
    @usableFromInline var outstandingTx: UInt32 = 0
    /// Frames sitting in the fill ring (given to the kernel for rx).
    @usableFromInline var filled: UInt32 = 0
    /// Frames the fill ring is topped up to (the socket's frame budget).
    @usableFromInline var fillTarget: UInt32
    /// This worker receives on the socket and fills its fill ring (one worker per socket).
    @usableFromInline var receives: Bool = true
    /// Non-nil when workers share the tx ring: frames are staged here during a batch and
    /// written to the ring under `share.lock` when the batch is submitted.
    @usableFromInline var share: UnsafeMutablePointer<SocketShare>?
    @usableFromInline var staged: UnsafeMutablePointer<FrameDescriptor>?
    @usableFromInline var stagedCount: Int = 0
    @usableFromInline static var stageCapacity: Int { 512 }
    /// Free frames of this socket's own (the worker that receives on it): its fill ring takes
    /// from them when the worker's pool is dry, and the worker tops them up from the pool
    /// before any fill ring, each loop. A flood on another port — its frames held in tx rings
    /// and in flight — drains the pool, never this reserve: a quiet port keeps receiving.
    @usableFromInline var reserve: UnsafeMutablePointer<UInt64>?
    @usableFromInline var reserveCount: Int = 0
    @usableFromInline var reserveCapacity: Int = 0
    /// Frames a socket keeps in reserve at most (less when its fill target is small).
    @usableFromInline static var maxReserve: Int { 128 }
    /// SO_BUSY_POLL is set: an empty rx ring gets a `recvfrom` so the kernel busy-polls.
    @usableFromInline var busyPoll: Bool = false
    // Syscall accounting (OVS counts these too): they are the cost need_wakeup saves.
    @usableFromInline var txKicks: UInt64 = 0
    @usableFromInline var txKickErrors: UInt64 = 0
    @usableFromInline var rxWakeups: UInt64 = 0

    init(rx: UnsafeMutablePointer<xsk_ring_cons>, tx: UnsafeMutablePointer<xsk_ring_prod>,
         fill: UnsafeMutablePointer<xsk_ring_prod>, comp: UnsafeMutablePointer<xsk_ring_cons>,
         fd: Int32, port: UInt16, active: Bool, fillTarget: UInt32) {
        self.rx = rx; self.tx = tx; self.fill = fill; self.comp = comp
        self.fd = fd; self.port = port; self.active = active; self.fillTarget = fillTarget
    }
}

/// Per-socket counters as the control plane sees them.
public struct QueueCounters: Sendable, Codable {
    public var port: UInt16
    public var fd: Int32
    /// The worker whose view this is, and whether it receives on the socket (one worker
    /// does; others may transmit on it).
    public var worker: Int
    public var receives: Bool
    public var txKicks: UInt64
    public var txKickErrors: UInt64
    public var rxWakeups: UInt64
    public var outstandingTx: UInt32
    public var filled: UInt32
    /// The kernel's own drops on this socket (`XDP_STATISTICS`), nil when it would not say.
    public var kernel: XSKKernelDrops?
}

/// What the kernel dropped on an AF_XDP socket before vxsw saw it (`getsockopt(XDP_STATISTICS)`):
/// a storm's losses are counted here, not in the pipeline.
public struct XSKKernelDrops: Sendable, Codable, Equatable {
    /// Dropped for other reasons (e.g. the socket could not take a frame).
    public var rxDropped: UInt64
    public var rxInvalidDescriptors: UInt64
    public var txInvalidDescriptors: UInt64
    /// The rx ring was full: vxsw did not read fast enough.
    public var rxRingFull: UInt64
    /// The fill ring was empty: no frame to receive into.
    public var fillRingEmpty: UInt64
    public var txRingEmpty: UInt64

    public static let zero = XSKKernelDrops(rxDropped: 0, rxInvalidDescriptors: 0, txInvalidDescriptors: 0,
                                            rxRingFull: 0, fillRingEmpty: 0, txRingEmpty: 0)

    /// Adds another socket's counters (a port's sockets summed).
    public mutating func add(_ o: XSKKernelDrops) {
        rxDropped &+= o.rxDropped; rxInvalidDescriptors &+= o.rxInvalidDescriptors
        txInvalidDescriptors &+= o.txInvalidDescriptors; rxRingFull &+= o.rxRingFull
        fillRingEmpty &+= o.fillRingEmpty; txRingEmpty &+= o.txRingEmpty
    }

    /// The counters of socket `fd`, read without disturbing its owner.
    public static func read(fd: Int32) -> XSKKernelDrops? {
        var s = xdp_statistics()
        var length = socklen_t(MemoryLayout<xdp_statistics>.size)
        guard getsockopt(fd, 283 /* SOL_XDP */, XDP_STATISTICS, &s, &length) == 0 else { return nil }
        return XSKKernelDrops(rxDropped: s.rx_dropped, rxInvalidDescriptors: s.rx_invalid_descs,
                              txInvalidDescriptors: s.tx_invalid_descs, rxRingFull: s.rx_ring_full,
                              fillRingEmpty: s.rx_fill_ring_empty_descs, txRingEmpty: s.tx_ring_empty_descs)
    }
}
