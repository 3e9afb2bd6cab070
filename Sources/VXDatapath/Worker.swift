import CVXSW
import Foundation
import Synchronization
import VXCore

/// How a worker waits when there is no traffic.
public enum PollMode: String, Sendable, Codable {
    /// Spin forever: lowest latency, one core at 100%.
    case busy
    /// Spin a while (`WorkerSettings.spinMicroseconds`) after the last packet, then sleep in
    /// poll() until traffic or a job arrives.
    case adaptive
    /// Sleep in poll() whenever a loop found nothing to do.
    case interrupt
}

/// Settings of the worker threads.
public struct WorkerSettings: Sendable {
    /// One worker thread per CPU listed, pinned to it; empty: one unpinned thread.
    public var cpus: [Int]
    public var batchSize: Int
    public var poll: PollMode
    /// How long an adaptive worker spins after its last packet before it sleeps. Time, not a
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

/// What a worker owns: the processor (its copy of the switch tables), the free frames and
/// the socket table. Only worker threads touch it; the control plane changes it through
/// jobs (`Worker.post`). With several threads they share it under `Worker.ioLock`.
public struct WorkerState<P: PacketProcessor> {
    public var processor: P
    /// Worker threads; each socket's rx and fill rings belong to one of them (`QueueState.owner`).
    @usableFromInline var threads: Int = 1
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

    /// Runs one job (between batches, on the worker).
    mutating func run(_ job: WorkerJob) {
        switch job {
        case .update(let u):
            _ = processor.apply(u)
        case .addSockets(let sockets, let port):
            for (i, q) in sockets.enumerated() { register(q, port: port, transmits: i == 0) }
        case .addTap(let fd, let port):
            _ = registerTap(fd: fd, port: port)
        case .inspect(let inspection):
            processor.inspect(inspection)
        case .removePort(let port):
            for i in 0..<queueCount where queues[i].active && queues[i].port == port.raw { unregister(queue: i) }
            for i in 0..<tapCount where taps[i].active && taps[i].port == port.raw { unregisterTap(i) }
        }
    }

    /// Adds a socket to the loop and gives its fill ring frames.
    mutating func register(_ socket: QueueState, port: PortID, transmits: Bool) {
        let index = (0..<queueCount).first { !queues[$0].active } ?? queueCount
        precondition(index < Self.maxQueues, "too many AF_XDP sockets")
        queues[index] = socket
        queues[index].active = true
        // The least loaded thread receives on it.
        let load = (0..<threads).map { t in (0..<queueCount).filter { queues[$0].active && queues[$0].owner == t }.count }
        queues[index].owner = UInt8(load.indices.min { load[$0] < load[$1] } ?? 0)
        if index == queueCount { queueCount += 1 }
        if transmits { txQueue[Int(port.raw)] = Int32(index) }
        refill(index)
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

    /// Submits the batch's tx descriptors and lists the sockets whose tx ring asks for a
    /// wakeup (need_wakeup); the caller makes those `sendto` calls after the batch (outside
    /// `ioLock` when threads share the state).
    /// Returns the number listed and whether any socket still has frames in flight.
    @inlinable mutating func submitTx(kicks: UnsafeMutableBufferPointer<Int32>) -> (count: Int, busy: Bool) {
        var count = 0
        var busy = false
        for i in 0..<tapCount where taps[i].active && taps[i].pendingCount > 0 { flushTap(i) }
        for i in 0..<queueCount {
            let q = queues + i
            guard q.pointee.active else { continue }
            if q.pointee.pendingTx > 0 {
                xsk_ring_prod__submit(q.pointee.tx, q.pointee.pendingTx)
                q.pointee.outstandingTx &+= q.pointee.pendingTx
                q.pointee.pendingTx = 0
            }
            reclaimCompletions(i)
            guard q.pointee.outstandingTx > 0 else { continue }
            busy = true
            if xsk_ring_prod__needs_wakeup(q.pointee.tx) != 0 && count < kicks.count {
                q.pointee.txKicks &+= 1
                kicks[count] = Int32(i)
                count += 1
            }
        }
        return (count, busy)
    }

    /// Receives and processes one batch from every socket `thread` owns. Returns the frames handled.
    @inlinable mutating func pollOnce(batch: UnsafeMutableBufferPointer<FrameDescriptor>, now: UInt32, thread: Int) -> Int {
        var io = XSKFrameIO(memory: memory, frameSize: frameSize, allocationHeadroom: Self.frameHeadroom,
                            pool: pool, queues: queues, txQueue: txQueue, taps: taps)
        var handled = 0
        for i in 0..<queueCount {
            let q = queues + i
            guard q.pointee.active, Int(q.pointee.owner) == thread else { continue }
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
        for i in 0..<tapCount where taps[i].active && Int(taps[i].owner) == thread {
            handled &+= pollTap(i, batch: batch, now: now, io: &io)
        }
        return handled
    }
}

/// The worker threads: run to completion, rx → process → tx, each pinned to a CPU and
/// receiving on its own sockets. The worker owns its state outright: the control plane
/// never takes a lock the per-packet path holds. It posts jobs (`post`) into a
/// single-producer ring that thread 0 drains between batches, and reads counters from
/// memory the worker writes (`queueCounters`, `tapCounters`, `freeFrames`). Reports of what
/// the tables learned come back through `reports`.
///
/// With several threads they share the state under `ioLock` (one frame pool and one
/// transmit socket per port) — taken per batch by worker threads only, never by control.
public final class Worker<P: PacketProcessor>: @unchecked Sendable {
    private var state: WorkerState<P>
    private let settings: WorkerSettings
    /// Shared by worker threads when there are several; never taken by control code.
    private let ioLock = NSLock()
    private let sharesState: Bool
    private let running = Atomic<Bool>(false)
    /// Worker threads exist (from `start` until `stop` has joined them): only then does
    /// thread 0 consume the job ring; otherwise the poster applies jobs itself.
    private let live = Atomic<Bool>(false)
    private var threads: [Thread] = []
    private let finished = DispatchSemaphore(value: 0)
    /// Wakes threads sleeping in poll(): a job was posted, or the worker stops.
    private let wakeFD: Int32
    private let sleeping = Atomic<Int>(0)
    private let errorLock = NSLock()
    private var pinErrors: [String] = []

    // The job ring: producers serialize on `postLock` (the worker never takes it).
    private let jobs = SPSCRing<WorkerJob>(capacity: 65536)
    private let postLock = NSLock()
    private var posted: UInt64 = 0
    private let applied = Atomic<UInt64>(0)
    /// Jobs thread 0 applies per loop at most, so a burst of updates never holds up
    /// forwarding for long (`vxsw bench tables`: 1M installs through owner and worker in 0.75 s).
    private static var jobsPerLoop: Int { 1024 }

    /// Loops thread 0 has run: it advances at least every 100 ms (the poll timeout) while the
    /// worker turns, so a watchdog can tell a stuck worker from an idle one.
    private let loopsRun = Atomic<UInt64>(0)
    public var heartbeat: UInt64 { loopsRun.load(ordering: .relaxed) }

    /// What the tables learned (FDB events, VTEPs seen), for the owner of the tables.
    public let reports = SPSCRing<DataplaneReport>(capacity: 65536)

    // Read-only views of worker memory for readers on other threads.
    private let poolView: UnsafeMutablePointer<FramePool>
    private let queueView: UnsafeMutablePointer<QueueState>
    private let tapView: UnsafeMutablePointer<TapQueue>
    private let queueSlots = Atomic<Int>(0)
    private let tapSlots = Atomic<Int>(0)

    /// Why a thread could not be pinned (reported by the daemon, not fatal).
    public var pinError: String? { errorLock.withLock { pinErrors.isEmpty ? nil : pinErrors.joined(separator: "; ") } }
    public var threadCount: Int { max(1, settings.cpus.count) }

    public init(processor: P, umem: UMEM, settings: WorkerSettings) {
        let pool = UnsafeMutablePointer<FramePool>.allocate(capacity: 1)
        pool.initialize(to: FramePool(frameCount: umem.frameCount, frameSize: umem.frameSize))
        let queues = UnsafeMutablePointer<QueueState>.allocate(capacity: WorkerState<P>.maxQueues)
        let txQueue = UnsafeMutablePointer<Int32>.allocate(capacity: XDPProgram.maxPorts * 4)
        txQueue.initialize(repeating: -1, count: XDPProgram.maxPorts * 4)
        let taps = UnsafeMutablePointer<TapQueue>.allocate(capacity: WorkerState<P>.maxTaps)
        state = WorkerState(processor: processor, pool: pool, queues: queues, txQueue: txQueue,
                            memory: umem.memory, frameSize: umem.frameSize, taps: taps)
        poolView = pool; queueView = queues; tapView = taps
        self.settings = settings
        state.threads = max(1, settings.cpus.count)
        sharesState = state.threads > 1
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    }

    deinit {
        stop()
        close(wakeFD)
        state.pool.pointee.deallocate()
        state.pool.deallocate()
        state.queues.deallocate()
        state.txQueue.deallocate()
        for i in 0..<state.tapCount where state.taps[i].active { state.taps[i].deallocate() }
        state.taps.deallocate()
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

    /// Thread 0, between batches: up to `jobsPerLoop` jobs.
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

    public var queueCounters: [QueueCounters] {
        (0..<queueSlots.load(ordering: .acquiring)).compactMap { i in
            let q = queueView[i]
            guard q.active else { return nil }
            return QueueCounters(port: q.port, fd: q.fd, txKicks: q.txKicks, txKickErrors: q.txKickErrors,
                                 rxWakeups: q.rxWakeups, outstandingTx: q.outstandingTx, filled: q.filled,
                                 kernel: XSKKernelDrops.read(fd: q.fd))
        }
    }

    public var tapCounters: [TapPortCounters] {
        (0..<tapSlots.load(ordering: .acquiring)).compactMap { i in
            tapView[i].active ? TapPortCounters(port: tapView[i].port, fd: tapView[i].fd, counters: tapView[i].counters) : nil
        }
    }

    // MARK: Threads

    public func start() {
        postLock.lock()
        defer { postLock.unlock() }
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        drainJobsInline()
        live.store(true, ordering: .releasing)
        for index in 0..<threadCount {
            let t = Thread { [unowned self] in self.run(thread: index) }
            t.name = "vxsw-worker-\(index)"
            threads.append(t)
            t.start()
        }
    }

    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
        for _ in threads { finished.wait() }
        threads.removeAll()
        postLock.withLock {
            live.store(false, ordering: .releasing)
            drainJobsInline()
        }
    }

    private func run(thread index: Int) {
        cvxsw_set_thread_name("vxsw-worker-\(index)")
        // The daemon's control threads run at nice +5 (`ControlPriority`); a worker created by
        // one of them starts there too and goes back to the normal weight (root may lower nice).
        _ = cvxsw_set_thread_nice(0)
        if index < settings.cpus.count {
            let cpu = settings.cpus[index]
            let err = cvxsw_pin_current_thread(Int32(cpu))
            if err != 0 {
                errorLock.withLock { pinErrors.append("cannot pin worker \(index) to CPU \(cpu): \(String(cString: strerror(-err)))") }
            }
        }
        let batch = UnsafeMutableBufferPointer<FrameDescriptor>.allocate(capacity: settings.batchSize)
        let kicks = UnsafeMutableBufferPointer<Int32>.allocate(capacity: WorkerState<P>.maxQueues)
        let kickFDs = UnsafeMutableBufferPointer<Int32>.allocate(capacity: WorkerState<P>.maxQueues)
        defer { batch.deallocate(); kicks.deallocate(); kickFDs.deallocate(); finished.signal() }
        var fds = [pollfd](repeating: pollfd(), count: WorkerState<P>.maxQueues + WorkerState<P>.maxTaps + 1)
        var idle = 0
        var idleSince: UInt64 = 0
        var now = Self.seconds()
        var lastHousekeeping = now
        var loops: UInt32 = 0
        while running.load(ordering: .relaxed) {
            if sharesState { ioLock.lock() }
            if index == 0 { runJobs() }
            let handled = state.pollOnce(batch: batch, now: now, thread: index)
            let (kickCount, inFlight) = state.submitTx(kicks: kicks)
            for k in 0..<kickCount { kickFDs[k] = state.queues[Int(kicks[k])].fd }
            if index == 0 {
                if now != lastHousekeeping {
                    lastHousekeeping = now
                    state.processor.housekeeping(now: now)
                    state.collectTapKernelDrops()
                }
                state.processor.publishReports(into: reports)
            }
            if sharesState { ioLock.unlock() }
            // Copy mode moves at most 32 frames per call; EAGAIN/EBUSY/ENOBUFS just mean "again".
            var kickErrors = false
            for k in 0..<kickCount {
                var failed = false
                if sendto(kickFDs[k], nil, 0, Int32(MSG_DONTWAIT), nil, 0) < 0 {
                    switch errno {
                    case EAGAIN, EBUSY, ENOBUFS, ENETDOWN: break
                    default: failed = true
                    }
                }
                kickFDs[k] = failed ? -1 : 0
                kickErrors = kickErrors || failed
            }
            if kickErrors {
                if sharesState { ioLock.lock() }
                for k in 0..<kickCount where kickFDs[k] < 0 { state.queues[Int(kicks[k])].txKickErrors &+= 1 }
                if sharesState { ioLock.unlock() }
            }
            loops &+= 1
            if index == 0 { loopsRun.store(UInt64(loops), ordering: .relaxed) }
            if handled > 0 || inFlight || (index == 0 && !jobs.isEmpty) {
                idle = 0
                if loops & 1023 == 0 { now = Self.seconds() }
            } else {
                idle += 1
                now = Self.seconds()
                var shouldSleep = settings.poll == .interrupt
                if settings.poll == .adaptive {
                    let t = Self.nanoseconds()
                    if idle == 1 { idleSince = t }
                    shouldSleep = t &- idleSince > UInt64(settings.spinMicroseconds) &* 1000
                }
                if shouldSleep { sleep(thread: index, fds: &fds) }
            }
        }
    }

    /// Sleeps until one of this thread's sockets has frames, a job is posted (thread 0), the
    /// worker stops, or 100 ms pass (housekeeping, and sockets added since).
    private func sleep(thread: Int, fds: inout [pollfd]) {
        var n = 0
        if sharesState { ioLock.lock() }
        for i in 0..<state.queueCount where state.queues[i].active && Int(state.queues[i].owner) == thread {
            fds[n] = pollfd(fd: state.queues[i].fd, events: Int16(POLLIN), revents: 0)
            n += 1
        }
        for i in 0..<state.tapCount where state.taps[i].active && Int(state.taps[i].owner) == thread {
            fds[n] = pollfd(fd: state.taps[i].fd, events: Int16(POLLIN), revents: 0)
            n += 1
        }
        if sharesState { ioLock.unlock() }
        fds[n] = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
        n += 1
        // Announce the sleep, then look at the job ring once more: a producer that pushed
        // before seeing `sleeping` is caught here, one that pushes after it writes the eventfd.
        sleeping.add(1, ordering: .sequentiallyConsistent)
        if thread != 0 || jobs.isEmpty { _ = poll(&fds, nfds_t(n), 100) }
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
