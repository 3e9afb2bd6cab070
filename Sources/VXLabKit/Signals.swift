import Foundation

/// A clean-up to run when SIGINT or SIGTERM arrives; `cancel()` when what it cleans is gone.
public final class TerminationHandler: @unchecked Sendable {
    fileprivate let run: @Sendable () -> Void
    fileprivate init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    public func cancel() { TerminationSignals.shared.remove(self) }
}

/// Runs `handler` (on a background queue) when SIGINT or SIGTERM arrives, instead of the
/// default exit, so a lab or a benchmark rig can remove what it built first. The handler
/// runs only while the returned handlers are not cancelled; with several, the newest runs
/// first (a rig inside a runner: the innermost owner cleans up first; one that exits ends it).
public func onTerminationSignal(_ handler: @escaping @Sendable () -> Void) -> [TerminationHandler] {
    [TerminationSignals.shared.add(handler)]
}

/// The process's one pair of signal sources. They are made once and never cancelled: on Linux,
/// a dispatch signal source made after one for the same signal was cancelled never fires (seen
/// here with Swift 6.3.1: the second run of `vxsw bench-evpn` ignored Ctrl-C and SIGTERM and left
/// its namespaces and daemons behind).
final class TerminationSignals: @unchecked Sendable {
    static let shared = TerminationSignals()
    private let lock = NSLock()
    private var handlers: [TerminationHandler] = []
    private var sources: [DispatchSourceSignal] = []

    func add(_ run: @escaping @Sendable () -> Void) -> TerminationHandler {
        let h = TerminationHandler(run)
        lock.withLock {
            if sources.isEmpty {
                sources = [SIGINT, SIGTERM].map { sig in
                    signal(sig, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                    source.setEventHandler { [unowned self] in fire(sig) }
                    source.resume()
                    return source
                }
            }
            handlers.append(h)
        }
        return h
    }

    func remove(_ h: TerminationHandler) { lock.withLock { handlers.removeAll { $0 === h } } }

    /// Every handler, newest first, or the default action (exit as the signal would) when none is left.
    private func fire(_ sig: Int32) {
        let all = lock.withLock { handlers }
        if all.isEmpty { exit(128 + sig) }
        // Every daemon we started, first: also one a rig started a moment ago and has not
        // filed yet, which its clean-up would not know (a zebra was left running that way).
        ChildProcess.stopAll()
        for h in all.reversed() { h.run() }
        // Every handler returned without exiting: the process goes on, and may start children again.
        ChildProcess.resumeStarting()
    }
}
