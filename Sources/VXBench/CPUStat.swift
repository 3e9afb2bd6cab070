import Foundation
import VXDatapath
import VXLabKit

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
                guard let stat = ProcStat(path: "/proc/\(pid)/task/\(tid)/stat") else { continue }
                ticks["\(pid)/\(tid)"] = (label, stat.name, stat.ticks)
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

