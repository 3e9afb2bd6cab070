import Foundation

/// Per-core CPU time from /proc/stat, in clock ticks; the difference of two samples gives
/// each core's busy share over the interval (user, nice, system, irq, softirq; steal counts
/// as not ours, idle and iowait as idle).
public struct CPUSample: Sendable {
    public struct Core: Sendable { public var busy: UInt64; public var total: UInt64; public var softirq: UInt64 = 0 }
    public var cores: [Int: Core]

    public init(procStat text: String) {
        var cores: [Int: Core] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("cpu") && !line.hasPrefix("cpu ") {
            let f = line.split(separator: " ")
            guard let id = Int(f[0].dropFirst(3)) else { continue }
            let v = f.dropFirst().compactMap { UInt64($0) }
            guard v.count >= 7 else { continue }
            let busy = v[0] + v[1] + v[2] + v[5] + v[6]
            cores[id] = Core(busy: busy, total: v.prefix(8).reduce(0, +), softirq: v[6])
        }
        self.cores = cores
    }

    /// Busy and all ticks of every core together.
    public var busyTicks: UInt64 { cores.values.reduce(0) { $0 + $1.busy } }
    public var totalTicks: UInt64 { cores.values.reduce(0) { $0 + $1.total } }

    public static func now() -> CPUSample {
        CPUSample(procStat: (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? "")
    }

    /// Busy percent per core (index = CPU number) between `earlier` and this sample.
    public func busyPercent(since earlier: CPUSample) -> [Double] { percent(since: earlier, \.busy) }

    /// Softirq percent per core between `earlier` and this sample.
    public func softirqPercent(since earlier: CPUSample) -> [Double] { percent(since: earlier, \.softirq) }

    private func percent(since earlier: CPUSample, _ part: KeyPath<Core, UInt64>) -> [Double] {
        cores.keys.sorted().map { id in
            guard let a = earlier.cores[id], let b = cores[id], b.total > a.total else { return 0 }
            return 100 * Double(b[keyPath: part] &- a[keyPath: part]) / Double(b.total - a.total)
        }
    }
}

/// Waits until the machine is quiet: what runs besides `excluding` (processes, all their
/// threads) takes under `busyPercent` of all cores together over two consecutive `window`s,
/// or `timeout` has passed. A benchmark on a 2-core machine measures its contender only after
/// what set up the run has settled (the other contender's thousands of devices, its daemons
/// reading them, IPv6 addrconf on each, which go on for seconds at a low rate). Returns the
/// seconds waited, whether the machine got quiet, and the share of the machine the excluded
/// processes took meanwhile (percent).
public func waitUntilQuiet(excluding pids: [Int32] = [], busyPercent: Double = 5, window: Double = 0.5,
                           timeout: Double = 60) -> (seconds: Double, quiet: Bool, excludedPercent: Double) {
    let start = Date()
    var quietWindows = 0
    var earlier = (machine: CPUSample.now(), excluded: processTicks(pids))
    let first = earlier
    func excludedPercent() -> Double {
        let total = CPUSample.now().totalTicks &- first.machine.totalTicks
        return total > 0 ? 100 * Double(processTicks(pids) &- first.excluded) / Double(total) : 0
    }
    while Date().timeIntervalSince(start) < timeout {
        usleep(UInt32(window * 1_000_000))
        let now = (machine: CPUSample.now(), excluded: processTicks(pids))
        let busy = now.machine.busyTicks &- earlier.machine.busyTicks
        let total = now.machine.totalTicks &- earlier.machine.totalTicks
        let others = Double(busy) - Double(now.excluded &- earlier.excluded)
        earlier = now
        quietWindows = total > 0 && 100 * others / Double(total) < busyPercent ? quietWindows + 1 : 0
        if quietWindows >= 2 { return (Date().timeIntervalSince(start), true, excludedPercent()) }
    }
    return (Date().timeIntervalSince(start), false, excludedPercent())
}

/// CPU time (utime + stime of every thread, clock ticks, as /proc/stat counts) of `pids`.
public func processTicks(_ pids: [Int32]) -> UInt64 {
    pids.reduce(0) { sum, pid in sum + (ProcStat(path: "/proc/\(pid)/stat")?.ticks ?? 0) }
}

/// A process's or thread's /proc/…/stat: its name and CPU time (utime + stime, clock ticks).
public struct ProcStat: Sendable {
    public var name: String
    public var ticks: UInt64

    public init?(path: String) {
        guard let stat = try? String(contentsOfFile: path, encoding: .utf8),
              let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
        // After "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let f = stat[stat.index(after: close)...].split(separator: " ")
        guard f.count > 12, let user = UInt64(f[11]), let system = UInt64(f[12]) else { return nil }
        name = String(stat[stat.index(after: open)..<close])
        ticks = user + system
    }
}
