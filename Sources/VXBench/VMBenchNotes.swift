import Foundation

/// Where the CPU went on each path of `vxsw bench vm`, from the per-thread samples: written
/// into the results so that a path where vxsw is below the bridge comes with a first reason.
public enum VMBenchNotes {
    /// Median percent of one CPU used by the threads of `process` (all of them when `thread` is nil,
    /// else the busiest one) over the samples.
    static func median(_ samples: [VMBenchSample], process: String, busiestOnly: Bool = false) -> Double {
        Spread(samples.map { s in
            let mine = s.threads.filter { $0.process == process }
            return busiestOnly ? (mine.map(\.percent).max() ?? 0) : mine.map(\.percent).reduce(0, +)
        }).median
    }

    public static func explain(_ r: VMBenchReport) -> [String] {
        r.results.map { p in
            let pick = { (c: VMBenchContender) in r.samples.filter { $0.path == p.path && $0.contender == c && $0.gbps != nil } }
            let (bridge, vxsw) = (pick(.bridge), pick(.vxsw))
            func qemu(_ s: [VMBenchSample]) -> String {
                ["guest1", "guest2", "guest3"].map { g in String(format: "%@ %.0f%%", g, median(s, process: "qemu \(g)")) }
                    .joined(separator: ", ")
            }
            func host(_ s: [VMBenchSample]) -> String {
                let n = s.map(\.hostCPU.count).max() ?? 0
                let at = { (a: [Double], i: Int) in a.indices.contains(i) ? a[i] : 0 }
                return (0..<n).map { i in
                    String(format: "cpu%d %.0f%% (softirq %.0f%%)", i, Spread(s.map { at($0.hostCPU, i) }).median,
                           Spread(s.map { at($0.hostSoftirq, i) }).median)
                }.joined(separator: " ") + String(format: ", ksoftirqd %.0f%%", median(s, process: "kernel"))
            }
            let verdict = p.targetMet ? "met" : "not met"
            return String(format: "%@: vxsw / bridge %.2f× (target ≥ 1.0× %@). CPU, medians in %% of one CPU — bridge runs: qemu %@; host %@. "
                          + "vxsw runs: vxsw %.0f%% (busiest thread %.0f%%), qemu %@; host %@.",
                          p.path.rawValue, p.ratio, verdict, qemu(bridge), host(bridge),
                          median(vxsw, process: "vxsw"), median(vxsw, process: "vxsw", busiestOnly: true), qemu(vxsw), host(vxsw))
        }
    }
}
