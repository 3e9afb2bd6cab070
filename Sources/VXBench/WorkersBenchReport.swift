import Foundation

/// The results of `vxsw bench workers`, as `Benchmarks/results/workers-latest.md` and `.json`.
public struct WorkersBenchReport: Codable, Sendable, BenchReportFile {
    public static let fileStem = "workers"
    public var command: String
    public var commit: String
    public var build: String
    public var date: String
    public var machine: BenchMachine
    public var samples: [WorkersBenchSample]

    public init(command: String, commit: String, build: String, samples: [WorkersBenchSample]) {
        self.command = command
        self.commit = commit
        self.build = build
        date = ISO8601DateFormatter().string(from: Date())
        machine = .current()
        self.samples = samples
    }

    public func markdown() -> String {
        let f = TablesBenchReport.f
        var md = "# Workers: the AF_XDP engine with a worker per uplink queue (`vxsw bench workers`)\n\n"
        md += provenance
        md += "- method: a fresh rig per run and worker count, the counts interleaved run by run (BenchRig with a two-queue underlay veth). hv2's generator (BPF_PROG_RUN live frames, "
            + "VXLAN to the switch, 256 inner flows) runs one thread pinned to each CPU, because a veth picks the receiving queue by the "
            + "sending CPU: so frames reach both of the switch's rx queues, as RSS spreads flows on a NIC. vxsw (AF_XDP copy mode, native "
            + "XDP, fast path off, poll adaptive) decapsulates them to one VM port (a single-queue veth: with two workers its tx ring is shared "
            + "under a lock); the VM side's XDP sink counts what arrives. Per run: delivered frames/s, and per worker its frames "
            + "(`show stats` → workers) and its thread's CPU time (`/proc/PID/task/TID/stat`); with a loss limit, then the highest offered "
            + "rate delivered within it (bisection, 2-s trials). Medians (min–max) over the runs.\n\n"
        md += Self.summary(samples.filter { $0.lossLimit == nil }, title: "Offered as fast as the generator goes (overload)")
        if let loss = samples.compactMap(\.lossLimit).first {
            md += Self.summary(samples.filter { $0.lossLimit != nil },
                               title: String(format: "The highest offered rate delivered with ≤ %.2f%% loss (bisection)", loss * 100))
        }
        md += "\n## Every run\n\n| frame | workers | run | offer | offered Mpps | delivered Mpps | per worker (CPU: Mpps, CPU %, Mpps/core) |\n|---:|---:|---:|---|---:|---:|---|\n"
        for s in samples {
            let w = s.perWorker.map { "\($0.cpu.map(String.init) ?? "?"): \(f($0.mpps, 3)), \(f($0.cpuPercent, 0)) %, \(f($0.mppsPerCore, 3))" }
            md += "| \(s.size) | \(s.workers) | \(s.run) | \(s.lossLimit == nil ? "unlimited" : "≤ loss") | \(f(s.offeredMpps, 3)) | \(f(s.deliveredMpps, 3)) | \(w.joined(separator: "; ")) |\n"
        }
        return md
    }

    /// Medians per frame size and worker count, with the ratio to one worker.
    static func summary(_ samples: [WorkersBenchSample], title: String) -> String {
        let f = TablesBenchReport.f, spread = TablesBenchReport.spread
        var md = "## \(title)\n\n"
        md += "| frame | workers | delivered Mpps | vs 1 worker | per worker: Mpps at CPU % | Mpps per worker core | all workers: Mpps per core | CPU busy (all cores) |\n"
        md += "|---:|---:|---|---:|---|---|---|---|\n"
        for size in Set(samples.map(\.size)).sorted() {
            let base = Spread(samples.filter { $0.size == size && $0.workers == 1 }.map(\.deliveredMpps)).median
            for n in Set(samples.map(\.workers)).sorted() {
                let s = samples.filter { $0.size == size && $0.workers == n }
                guard !s.isEmpty else { continue }
                let delivered = s.map(\.deliveredMpps)
                let ratio = base > 0 ? f(Spread(delivered).median / base, 2) + "×" : "–"
                let workers = (0..<n).map { i -> String in
                    let w = s.compactMap { $0.perWorker.count > i ? $0.perWorker[i] : nil }
                    return "CPU \(w.first?.cpu.map(String.init) ?? "?"): \(spread(w.map(\.mpps), 3)) at \(spread(w.map(\.cpuPercent), 0)) %"
                }.joined(separator: "; ")
                let perCore = (0..<n).map { i in
                    spread(s.compactMap { $0.perWorker.count > i ? $0.perWorker[i].mppsPerCore : nil }, 3)
                }.joined(separator: "; ")
                let busy = (0..<(s.first?.cpuBusy.count ?? 0)).map { (c: Int) -> String in
                    let values: [Double] = s.map { $0.cpuBusy.count > c ? $0.cpuBusy[c] : 0 }
                    return "cpu\(c) \(spread(values, 0)) %"
                }.joined(separator: ", ")
                let overall = spread(s.map(\.mppsPerWorkerCore), 3)
                md += "| \(size) B | \(n) | \(spread(delivered, 3)) | \(ratio) | \(workers) | \(perCore) | \(overall) | \(busy) |\n"
            }
        }
        return md + "\n"
    }
}
