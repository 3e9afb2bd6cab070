import Foundation

/// Per-core CPU time from /proc/stat, in clock ticks; the difference of two samples gives
/// each core's busy share over the interval (user, nice, system, irq, softirq; steal counts
/// as not ours, idle and iowait as idle).
public struct CPUSample: Sendable {
    public struct Core: Sendable { public var busy: UInt64; public var total: UInt64 }
    public var cores: [Int: Core]

    public init(procStat text: String) {
        var cores: [Int: Core] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("cpu") && !line.hasPrefix("cpu ") {
            let f = line.split(separator: " ")
            guard let id = Int(f[0].dropFirst(3)) else { continue }
            let v = f.dropFirst().compactMap { UInt64($0) }
            guard v.count >= 7 else { continue }
            let busy = v[0] + v[1] + v[2] + v[5] + v[6]
            cores[id] = Core(busy: busy, total: v.prefix(8).reduce(0, +))
        }
        self.cores = cores
    }

    public static func now() -> CPUSample {
        CPUSample(procStat: (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? "")
    }

    /// Busy percent per core (index = CPU number) between `earlier` and this sample.
    public func busyPercent(since earlier: CPUSample) -> [Double] {
        let ids = cores.keys.sorted()
        return ids.map { id in
            guard let a = earlier.cores[id], let b = cores[id], b.total > a.total else { return 0 }
            return 100 * Double(b.busy &- a.busy) / Double(b.total - a.total)
        }
    }
}
