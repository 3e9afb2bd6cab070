import CVXSW
import Foundation
import Synchronization

/// Control-plane jobs for the worker thread. The worker checks one atomic flag per loop
/// (not per packet) and runs queued jobs between batches, so switch state has a single
/// owner and needs no locks on the packet path. An eventfd wakes a worker asleep in poll().
final class Mailbox<State>: @unchecked Sendable {
    typealias Job = (inout State) -> Void
    private let lock = NSLock()
    private var jobs: [Job] = []
    let pending = Atomic<Bool>(false)
    let eventFD: Int32

    init() {
        eventFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    }

    deinit { close(eventFD) }

    func post(_ job: @escaping Job) {
        lock.lock()
        jobs.append(job)
        lock.unlock()
        pending.store(true, ordering: .releasing)
        var one: UInt64 = 1
        _ = write(eventFD, &one, 8)
    }

    /// Runs queued jobs; called on the worker thread.
    func drain(_ state: inout State) {
        pending.store(false, ordering: .relaxed)
        lock.lock()
        let batch = jobs
        jobs.removeAll(keepingCapacity: true)
        lock.unlock()
        var counter: UInt64 = 0
        _ = read(eventFD, &counter, 8)
        for job in batch { job(&state) }
    }
}
