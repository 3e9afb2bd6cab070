import Foundation
import VXDatapath

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

/// CPU time of each thread of a set of processes, from /proc/PID/task/TID/stat (utime +
/// stime, clock ticks); two samples give each thread's share of one CPU over the interval.
public struct ThreadCPUSample: Sendable {
    /// (process label, thread name, tid) -> ticks.
    var ticks: [String: (process: String, thread: String, ticks: UInt64)] = [:]
    var at: Double

    public init(processes: [(label: String, pid: Int32)]) {
        at = monotonicSeconds()
        for (label, pid) in processes {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for tid in tasks {
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/stat", encoding: .utf8),
                      let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                // After "(comm)": state is field 3; utime and stime are fields 14 and 15.
                guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { continue }
                let name = String(stat[stat.index(after: open)..<close])
                ticks["\(pid)/\(tid)"] = (label, name, user + system)
            }
        }
    }

    /// Percent of one CPU per thread since `earlier`, busiest first; threads under 0.5% left out.
    public func threads(since earlier: ThreadCPUSample) -> [ThreadCPU] {
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let dt = at - earlier.at
        guard dt > 0 else { return [] }
        return ticks.compactMap { key, now -> ThreadCPU? in
            let before = earlier.ticks[key]?.ticks ?? 0
            let percent = 100 * Double(now.ticks &- before) / hz / dt
            return percent >= 0.5 ? ThreadCPU(process: now.process, thread: now.thread, percent: percent) : nil
        }.sorted { $0.percent > $1.percent }
    }
}

/// One thread's share of a CPU over a measurement.
public struct ThreadCPU: Codable, Sendable, Equatable {
    public var process: String
    public var thread: String
    public var percent: Double
}

