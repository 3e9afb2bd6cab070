import CVXSW
import Glibc
import VXCore

/// The hot-path view of one tap port's packet socket (`PacketSocket`): receive slots for a
/// `recvmmsg` batch of whole super-frames, the frames queued for it during a batch, the GRO
/// coalescer they pass through, and the `sendmmsg` batch. All storage is allocated once,
/// when the port is added; nothing is allocated per packet. Each worker has its own
/// (its own GRO coalescer and `sendmmsg` batch); one of them receives.
@usableFromInline
struct TapQueue {
    /// Super-frames one `recvmmsg` takes.
    @usableFromInline static let rxSlots = 8
    /// One receive slot: the virtio-net header and the largest GSO frame a tap hands over
    /// (64 KB of IP packet plus the Ethernet header and a VLAN tag), rounded up.
    @usableFromInline static let rxSlotBytes = 65536 + 512
    /// Frames a batch may queue toward the tap before it is flushed.
    @usableFromInline static let txCapacity = 1024

    @usableFromInline var fd: Int32
    @usableFromInline var port: UInt16
    @usableFromInline var active: Bool
    /// This worker receives from the tap (one worker does; every worker may send to it).
    @usableFromInline var receives: Bool

    @usableFromInline let rxBuffers: UnsafeMutableRawPointer
    @usableFromInline let rxMsgs: UnsafeMutablePointer<cvxsw_mmsghdr>
    @usableFromInline let rxIovs: UnsafeMutablePointer<iovec>

    /// Frames (UMEM descriptors) queued for transmission in this batch.
    @usableFromInline let pending: UnsafeMutablePointer<FrameDescriptor>
    @usableFromInline var pendingCount: Int = 0

    /// The `sendmmsg` batch: per message a virtio-net header and one data iovec.
    @usableFromInline let txMsgs: UnsafeMutablePointer<cvxsw_mmsghdr>
    @usableFromInline let txIovs: UnsafeMutablePointer<iovec>
    @usableFromInline let txHeaders: UnsafeMutableRawPointer
    @usableFromInline var txCount: Int = 0
    /// UMEM frames sent as they are in the current `sendmmsg` batch (released after it).
    @usableFromInline let txRelease: UnsafeMutablePointer<UInt64>
    @usableFromInline var txReleaseCount: Int = 0

    @usableFromInline let coalescer: UnsafeMutablePointer<TCPCoalescer>

    @usableFromInline var counters = TapCounters()

    /// A tap's entry in the worker's per-port `txQueue` table: AF_XDP sockets use their queue
    /// index (≥ 0), -1 means none, and tap `i` is `-2 - i`, so a transmit needs one load to choose.
    @inlinable static func txSlot(ofTap index: Int) -> Int32 { Int32(-2 - index) }
    /// The tap index a `txQueue` entry names, or nil when it is an AF_XDP queue or none.
    @inlinable static func tap(ofTxSlot slot: Int32) -> Int? { slot < -1 ? Int(-2 - slot) : nil }

    /// Messages in one `sendmmsg` batch: every pending frame, plus every coalesced flow.
    @usableFromInline static var txMessages: Int { txCapacity + TCPCoalescer.Limits().flows }

    init(fd: Int32, port: UInt16, receives: Bool) {
        self.fd = fd
        self.port = port
        self.receives = receives
        active = true
        // Only the worker that receives needs the 0.5 MB of receive slots.
        rxBuffers = .allocate(byteCount: receives ? Self.rxSlots * Self.rxSlotBytes : 64, alignment: 64)
        rxMsgs = .allocate(capacity: Self.rxSlots)
        rxIovs = .allocate(capacity: Self.rxSlots)
        for i in 0..<Self.rxSlots {
            rxIovs[i] = receives ? iovec(iov_base: rxBuffers + i * Self.rxSlotBytes, iov_len: Self.rxSlotBytes)
                                 : iovec(iov_base: rxBuffers, iov_len: 0)
            rxMsgs[i] = cvxsw_mmsghdr()
            rxMsgs[i].msg_hdr.msg_iov = rxIovs + i
            rxMsgs[i].msg_hdr.msg_iovlen = 1
        }
        pending = .allocate(capacity: Self.txCapacity)
        let messages = Self.txMessages
        txMsgs = .allocate(capacity: messages)
        txIovs = .allocate(capacity: messages * 2)
        txHeaders = .allocate(byteCount: messages * VirtioNetHeader.size, alignment: 8)
        for i in 0..<messages {
            txMsgs[i] = cvxsw_mmsghdr()
            txMsgs[i].msg_hdr.msg_iov = txIovs + 2 * i
            txMsgs[i].msg_hdr.msg_iovlen = 2
        }
        txRelease = .allocate(capacity: Self.txCapacity)
        coalescer = .allocate(capacity: 1)
        coalescer.initialize(to: TCPCoalescer())
    }

    func deallocate() {
        rxBuffers.deallocate(); rxMsgs.deallocate(); rxIovs.deallocate()
        pending.deallocate()
        txMsgs.deallocate(); txIovs.deallocate(); txHeaders.deallocate(); txRelease.deallocate()
        coalescer.deinitialize(count: 1)
        coalescer.deallocate()
    }

    /// Adds one message to the `sendmmsg` batch: `header`, then `length` bytes at `data`.
    @inlinable mutating func queueMessage(_ header: VirtioNetHeader, _ data: UnsafeMutableRawPointer, length: Int) {
        let h = txHeaders + txCount * VirtioNetHeader.size
        header.store(to: h)
        txIovs[2 * txCount] = iovec(iov_base: h, iov_len: VirtioNetHeader.size)
        txIovs[2 * txCount + 1] = iovec(iov_base: data, iov_len: length)
        txCount &+= 1
    }
}

/// Offload counters of one tap port, as `vxsw show stats` prints them.
public struct TapCounters: Sendable, Codable, Equatable {
    /// GSO super-frames received from the guest, and the segments vxsw cut them into.
    public var rxSuperFrames: UInt64 = 0
    public var rxSegments: UInt64 = 0
    /// Frames written to the tap, of which coalesced (GRO) super-frames.
    public var txFrames: UInt64 = 0
    public var txSuperFrames: UInt64 = 0
    /// `recvmmsg`/`sendmmsg` calls (the syscall cost of a tap port).
    public var rxCalls: UInt64 = 0
    public var txCalls: UInt64 = 0
    public init() {}

    public mutating func add(_ o: TapCounters) {
        rxSuperFrames &+= o.rxSuperFrames; rxSegments &+= o.rxSegments; txFrames &+= o.txFrames
        txSuperFrames &+= o.txSuperFrames; rxCalls &+= o.rxCalls; txCalls &+= o.txCalls
    }
}

/// A tap port's counters as the control plane sees them.
public struct TapPortCounters: Sendable, Codable {
    public var port: UInt16
    public var fd: Int32
    public var counters: TapCounters
}

/// The taps a worker receives on, as one epoll set: a loop asks it once which taps have
/// frames (`epoll_wait`, timeout 0) and calls `recvmmsg` only on those, instead of one
/// `recvmmsg` per tap per loop (a hypervisor with 100 VMs made 100 syscalls per loop, most
/// of them empty). Level-triggered: a tap with more than one batch waiting is reported again.
/// The worker's sleep polls the set's fd instead of every tap.
@usableFromInline struct TapReadiness {
    @usableFromInline let fd: Int32
    /// Tap indexes of the last `ready()`.
    @usableFromInline let tags: UnsafeMutablePointer<UInt32>
    @usableFromInline let capacity: Int
    /// Taps in the set.
    @usableFromInline var count = 0

    init(capacity: Int) {
        fd = cvxsw_epoll_create()
        precondition(fd >= 0, "epoll_create1: errno \(-fd)")
        self.capacity = min(capacity, 256)
        tags = .allocate(capacity: self.capacity)
    }

    func deallocate() {
        close(fd)
        tags.deallocate()
    }

    /// Adds tap `index` (its packet socket `socket`).
    mutating func add(socket: Int32, index: Int) {
        if cvxsw_epoll_add(fd, socket, UInt32(index)) == 0 { count += 1 }
    }

    mutating func remove(socket: Int32) {
        if cvxsw_epoll_del(fd, socket) == 0 { count -= 1 }
    }

    /// How many taps have frames now; their indexes are `tap(0..<n)`.
    @inlinable func ready() -> Int {
        guard count > 0 else { return 0 }
        return Int(max(0, cvxsw_epoll_ready(fd, tags, Int32(capacity))))
    }

    @inlinable func tap(_ i: Int) -> Int { Int(tags[i]) }
}
