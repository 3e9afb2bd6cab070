import CVXSW
import Foundation
import Synchronization
import VXCore

/// How a worker waits when there is no traffic.
public enum PollMode: String, Sendable, Codable {
    /// Spin forever: lowest latency, one core at 100%.
    case busy
    /// Spin a while after the last packet, then sleep in poll() until traffic or a job arrives.
    case adaptive
    /// Sleep in poll() whenever a loop found nothing to do.
    case interrupt
}

/// Settings of the worker loop.
public struct WorkerSettings: Sendable {
    public var cpu: Int?
    public var batchSize: Int
    public var poll: PollMode
    /// Empty loops before an adaptive worker sleeps.
    public var spinLoops: Int

    public init(cpu: Int? = nil, batchSize: Int = 64, poll: PollMode = .adaptive, spinLoops: Int = 2000) {
        self.cpu = cpu
        self.batchSize = max(1, min(batchSize, 256))
        self.poll = poll
        self.spinLoops = spinLoops
    }
}

/// Everything the worker thread owns: the processor (switch tables), the free frames and
/// the socket table. Control-plane code reaches it only through `Worker.sync`.
public struct WorkerState<P: PacketProcessor> {
    public var processor: P
    @usableFromInline var pool: UnsafeMutablePointer<FramePool>
    @usableFromInline var queues: UnsafeMutablePointer<QueueState>
    @usableFromInline var queueCount: Int = 0
    @usableFromInline var txQueue: UnsafeMutablePointer<Int32>
    @usableFromInline let memory: UnsafeMutableRawPointer
    @usableFromInline let frameSize: Int
    static var maxQueues: Int { 1024 }

    public var freeFrames: Int { pool.pointee.available }

    public var queueCounters: [QueueCounters] {
        (0..<queueCount).compactMap { i in
            let q = queues[i]
            guard q.active else { return nil }
            return QueueCounters(port: q.port, fd: q.fd, txKicks: q.txKicks, txKickErrors: q.txKickErrors,
                                 rxWakeups: q.rxWakeups, outstandingTx: q.outstandingTx, filled: q.filled)
        }
    }

    /// Adds a socket to the loop and gives its fill ring frames. Returns its queue index.
    mutating func register(_ socket: XSKSocket, port: PortID, fillTarget: Int, transmits: Bool) -> Int {
        let index = (0..<queueCount).first { !queues[$0].active } ?? queueCount
        precondition(index < Self.maxQueues, "too many AF_XDP sockets")
        queues[index] = QueueState(rx: socket.rx, tx: socket.tx, fill: socket.fill, comp: socket.comp,
                                   fd: socket.fd, port: port.raw, active: true, fillTarget: UInt32(fillTarget))
        queues[index].busyPoll = socket.busyPolls
        if index == queueCount { queueCount += 1 }
        if transmits { txQueue[Int(port.raw)] = Int32(index) }
        refill(index)
        return index
    }

    /// Takes a socket out of the loop and recovers its frames (completions, received frames
    /// not yet processed, and fill-ring frames the kernel never used). Call after the XDP
    /// program stopped redirecting to it and before the socket is deleted.
    mutating func unregister(queue index: Int) {
        let q = queues + index
        reclaimCompletions(index)
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
        for p in 0..<XDPProgram.maxPorts * 4 where txQueue[p] == Int32(index) { txQueue[p] = -1 }
        q.pointee.active = false
    }

    // MARK: Hot path

    @inlinable mutating func reclaimCompletions(_ index: Int) {
        let q = queues + index
        guard q.pointee.outstandingTx > 0 else { return }
        var idx: UInt32 = 0
        let n = xsk_ring_cons__peek(q.pointee.comp, 256, &idx)
        guard n > 0 else { return }
        for i in 0..<n { pool.pointee.give(xsk_ring_cons__comp_addr(q.pointee.comp, idx &+ i).pointee) }
        xsk_ring_cons__release(q.pointee.comp, n)
        q.pointee.outstandingTx &-= n
    }

    /// Tops the fill ring up to its target, in one reservation.
    @inlinable mutating func refill(_ index: Int) {
        let q = queues + index
        let want = Int(q.pointee.fillTarget) - Int(q.pointee.filled)
        let n = min(want, pool.pointee.available)
        guard n >= 16 || (n > 0 && q.pointee.filled < 16) else { return }
        var idx: UInt32 = 0
        let got = xsk_ring_prod__reserve(q.pointee.fill, UInt32(n), &idx)
        guard got > 0 else { return }
        for i in 0..<got { xsk_ring_prod__fill_addr(q.pointee.fill, idx &+ i).pointee = pool.pointee.take()! }
        xsk_ring_prod__submit(q.pointee.fill, got)
        q.pointee.filled &+= got
    }

    /// Submits the batch's tx descriptors and kicks the kernel where need_wakeup asks.
    /// Returns true while any socket still has frames in flight.
    @inlinable mutating func flushTx() -> Bool {
        var busy = false
        for i in 0..<queueCount {
            let q = queues + i
            guard q.pointee.active else { continue }
            if q.pointee.pendingTx > 0 {
                xsk_ring_prod__submit(q.pointee.tx, q.pointee.pendingTx)
                q.pointee.outstandingTx &+= q.pointee.pendingTx
                q.pointee.pendingTx = 0
            }
            guard q.pointee.outstandingTx > 0 else { continue }
            if xsk_ring_prod__needs_wakeup(q.pointee.tx) != 0 {
                q.pointee.txKicks &+= 1
                // Copy mode moves at most 32 frames per call; EAGAIN/EBUSY/ENOBUFS just mean "again".
                if sendto(q.pointee.fd, nil, 0, Int32(MSG_DONTWAIT), nil, 0) < 0 {
                    let e = errno
                    if e != EAGAIN && e != EBUSY && e != ENOBUFS && e != ENETDOWN { q.pointee.txKickErrors &+= 1 }
                }
            }
            reclaimCompletions(i)
            busy = busy || q.pointee.outstandingTx > 0
        }
        return busy
    }

    /// Receives and processes one batch from every socket. Returns the frames handled.
    @inlinable mutating func pollOnce(batch: UnsafeMutableBufferPointer<FrameDescriptor>, now: UInt32) -> Int {
        var io = XSKFrameIO(memory: memory, frameSize: frameSize, allocationHeadroom: 256,
                            pool: pool, queues: queues, txQueue: txQueue)
        var handled = 0
        for i in 0..<queueCount {
            let q = queues + i
            guard q.pointee.active else { continue }
            reclaimCompletions(i)
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
        return handled
    }
}

/// One run-to-completion worker thread: rx → process → tx for every socket it owns,
/// pinned to a CPU. Control-plane changes arrive as jobs between batches.
public final class Worker<P: PacketProcessor>: @unchecked Sendable {
    private var state: WorkerState<P>
    private let settings: WorkerSettings
    private let mailbox = Mailbox<WorkerState<P>>()
    private let running = Atomic<Bool>(false)
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    /// Error text if pinning failed (reported by the daemon, not fatal).
    public private(set) var pinError: String?

    public init(processor: P, umem: UMEM, settings: WorkerSettings) {
        let pool = UnsafeMutablePointer<FramePool>.allocate(capacity: 1)
        pool.initialize(to: FramePool(frameCount: umem.frameCount, frameSize: umem.frameSize))
        let queues = UnsafeMutablePointer<QueueState>.allocate(capacity: WorkerState<P>.maxQueues)
        let txQueue = UnsafeMutablePointer<Int32>.allocate(capacity: XDPProgram.maxPorts * 4)
        txQueue.initialize(repeating: -1, count: XDPProgram.maxPorts * 4)
        state = WorkerState(processor: processor, pool: pool, queues: queues, txQueue: txQueue,
                            memory: umem.memory, frameSize: umem.frameSize)
        self.settings = settings
    }

    deinit {
        stop()
        state.pool.pointee.deallocate()
        state.pool.deallocate()
        state.queues.deallocate()
        state.txQueue.deallocate()
    }

    public var isRunning: Bool { running.load(ordering: .acquiring) }

    /// Runs `body` on the worker's state: as a job between batches while the thread runs,
    /// directly otherwise. Blocks until done.
    public func sync<T>(_ body: @escaping (inout WorkerState<P>) -> T) -> T {
        guard isRunning else { return body(&state) }
        var result: T?
        let done = DispatchSemaphore(value: 0)
        mailbox.post { s in
            result = body(&s)
            done.signal()
        }
        done.wait()
        return result!
    }

    public func start() {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let t = Thread { [unowned self] in self.run() }
        t.name = "vxsw-worker"
        thread = t
        t.start()
    }

    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        var one: UInt64 = 1
        _ = write(mailbox.eventFD, &one, 8)
        finished.wait()
        // Jobs posted while stopping run here, on the caller's thread, now that the loop is gone.
        mailbox.drain(&state)
    }

    private func run() {
        if let cpu = settings.cpu {
            let err = cvxsw_pin_current_thread(Int32(cpu))
            if err != 0 { pinError = "cannot pin worker to CPU \(cpu): \(String(cString: strerror(-err)))" }
        }
        let batch = UnsafeMutableBufferPointer<FrameDescriptor>.allocate(capacity: settings.batchSize)
        defer { batch.deallocate(); finished.signal() }
        var fds = [pollfd](repeating: pollfd(), count: WorkerState<P>.maxQueues + 1)
        var idle = 0
        var now = Self.seconds()
        var lastHousekeeping = now
        var loops: UInt32 = 0
        while running.load(ordering: .relaxed) {
            if mailbox.pending.load(ordering: .acquiring) { mailbox.drain(&state) }
            let handled = state.pollOnce(batch: batch, now: now)
            let inFlight = state.flushTx()
            loops &+= 1
            if handled > 0 || inFlight {
                idle = 0
                if loops & 1023 == 0 { now = Self.seconds() }
            } else {
                idle += 1
                now = Self.seconds()
                let shouldSleep = settings.poll == .interrupt || (settings.poll == .adaptive && idle > settings.spinLoops)
                if shouldSleep { sleep(fds: &fds) }
            }
            if now != lastHousekeeping {
                lastHousekeeping = now
                state.processor.housekeeping(now: now)
            }
        }
    }

    /// Sleeps until a socket has frames, a job arrives, or 100 ms pass (for housekeeping).
    private func sleep(fds: inout [pollfd]) {
        var n = 0
        for i in 0..<state.queueCount where state.queues[i].active {
            fds[n] = pollfd(fd: state.queues[i].fd, events: Int16(POLLIN), revents: 0)
            n += 1
        }
        fds[n] = pollfd(fd: mailbox.eventFD, events: Int16(POLLIN), revents: 0)
        n += 1
        _ = poll(&fds, nfds_t(n), 100)
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
