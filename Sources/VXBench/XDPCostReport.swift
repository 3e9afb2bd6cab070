import Foundation

/// The results of `vxsw bench xdp`, as `Benchmarks/results/xdp-cost-latest.md` and `.json`.
public struct XDPCostReport: Codable, Sendable, BenchReportFile {
    public static let fileStem = "xdp-cost"
    public var command: String
    public var commit: String
    public var build: String
    public var date: String
    public var machine: BenchMachine
    public var repeatCount: UInt32
    public var samples: [XDPCostBench.Sample]

    public init(command: String, commit: String, build: String, repeatCount: UInt32, samples: [XDPCostBench.Sample]) {
        self.command = command
        self.commit = commit
        self.build = build
        date = ISO8601DateFormatter().string(from: Date())
        machine = .current()
        self.repeatCount = repeatCount
        self.samples = samples
    }

    static func spread(_ values: [Double]) -> String {
        let s = Spread(values)
        return String(format: "%.1f (%.1f–%.1f)", s.median, s.min, s.max)
    }

    public func markdown() -> String {
        var md = "# The XDP fast path's cost per frame (`vxsw bench xdp`)\n\n" + provenance
        md += "- method: the switch's XDP program (BPF/vxsw_xdp.c) with its fast-path maps filled from a `SwitchPipeline` as the daemon "
            + "derives them, run by BPF_PROG_RUN in live-frames mode (every run starts from the frame as given) over 64-byte frames, "
            + "\(repeatCount) runs per direction split over the distinct frames; the kernel's mean time per frame. In the same run the same "
            + "frames through a two-instruction XDP_DROP program: what BPF_PROG_RUN's frame handling costs by itself. `encap`: a VM's frame "
            + "on an access port to a remote MAC (VXLAN-encapsulated, redirected to the uplink); `decap`: a remote VTEP's frame to the local "
            + "VM (decapsulated, redirected to its port). The run is in a namespace of its own where the redirect targets do not exist: the "
            + "redirect is attempted and fails (nothing is sent), so the figure holds the program and the redirect's lookup, not a "
            + "transmit. Each frame's FDB bucket is cache-hot within its repeats. Medians (min–max) over the runs.\n\n"
        md += "| direction | remote MACs | VNIs | vxsw XDP ns/frame | XDP_DROP ns/frame | vxsw − XDP_DROP | fast-path counters (last run) |\n"
        md += "|---|---:|---:|---:|---:|---:|---|\n"
        var keys: [String] = []
        for s in samples {
            let key = "\(s.direction) \(s.macs) \(s.vnis)"
            if !keys.contains(key) { keys.append(key) }
        }
        for key in keys {
            let group = samples.filter { "\($0.direction) \($0.macs) \($0.vnis)" == key }
            guard let last = group.last else { continue }
            let counters = last.counters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            md += "| \(last.direction) | \(last.macs) | \(last.vnis) | \(Self.spread(group.map(\.vxswNanoseconds))) | "
                + "\(Self.spread(group.map(\.dropNanoseconds))) | \(Self.spread(group.map { $0.vxswNanoseconds - $0.dropNanoseconds })) | \(counters) |\n"
        }
        return md
    }
}
