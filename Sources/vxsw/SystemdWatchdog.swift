import Foundation
import VXControl
import VXSwitch

/// Sends `WATCHDOG=1` every `WATCHDOG_USEC/2` while the switch answers and forwards. Each
/// keep-alive first asks the daemon's own control socket for `show stats`: a control socket
/// that stops answering (what the VMs' hooks need), a table lock held for good, or a worker
/// whose loop stopped turning (`workerHeartbeat` did not advance since the last check; an
/// idle worker still wakes every 100 ms) stops the keep-alives, and systemd restarts vxsw
/// (`WatchdogSec=` in the unit). A timer thread alone would only prove the process exists.
final class SystemdWatchdog: @unchecked Sendable {
    private let notifier: SystemdNotifier
    private let interval: TimeInterval
    private let socket: String
    private let log: DaemonLog
    private let stopped = NSCondition()
    private var isStopped = false
    private var lastHeartbeats: [UInt64]?

    /// Starts keep-alives when the unit asked for them (`notifier.watchdogInterval`); else nil.
    static func start(_ notifier: SystemdNotifier, socket: String, log: DaemonLog) -> SystemdWatchdog? {
        guard let interval = notifier.watchdogInterval else { return nil }
        let watchdog = SystemdWatchdog(notifier: notifier, interval: interval, socket: socket, log: log)
        let thread = Thread { watchdog.loop() }
        thread.name = "vxsw-watchdog"
        thread.start()
        log.info(String(format: "systemd watchdog: keep-alive every %.1f s while the control socket answers", interval))
        return watchdog
    }

    private init(notifier: SystemdNotifier, interval: TimeInterval, socket: String, log: DaemonLog) {
        self.notifier = notifier
        self.interval = interval
        self.socket = socket
        self.log = log
    }

    /// Ends the keep-alives (at shutdown, before the control socket goes away).
    func stop() {
        stopped.lock()
        isStopped = true
        stopped.broadcast()
        stopped.unlock()
    }

    private func loop() {
        var healthy = true
        while true {
            let problem = check()
            if problem == nil {
                notifier.notify("WATCHDOG=1")
                if !healthy { log.info("systemd watchdog: the control socket answers again") }
            } else if healthy {
                log.warning("systemd watchdog: keep-alive withheld, \(problem!)")
            }
            healthy = problem == nil
            stopped.lock()
            let next = Date(timeIntervalSinceNow: interval)
            while !isStopped && Date() < next { _ = stopped.wait(until: next) }   // wakes early at times
            let done = isStopped
            stopped.unlock()
            if done { return }
        }
    }

    /// Nil when the switch answered `show stats` in time and its worker turned since the
    /// last check, else what went wrong.
    private func check() -> String? {
        do {
            let response = try ControlClient.send(.show(.stats), path: socket, timeout: min(5, interval))
            guard response.ok else { return "show stats failed: \(response.error ?? "no reason given")" }
            let stats = try response.payload?.decode(StatsView.self)
            let beats = stats?.workers.map { $0.map(\.heartbeat) } ?? stats?.workerHeartbeat.map { [$0] }
            guard let beats else { return nil }
            defer { lastHeartbeats = beats }
            if let last = lastHeartbeats, last.count == beats.count,
               let stuck = beats.indices.first(where: { beats[$0] == last[$0] }) {
                return "worker \(stuck) has not run its loop since the last check"
            }
            return nil
        } catch {
            return "the control socket does not answer: \(error)"
        }
    }
}
