import Foundation
import VXCore

/// The results of `vxsw bench tables`, as `Benchmarks/results/tables-latest.md` and `.json`.
public struct TablesBenchReport: Codable, Sendable, BenchReportFile {
    public static let fileStem = "tables"
    public var command: String
    public var commit: String
    public var build: String
    public var date: String
    public var machine: BenchMachine
    public var samples: [TablesBenchSample]

    public init(command: String, commit: String, build: String, samples: [TablesBenchSample]) {
        self.command = command
        self.commit = commit
        self.build = build
        date = ISO8601DateFormatter().string(from: Date())
        machine = .current()
        self.samples = samples
    }

    /// Bytes of FDB memory per MAC in one copy of the tables (the owner's and each worker's)
    /// when `macs` fill a table sized for them: slots are a power of two at ≤ 3/4 load.
    public static func fdbBytesPerMAC(_ macs: Int) -> Double {
        var slots = 8
        while slots * 3 / 4 < max(131_072, macs + 65_536) { slots *= 2 }
        return Double(slots * MemoryLayout<FDBEntry>.stride) / Double(macs)
    }

    static func f(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", v) }
    static func spread(_ values: [Double], _ digits: Int = 3) -> String {
        guard !values.isEmpty else { return "–" }
        let s = Spread(values)
        return "\(f(s.median, digits)) (\(f(s.min, digits))–\(f(s.max, digits)))"
    }

    public func markdown() -> String {
        var md = "# Control plane → data plane: N remote MACs installed while forwarding (`vxsw bench tables`)\n\n"
        md += provenance
        md += "- method: per run a fresh rig (namespaces a, b — two VMs on veths — and the switch, uplink to a remote VTEP 198.18.77.2). "
            + "While `a` pings `b` every 2 ms through the switch, N MAC → VTEP entries are installed: vxsw through its owner of the tables "
            + "(`SwitchTables.apply`, chunks of 1024, as the EVPN feed installs routes), timed until the owner's copy had them, until the worker "
            + "had applied them, and until the XDP fast-path maps held them (a map of 262,144 entries: above that only that many); the kernel "
            + "through one `bridge -batch` of `fdb add MAC dev vx0 dst 198.18.77.2 self permanent` (what FRR's zebra installs), timed until it "
            + "returned. Then every entry is listed: vxsw `show mac` rows from the owner's copy, the kernel `bridge fdb show dev vx0`. "
            + "Medians (min–max) over the runs; ping round trips over the whole install.\n\n"
        let counts = Set(samples.map(\.macs)).sorted()
        md += "| MACs | vxsw: in the owner's copy | vxsw: applied by the worker | vxsw: in the XDP maps | kernel: `bridge -batch` | vxsw `show mac` | kernel `fdb show` | vxsw metrics render | ping p99 / max during install, vxsw | same, kernel | FDB bytes per MAC per copy (vxsw) |\n"
        md += "|---:|---|---|---|---|---|---|---|---|---|---:|\n"
        for n in counts {
            let v = samples.filter { $0.contender == "vxsw" && $0.macs == n }
            let k = samples.filter { $0.contender == "kernel" && $0.macs == n }
            let fast = v.compactMap(\.fastPathSeconds)
            let fastText = fast.count == v.count ? Self.spread(fast) + " s"
                : "\(v.compactMap(\.fastPathEntries).max() ?? 0) entries (map full)"
            func ping(_ s: [TablesBenchSample]) -> String {
                s.isEmpty ? "–" : "\(Self.spread(s.map(\.ping.p99Ms), 2)) / \(Self.spread(s.map(\.ping.maxMs), 2)) ms, lost \(s.map(\.ping.lost).reduce(0, +))/\(s.map(\.ping.sent).reduce(0, +))"
            }
            md += "| \(n) | \(Self.spread(v.map(\.acceptSeconds))) s | \(Self.spread(v.map(\.dataPlaneSeconds))) s | \(fastText) | "
                + "\(Self.spread(k.map(\.dataPlaneSeconds))) s | \(Self.spread(v.map(\.showSeconds))) s | \(Self.spread(k.map(\.showSeconds))) s | "
                + "\(Self.spread(v.compactMap(\.metricsSeconds))) s | \(ping(v)) | \(ping(k)) | \(Self.f(Self.fdbBytesPerMAC(n), 1)) |\n"
        }
        md += "\n`FDBEntry` is \(MemoryLayout<FDBEntry>.stride) bytes; the table is sized for max-entries (here N + 65,536, at least 131,072) "
            + "at ≤ 3/4 load in a power of two of slots, so bytes per MAC fall as the table fills. vxsw holds two copies (the owner's and the worker's).\n"
        md += "\n## Every run\n\n| contender | MACs | run | accepted s | data plane s | fast path s | show s | ping sent | lost | p50 ms | p99 ms | max ms |\n"
        md += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for s in samples {
            md += "| \(s.contender) | \(s.macs) | \(s.run) | \(Self.f(s.acceptSeconds)) | \(Self.f(s.dataPlaneSeconds)) | "
                + "\(s.fastPathSeconds.map { Self.f($0) } ?? (s.fastPathEntries.map { "\($0) entries" } ?? "–")) | \(Self.f(s.showSeconds)) | "
                + "\(s.ping.sent) | \(s.ping.lost) | \(Self.f(s.ping.p50Ms, 2)) | \(Self.f(s.ping.p99Ms, 2)) | \(Self.f(s.ping.maxMs, 2)) |\n"
        }
        return md
    }
}
