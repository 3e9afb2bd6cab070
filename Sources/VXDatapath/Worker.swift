import CVXSW
import Foundation
import Synchronization
import VXCore

/// How a worker waits when there is no traffic.
public enum PollMode: String, Sendable, Codable {
    /// Spin forever: lowest latency, one core at 100%.
    case busy
    /// Spin a while after the last packet (at most `WorkerSettings.spinMicroseconds`, less
    /// while spinning finds nothing: `SpinWindow`), then sleep in poll() until traffic or a
    /// job arrives.
    case adaptive
    /// Sleep in poll() whenever a loop found nothing to do.
    case interrupt
}

/// Settings of the worker threads.
public struct WorkerSettings: Sendable {
    /// One worker per CPU listed, pinned to it; empty: one unpinned worker.
    public var cpus: [Int]
    public var batchSize: Int
    public var poll: PollMode
    /// The longest an adaptive worker spins after its last packet before it sleeps. Time, not a
    /// loop count: a loop over tap ports makes a `recvmmsg` per tap, and on a hypervisor the
    /// CPU an idle spin burns is the guests'.
    public var spinMicroseconds: Int

    public init(cpus: [Int] = [], batchSize: Int = 64, poll: PollMode = .adaptive, spinMicroseconds: Int = 50) {
        self.cpus = cpus
        self.batchSize = max(1, min(batchSize, 256))
        self.poll = poll
        self.spinMicroseconds = spinMicroseconds
    }
}

/// What a worker owns: the processor (its copy of the switch tables), its free frames and
/// its views of the sockets. Only the worker's thread touches it; the control plane changes
/// it through jobs (`Worker.post`). Nothing here is shared with another worker except the
/// tx ring of a socket it shares (`QueueState.share`, under that socket's lock).
public struct WorkerState<P: PacketProcessor> {
    public var processor: P
    @usableFromInline var pool: UnsafeMutablePointer<FramePool>
    @usableFromInline var queues: UnsafeMutablePointer<QueueState>
    @usableFromInline var queueCount: Int = 0
    @usableFromInline var txQueue: UnsafeMutablePointer<Int32>
    @usableFromInline let memory: UnsafeMutableRawPointer
    @usableFromInline let frameSize: Int
    static var maxQueues: Int { 1024 }
    /// Bytes before the data in frames the worker hands out (room for encapsulation).
    @usableFromInline static var frameHeadroom: Int { 256 }
    /// Tap ports (packet sockets with the virtio-net header): `Worker+Taps.swift`.
    @usableFromInline var taps: UnsafeMutablePointer<TapQueue>
    @usableFromInline var tapCount: Int = 0
    /// The socket the next loop serves first: it moves on by one each loop, so no socket is
    /// always first (to refill from a short pool) or last (to find a shared tx ring full).
    @usableFromInline var firstQueue: Int = 0
    /// Where super-frames to remote VTEPs go whole (`TunnelTap`), when there is one.
    @usableFromInline var tunnel: UnsafeMutablePointer<TunnelPort>
    /// Which of the taps this worker receives on have frames.
    @usableFromInline var tapReadiness: TapReadiness

    /// Runs one job (between batches, on the worker).
    mutating func run(_ job: WorkerJob) {
        switch job {
        case .update(let u):
            _ = processor.apply(u)
        case .addSockets(let sockets, let port, let transmit):
            for (i, q) in sockets.enumerated() { register(q, port: port, transmits: i == transmit) }
        case .addTap(let fd, let port, let receives):
            _ = registerTap(fd: fd, port: port, receives: receives)
        case .setTunnel(let fd, let uplink):
            tunnel.pointee.fd = fd
            tunnel.pointee.uplink = uplink.raw
        case .frameBudget(let frames):
            for i in 0..<queueCount where queues[i].active && queues[i].receives { setFrameBudget(i, frames) }
        case .inspect(let inspection):
            processor.inspect(inspection)
        case .removePort(let port):
            for i in 0..<queueCount where queues[i].active && queues[i].port == port.raw { unregister(queue: i) }
            for i in 0..<tapCount where taps[i].active && taps[i].port == port.raw { unregisterTap(i) }
        }
    }

    /// Adds this worker's view of a socket and, when it receives on it, gives its fill ring frames.
    mutating func register(_ socket: QueueState, port: PortID, transmits: Bool) {
        let index = (0..<queueCount).first { !queues[$0].active } ?? queueCount
        precondition(index < Self.maxQueues, "too many AF_XDP sockets")
        queues[index] = socket
        queues[index].active = true
        if socket.share != nil { queues[index].staged = .allocate(capacity: QueueState.stageCapacity) }
        if index == queueCount { queueCount += 1 }
        if transmits { txQueue[Int(port.raw)] = Int32(index) }
        if socket.receives {
            // `fillTarget` comes as the socket's frame budget; its reserve is sized from it.
            queues[index].reserve = .allocate(capacity: QueueState.maxReserve)
            queues[index].reserveCount = 0
            setFrameBudget(index, socket.fillTarget)
            topUpReserve(index)
            refill(index)
        }
    }

    /// Sets a receiving socket's fill-ring target to its frame budget and its reserve to a
    /// quarter more (at most `QueueState.maxReserve`); reserve frames beyond the new size go
    /// back to the pool. A fill ring above its new target shrinks as it receives.
    mutating func setFrameBudget(_ index: Int, _ frames: UInt32) {
        let q = queues + index
        let reserve = min(QueueState.maxReserve, Int(frames) / 4)
        q.pointee.reserveCapacity = reserve
        q.pointee.fillTarget = frames
        while q.pointee.reserveCount > reserve {
            q.pointee.reserveCount &-= 1
            pool.pointee.give(q.pointee.reserve![q.pointee.reserveCount])
        }
    }

    /// Takes a socket out of the loop and recovers the frames this worker has in it (received
    /// frames not yet processed and fill-ring frames the kernel never used when it receives on
    /// it, completions, staged frames). Call after the XDP program stopped redirecting to it
    /// and before the socket is deleted.
    mutating func unregister(queue index: Int) {
        let q = queues + index
        if let share = q.pointee.share {
            cvxsw_spin_lock(&share.pointee.lock)
            reclaimShared(index)
            cvxsw_spin_unlock(&share.pointee.lock)
        } else {
            reclaimCompletions(index)
        }
        if let staged = q.pointee.staged {
            for i in 0..<q.pointee.stagedCount { pool.pointee.give(staged[i].addr) }
            staged.deallocate()
            q.pointee.staged = nil
            q.pointee.stagedCount = 0
        }
        if q.pointee.receives {
            var idx: UInt32 = 0
            let n = xsk_ring_cons__peek(q.pointee.rx, UInt32.max, &idx)
            for i in 0..<n { pool.pointee.give(xsk_ring_cons__rx_desc(q.pointee.rx, idx &+ i).pointee.addr) }
            xsk_ring_cons__release(q.pointee.rx, n)
            let consumer = q.pointee.fill.pointee.consumer.pointee
            var at = consumer
            while at != q.pointee.fill.pointee.cached_prod {
                pool.pointee.give(xsk_ring_prod__fill_addr(q.pointee.fill, at).pointee)
                at &+= 1
            }
        }
        if let reserve = q.pointee.reserve {
            for i in 0..<q.pointee.reserveCount { pool.pointee.give(reserve[i]) }
            reserve.deallocate()
            q.pointee.reserve = nil
            q.pointee.reserveCount = 0
        }
        for p in 0..<XDPProgram.maxPorts * 4 where txQueue[p] == Int32(index) { txQueue[p] = -1 }
        q.pointee.active = false
    }

    // MARK: Hot path

    /// Asks the kernel to send what the tx ring holds. Copy mode moves at most 32 frames per
    /// call and says EAGAIN when more wait: call again (up to 256 frames), so a batch's frames
    /// leave in this loop rather than fill the ring. EBUSY/ENOBUFS/ENETDOWN just mean "later".
    @usableFromInline mutating func kick(_ index: Int) {
        let q = queues + index
        guard let share = q.pointee.share else { return sendQueued(q) }
        // A shared ring: one caller at a time; the others leave a note and go on. (The words
        // are addressed in place: `pointee` of a pointer is the shared memory itself.)
        _ = cvxsw_atomic_exchange32(&share.pointee.kickAgain, 1)
        while cvxsw_spin_trylock(&share.pointee.kicking) != 0 {
            while cvxsw_atomic_exchange32(&share.pointee.kickAgain, 0) != 0 { sendQueued(q) }
            cvxsw_spin_unlock(&share.pointee.kicking)
            // A note left after our last look and before the unlock: take it (or its writer does).
            if cvxsw_atomic_load32(&share.pointee.kickAgain) == 0 { break }
        }
    }

    private func sendQueued(_ q: UnsafeMutablePointer<QueueState>) {
        var calls = 0
        while sendto(q.pointee.fd, nil, 0, Int32(MSG_DONTWAIT), nil, 0) < 0 {
            let e = errno
            calls += 1
            if e == EAGAIN && calls < 8 { q.pointee.txKicks &+= 1; continue }
            switch e {
            case EAGAIN, EBUSY, ENOBUFS, ENETDOWN: break
            default: q.pointee.txKickErrors &+= 1
            }
            break
        }
    }

    /// Submits and kicks what this worker has queued for `port`'s AF_XDP tx ring now, rather
    /// than after the batch (before a write that bypasses the ring, so order is kept).
    @inlinable mutating func flushTx(port: UInt16) {
        let i = Int(txQueue[Int(port)])
        guard i >= 0, i < queueCount, queues[i].active else { return }
        let q = queues + i
        if q.pointee.share != nil {
            guard q.pointee.stagedCount > 0 else { return }
            _ = submitShared(i)
        } else {
            guard q.pointee.pendingTx > 0 else { return }
            xsk_ring_prod__submit(q.pointee.tx, q.pointee.pendingTx)
            q.pointee.outstandingTx &+= q.pointee.pendingTx
            q.pointee.pendingTx = 0
        }
        if xsk_ring_prod__needs_wakeup(q.pointee.tx) != 0 {
            q.pointee.txKicks &+= 1
            kick(i)
        }
    }

    /// Completions of a socket only this worker transmits on, into its pool.
    @inlinable mutating func reclaimCompletions(_ index: Int) {
        let q = queues + index
        guard q.pointee.share == nil, q.pointee.outstandingTx > 0 else { return }
        q.pointee.outstandingTx &-= reapCompletions(q)
    }

    /// Completions of a shared socket, into this worker's pool (call with its lock held).
    @inlinable mutating func reclaimShared(_ index: Int) {
        let q = queues + index
        guard let share = q.pointee.share, share.pointee.outstandingTx > 0 else { return }
        share.pointee.outstandingTx &-= reapCompletions(q)
    }

    @inlinable mutating func reapCompletions(_ q: UnsafeMutablePointer<QueueState>) -> UInt32 {
        var idx: UInt32 = 0
        let n = xsk_ring_cons__peek(q.pointee.comp, 256, &idx)
        guard n > 0 else { return 0 }
        for i in 0..<n { pool.pointee.give(xsk_ring_cons__comp_addr(q.pointee.comp, idx &+ i).pointee) }
        xsk_ring_cons__release(q.pointee.comp, n)
        return n
    }

    /// Tops the fill ring up to its target, in one reservation: from the worker's pool, and
    /// from the socket's reserve when the pool runs dry.
    @inlinable mutating func refill(_ index: Int) {
        let q = queues + index
        let want = Int(q.pointee.fillTarget) - Int(q.pointee.filled)
        let n = min(want, pool.pointee.available &+ q.pointee.reserveCount)
        guard n >= 16 || (n > 0 && q.pointee.filled < 16) else { return }
        var idx: UInt32 = 0
        let got = xsk_ring_prod__reserve(q.pointee.fill, UInt32(n), &idx)
        guard got > 0 else { return }
        for i in 0..<got {
            let addr: UInt64
            if let f = pool.pointee.take() { addr = f } else {
                q.pointee.reserveCount &-= 1
                addr = q.pointee.reserve![q.pointee.reserveCount]
            }
            xsk_ring_prod__fill_addr(q.pointee.fill, idx &+ i).pointee = addr
        }
        xsk_ring_prod__submit(q.pointee.fill, got)
        q.pointee.filled &+= got
    }

    /// Refills a socket's reserve from the pool (as much as the pool has).
    @inlinable mutating func topUpReserve(_ index: Int) {
        let q = queues + index
        while q.pointee.reserveCount < q.pointee.reserveCapacity, let f = pool.pointee.take() {
            q.pointee.reserve![q.pointee.reserveCount] = f
            q.pointee.reserveCount &+= 1
        }
    }

    /// Submits the batch's tx descriptors and lists the sockets whose tx ring asks for a
    /// wakeup (need_wakeup); the caller makes those `sendto` calls after the batch.
    /// Returns the number listed and whether any socket still has frames in flight.
    @inlinable mutating func submitTx(kicks: UnsafeMutableBufferPointer<Int32>) -> (count: Int, busy: Bool) {
        var count = 0
        var busy = false
        for i in 0..<tapCount where taps[i].active && taps[i].pendingCount > 0 { flushTap(i) }
        for i in 0..<queueCount {
            let q = queues + i
            guard q.pointee.active else { continue }
            let inFlight: Bool
            if q.pointee.share != nil {
                inFlight = submitShared(i)
            } else {
                if q.pointee.pendingTx > 0 {
                    xsk_ring_prod__submit(q.pointee.tx, q.pointee.pendingTx)
                    q.pointee.outstandingTx &+= q.pointee.pendingTx
                    q.pointee.pendingTx = 0
                }
                reclaimCompletions(i)
                inFlight = q.pointee.outstandingTx > 0
            }
            guard inFlight else { continue }
            busy = true
            if xsk_ring_prod__needs_wakeup(q.pointee.tx) != 0 && count < kicks.count {
                q.pointee.txKicks &+= 1
                kicks[count] = Int32(i)
                count += 1
            }
        }
        return (count, busy)
    }

    /// Writes the frames staged for a shared socket to its tx ring under its lock (reaping its
    /// completions meanwhile); frames the ring has no room for are dropped and counted. The
    /// worker that receives on it also reaps when it has nothing to send (try-lock only).
    /// Returns whether frames this worker should wait for are in flight on it.
    @inlinable mutating func submitShared(_ index: Int) -> Bool {
        let q = queues + index
        let share = q.pointee.share!
        let n = q.pointee.stagedCount
        if n == 0 {
            guard q.pointee.receives, share.pointee.outstandingTx > 0, cvxsw_spin_trylock(&share.pointee.lock) != 0 else { return false }
            reclaimShared(index)
            let busy = share.pointee.outstandingTx > 0
            cvxsw_spin_unlock(&share.pointee.lock)
            return busy
        }
        let staged = q.pointee.staged!
        cvxsw_spin_lock(&share.pointee.lock)
        reclaimShared(index)
        var idx: UInt32 = 0
        let got = Int(xsk_ring_prod__reserve(q.pointee.tx, UInt32(n), &idx))
        for j in 0..<got {
            let desc = xsk_ring_prod__tx_desc(q.pointee.tx, idx &+ UInt32(j))!
            desc.pointee.addr = staged[j].addr
            desc.pointee.len = UInt32(truncatingIfNeeded: staged[j].length)
            desc.pointee.options = 0
        }
        if got > 0 {
            xsk_ring_prod__submit(q.pointee.tx, UInt32(got))
            share.pointee.outstandingTx &+= UInt32(got)
        }
        cvxsw_spin_unlock(&share.pointee.lock)
        q.pointee.stagedCount = 0
        if got < n {
            for j in got..<n { pool.pointee.give(staged[j].addr) }
            processor.countDrops(.txRingFull, port: PortID(q.pointee.port), count: UInt64(n &- got))
        }
        return true
    }

    /// Receives and processes one batch from every socket and tap this worker receives on.
    /// Fair by construction: each socket's budget per loop is one batch (`batch.count` frames,
    /// however many wait), the sockets take turns being first, and each one's reserve is
    /// topped up before any fill ring takes from the pool. One busy port still gets whole
    /// batches, loop after loop. Returns the frames handled.
    @inlinable mutating func pollOnce(batch: UnsafeMutableBufferPointer<FrameDescriptor>, now: UInt32) -> Int {
        var io = XSKFrameIO(memory: memory, frameSize: frameSize, allocationHeadroom: Self.frameHeadroom,
                            pool: pool, queues: queues, txQueue: txQueue, taps: taps)
        var handled = 0
        let count = queueCount
        let first = firstQueue < count ? firstQueue : 0
        firstQueue = first &+ 1
        for k in 0..<count {
            var i = first &+ k
            if i >= count { i &-= count }
            let q = queues + i
            guard q.pointee.active, q.pointee.receives else { continue }
            reclaimCompletions(i)
            if q.pointee.reserveCount < q.pointee.reserveCapacity { topUpReserve(i) }
        }
        for k in 0..<count {
            var i = first &+ k
            if i >= count { i &-= count }
            let q = queues + i
            guard q.pointee.active, q.pointee.receives else { continue }
            var idx: UInt32 = 0
            let n = Int(xsk_ring_cons__peek(q.pointee.rx, UInt32(batch.count), &idx))
            if n > 0 {
                for j in 0..<n {
                    let d = xsk_ring_cons__rx_desc(q.pointee.rx, idx &+ UInt32(j))!
                    batch[j] = FrameDescriptor(addr: d.pointee.addr, length: Int(d.pointee.len))
                }
                xsk_ring_cons__release(q.pointee.rx, UInt32(n))
                q.pointee.filled &-= UInt32(n)
                processor.process(UnsafeMutableBufferPointer(rebasing: batch[0..<n]),
                                  from: PortID(q.pointee.port), now: now, io: &io)
                handled &+= n
            } else if q.pointee.busyPoll {
                // Busy polling: the kernel runs the device's NAPI in this call (xdpsock does the same).
                q.pointee.rxWakeups &+= 1
                _ = recvfrom(q.pointee.fd, nil, 0, Int32(MSG_DONTWAIT), nil, nil)
            }
            refill(i)
        }
        let ready = tapReadiness.ready()
        for e in 0..<ready {
            let i = tapReadiness.tap(e)
            guard i < tapCount, taps[i].active, taps[i].receives else { continue }
            handled &+= pollTap(i, batch: batch, now: now, io: &io)
        }
        return handled
    }

    /// Keeps this worker's free frames near its share: a surplus goes to the depot, a
    /// shortage takes a chunk from it (several workers only).
    mutating func balance(with depot: FrameDepot, share: Int) {
        let have = pool.pointee.available
        if have > share {
            depot.give(have &- share / 2, from: pool)
        } else if have < share / 8, depot.available > 0 {
            depot.take(into: pool)
        }
    }
}

/// One worker: a thread that runs to completion, rx → process → tx, pinned to its CPU,
/// receiving on its own sockets (a queue of the uplink, some access ports) with its own
/// copy of the tables, its own frame pool and its own rings. The datapath runs one per
/// configured CPU; workers share no lock on the per-packet path (only the tx ring of a
/// port with fewer sockets than workers, per batch). The control plane never takes a lock
/// the worker holds: it posts jobs (`post`) into a single-producer ring the worker drains
/// between batches, and reads counters from memory the worker writes (`queueCounters`,
/// `tapCounters`, `freeFrames`). Reports of what the tables learned come back through `reports`.
public final class Worker<P: PacketProcessor>: @unchecked Sendable {
    private var state: WorkerState<P>
    /// Which worker this is (0-based), and the CPU it is pinned to (nil: not pinned).
    public let index: Int
    public let cpu: Int?
    private let settings: WorkerSettings
    private let depot: FrameDepot?
    /// Free frames this worker keeps (its share of the UMEM), when a depot balances workers.
    private let poolShare: Int
    private let running = Atomic<Bool>(false)
    /// The worker thread exists (from `start` until `stop` has joined it): only then does it
    /// consume the job ring; otherwise the poster applies jobs itself.
    private let live = Atomic<Bool>(false)
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    /// Wakes the thread sleeping in poll(): a job was posted, or the worker stops.
    private let wakeFD: Int32
    private let sleeping = Atomic<Int>(0)
    private let errorLock = NSLock()
    private var pinErrors: [String] = []

    // The job ring: producers serialize on `postLock` (the worker never takes it).
    private let jobs = SPSCRing<WorkerJob>(capacity: 65536)
    private let postLock = NSLock()
    private var posted: UInt64 = 0
    private let applied = Atomic<UInt64>(0)
    /// Jobs the worker applies per loop at most, so a burst of updates never holds up
    /// forwarding for long (`vxsw bench tables`: 1M installs through owner and worker in 0.75 s).
    private static var jobsPerLoop: Int { 1024 }

    /// Loops the worker has run: it advances at least every 100 ms (the poll timeout) while
    /// the worker turns, so a watchdog can tell a stuck worker from an idle one.
    private let loopsRun = Atomic<UInt64>(0)
    public var heartbeat: UInt64 { loopsRun.load(ordering: .relaxed) }
    /// Frames this worker received and processed, and the CPU time its thread used (ns):
    /// per-worker cost without stopping it (`vxsw bench --workers`).
    private let framesHandled = Atomic<UInt64>(0)
    private let cpuTime = Atomic<UInt64>(0)
    public var frames: UInt64 { framesHandled.load(ordering: .relaxed) }
    public var cpuNanoseconds: UInt64 { cpuTime.load(ordering: .relaxed) }

    /// What the tables learned (FDB events, VTEPs seen), for the owner of the tables.
    public let reports = SPSCRing<DataplaneReport>(capacity: 65536)

    // Read-only views of worker memory for readers on other threads.
    private let poolView: UnsafeMutablePointer<FramePool>
    private let queueView: UnsafeMutablePointer<QueueState>
    private let tapView: UnsafeMutablePointer<TapQueue>
    private let tunnelView: UnsafeMutablePointer<TunnelPort>
    private let queueSlots = Atomic<Int>(0)
    private let tapSlots = Atomic<Int>(0)

    /// Why the thread could not be pinned (reported by the daemon, not fatal).
    public var pinError: String? { errorLock.withLock { pinErrors.isEmpty ? nil : pinErrors.joined(separator: "; ") } }

    /// Worker `index` of `count`, starting with its share of the UMEM's frames; `depot`
    /// balances the pools when there are several workers.
    init(processor: P, umem: UMEM, settings: WorkerSettings, index: Int = 0, count: Int = 1, depot: FrameDepot? = nil) {
        let per = umem.frameCount / max(1, count)
        let frames = index == count - 1 ? per * index..<umem.frameCount : per * index..<per * (index + 1)
        let pool = UnsafeMutablePointer<FramePool>.allocate(capacity: 1)
        pool.initialize(to: FramePool(frameCount: umem.frameCount, frameSize: umem.frameSize, frames: frames))
        let queues = UnsafeMutablePointer<QueueState>.allocate(capacity: WorkerState<P>.maxQueues)
        let txQueue = UnsafeMutablePointer<Int32>.allocate(capacity: XDPProgram.maxPorts * 4)
        txQueue.initialize(repeating: -1, count: XDPProgram.maxPorts * 4)
        let taps = UnsafeMutablePointer<TapQueue>.allocate(capacity: WorkerState<P>.maxTaps)
        let tunnel = UnsafeMutablePointer<TunnelPort>.allocate(capacity: 1)
        tunnel.initialize(to: TunnelPort())
        state = WorkerState(processor: processor, pool: pool, queues: queues, txQueue: txQueue,
                            memory: umem.memory, frameSize: umem.frameSize, taps: taps, tunnel: tunnel,
                            tapReadiness: TapReadiness(capacity: WorkerState<P>.maxTaps))
        poolView = pool; queueView = queues; tapView = taps; tunnelView = tunnel
        self.settings = settings
        self.index = index
        cpu = index < settings.cpus.count ? settings.cpus[index] : nil
        self.depot = depot
        poolShare = per
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    }

    deinit {
        stop()
        close(wakeFD)
        state.pool.pointee.deallocate()
        state.pool.deallocate()
        for i in 0..<state.queueCount where state.queues[i].active {
            state.queues[i].staged?.deallocate()
            state.queues[i].reserve?.deallocate()
        }
        state.queues.deallocate()
        state.txQueue.deallocate()
        for i in 0..<state.tapCount where state.taps[i].active { state.taps[i].deallocate() }
        state.taps.deallocate()
        state.tunnel.pointee.deallocate()
        state.tunnel.deallocate()
        state.tapReadiness.deallocate()
    }

    public var isRunning: Bool { running.load(ordering: .acquiring) }

    // MARK: Jobs

    /// Table changes for the worker, applied in order between batches. Returns at once unless
    /// `wait`, then when the worker has applied them (read-your-writes for a CLI command).
    public func post(_ updates: [TableUpdate], wait: Bool = false) {
        post(jobs: updates.map { .update($0) }, wait: wait)
    }

    /// Queues jobs (waiting while the ring is full) and wakes the worker. When the worker is
    /// not running (before `start`, after `stop`), the caller applies them itself.
    func post(jobs list: [WorkerJob], wait: Bool) {
        guard !list.isEmpty else { return }
        let target: UInt64 = postLock.withLock {
            for job in list {
                while !jobs.push(job) {
                    if !live.load(ordering: .acquiring) { drainJobsInline() } else { wake(); usleep(50) }
                }
            }
            posted &+= UInt64(list.count)
            if !live.load(ordering: .acquiring) { drainJobsInline() }
            return posted
        }
        wake()
        if wait { waitUntilApplied(target) }
    }

    /// Reads part of the worker's tables between its batches (the consistency audit); returns
    /// when `inspection` holds the answer.
    public func inspect(_ inspection: TableInspection) {
        post(jobs: [.inspect(inspection)], wait: true)
    }

    /// Returns once every job posted so far has been applied.
    public func waitUntilApplied() {
        waitUntilApplied(postLock.withLock { posted })
    }

    private func waitUntilApplied(_ target: UInt64) {
        while applied.load(ordering: .acquiring) < target {
            usleep(20)
            postLock.withLock { if !live.load(ordering: .acquiring) { drainJobsInline() } }
        }
    }

    /// Applies queued jobs on the calling thread; only while no worker thread runs (call with `postLock`).
    private func drainJobsInline() {
        while let job = jobs.pop() {
            state.run(job)
            applied.add(1, ordering: .releasing)
        }
        publishSlots()
    }

    /// Between batches: up to `jobsPerLoop` jobs.
    private func runJobs() {
        var n = 0
        while n < Self.jobsPerLoop, let job = jobs.pop() {
            state.run(job)
            n += 1
        }
        if n > 0 {
            publishSlots()
            applied.add(UInt64(n), ordering: .releasing)
        }
    }

    private func wake() {
        guard sleeping.load(ordering: .sequentiallyConsistent) > 0 else { return }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private func publishSlots() {
        queueSlots.store(state.queueCount, ordering: .releasing)
        tapSlots.store(state.tapCount, ordering: .releasing)
    }

    // MARK: Readers (any thread, no lock: the worker's live values)

    public var freeFrames: Int { poolView.pointee.available }

    /// The sockets this worker receives on, with its own tx accounting of them.
    public var queueCounters: [QueueCounters] {
        (0..<queueSlots.load(ordering: .acquiring)).compactMap { i in
            let q = queueView[i]
            guard q.active else { return nil }
            return QueueCounters(port: q.port, fd: q.fd, worker: index, receives: q.receives, txKicks: q.txKicks,
                                 txKickErrors: q.txKickErrors, rxWakeups: q.rxWakeups,
                                 outstandingTx: q.share?.pointee.outstandingTx ?? q.outstandingTx, filled: q.filled,
                                 kernel: q.receives ? XSKKernelDrops.read(fd: q.fd) : nil)
        }
    }

    /// What this worker sent through the tunnel tap.
    public var tunnelCounters: TunnelCounters { tunnelView.pointee.counters }

    public var tapCounters: [TapPortCounters] {
        (0..<tapSlots.load(ordering: .acquiring)).compactMap { i in
            tapView[i].active ? TapPortCounters(port: tapView[i].port, fd: tapView[i].fd, counters: tapView[i].counters) : nil
        }
    }

    // MARK: Thread

    public func start() {
        postLock.lock()
        defer { postLock.unlock() }
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        drainJobsInline()
        live.store(true, ordering: .releasing)
        let t = Thread { [unowned self] in self.run() }
        t.name = "vxsw-worker-\(index)"
        thread = t
        t.start()
    }

    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
        if thread != nil { finished.wait() }
        thread = nil
        postLock.withLock {
            live.store(false, ordering: .releasing)
            drainJobsInline()
        }
    }

    private func run() {
        cvxsw_set_thread_name("vxsw-worker-\(index)")
        // The daemon's control threads run at nice +5 (`ControlPriority`); a worker created by
        // one of them starts there too and goes back to the normal weight (root may lower nice).
        _ = cvxsw_set_thread_nice(0)
        if let cpu {
            let err = cvxsw_pin_current_thread(Int32(cpu))
            if err != 0 {
                errorLock.withLock { pinErrors.append("cannot pin worker \(index) to CPU \(cpu): \(String(cString: strerror(-err)))") }
            }
        }
        let batch = UnsafeMutableBufferPointer<FrameDescriptor>.allocate(capacity: settings.batchSize)
        let kicks = UnsafeMutableBufferPointer<Int32>.allocate(capacity: WorkerState<P>.maxQueues)
        defer { batch.deallocate(); kicks.deallocate(); finished.signal() }
        var fds = [pollfd](repeating: pollfd(), count: WorkerState<P>.maxQueues + WorkerState<P>.maxTaps + 1)
        var idle = 0
        var idleSince: UInt64 = 0
        var spin = SpinWindow(microseconds: settings.spinMicroseconds)
        var now = Self.seconds()
        var lastHousekeeping = now
        var loops: UInt32 = 0
        var handledTotal: UInt64 = 0
        while running.load(ordering: .relaxed) {
            runJobs()
            let handled = state.pollOnce(batch: batch, now: now)
            let (kickCount, inFlight) = state.submitTx(kicks: kicks)
            if now != lastHousekeeping {
                lastHousekeeping = now
                state.processor.housekeeping(now: now)
                state.collectTapKernelDrops()
                cpuTime.store(cvxsw_thread_cpu_ns(), ordering: .relaxed)
            }
            state.processor.publishReports(into: reports)
            if let depot { state.balance(with: depot, share: poolShare) }
            for k in 0..<kickCount { state.kick(Int(kicks[k])) }
            loops &+= 1
            loopsRun.store(UInt64(loops), ordering: .relaxed)
            if handled > 0 {
                handledTotal &+= UInt64(handled)
                framesHandled.store(handledTotal, ordering: .relaxed)
            }
            if handled > 0 || inFlight || !jobs.isEmpty {
                idle = 0
                if loops & 1023 == 0 { now = Self.seconds() }
            } else {
                idle += 1
                now = Self.seconds()
                if settings.poll == .interrupt {
                    sleep(fds: &fds)
                } else if settings.poll == .adaptive {
                    let t = Self.nanoseconds()
                    if idle == 1 { idleSince = t }
                    if t &- idleSince >= spin.current {
                        if spin.current > 0 { spin.ranOut() }
                        sleep(fds: &fds)
                        spin.woke(after: Self.nanoseconds() &- t)
                    }
                }
            }
        }
    }

    /// Sleeps until one of this worker's sockets has frames, a job is posted, the worker
    /// stops, or 100 ms pass (housekeeping, and sockets added since).
    private func sleep(fds: inout [pollfd]) {
        var n = 0
        for i in 0..<state.queueCount where state.queues[i].active && state.queues[i].receives {
            fds[n] = pollfd(fd: state.queues[i].fd, events: Int16(POLLIN), revents: 0)
            n += 1
        }
        if state.tapReadiness.count > 0 {
            fds[n] = pollfd(fd: state.tapReadiness.fd, events: Int16(POLLIN), revents: 0)
            n += 1
        }
        fds[n] = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
        n += 1
        // Announce the sleep, then look at the job ring once more: a producer that pushed
        // before seeing `sleeping` is caught here, one that pushes after it writes the eventfd.
        sleeping.add(1, ordering: .sequentiallyConsistent)
        if jobs.isEmpty { _ = poll(&fds, nfds_t(n), 100) }
        sleeping.subtract(1, ordering: .sequentiallyConsistent)
        if fds[n - 1].revents != 0 && running.load(ordering: .relaxed) {
            var value: UInt64 = 0
            _ = read(wakeFD, &value, 8)
        }
    }

    /// Monotonic nanoseconds (vDSO, no syscall), for the adaptive spin.
    static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Monotonic seconds (coarse clock: no syscall through the vDSO).
    public static func seconds() -> UInt32 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        return UInt32(truncatingIfNeeded: ts.tv_sec)
    }
}

/// The lowest CPU the process may run on: the default worker CPU.
public func firstAllowedCPU() -> Int { Int(cvxsw_first_allowed_cpu()) }
