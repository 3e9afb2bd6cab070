import Foundation
import VXConfig
import VXLabKit

/// The three guest paths `vxsw bench vm` measures, each with one iperf3 stream.
public enum VMBenchPath: String, Codable, CaseIterable, Sendable {
    case vmToRemote = "vm-to-remote-vm"
    case remoteToVM = "remote-vm-to-vm"
    case vmToLocalVM = "vm-to-vm-same-host"

    public var label: String {
        switch self {
        case .vmToRemote: return "VM → remote VM (guest1 on hv1 → guest2 on hv2)"
        case .remoteToVM: return "remote VM → VM (guest2 on hv2 → guest1 on hv1)"
        case .vmToLocalVM: return "VM → VM, same host (guest1 → guest3, both on hv1)"
        }
    }
}

/// What switches hv1's guests: the Linux way or vxsw. hv2 is always the Linux way.
public enum VMBenchContender: String, Codable, CaseIterable, Sendable {
    case bridge, vxsw

    public var label: String { self == .bridge ? "Linux bridge + kernel vxlan" : "vxsw" }
}

/// One iperf3 run.
public struct VMBenchSample: Codable, Sendable {
    public var run: Int
    public var contender: VMBenchContender
    public var path: VMBenchPath
    public var gbps: Double?
    public var bytes: Int?
    /// TCP retransmits the sender counted (iperf3).
    public var retransmits: Int?
    public var error: String?
    /// Busy percent per host CPU over the run (/proc/stat).
    public var hostCPU: [Double]
    /// Of that, softirq (the kernel's packet work that no thread is charged for).
    public var hostSoftirq: [Double] = []
    /// Threads of vxsw and the three qemu processes that used ≥ 0.5% of a CPU, busiest first.
    public var threads: [ThreadCPU]
    /// The sender's and the receiver's tap over the run: how many frames each guest wrote and was given.
    public var taps: [TapTraffic] = []
}

public struct VMBenchCounters: Codable, Sendable {
    public var run: Int
    /// Per port: name, rx/tx packets and bytes, drops by reason.
    public var ports: JSONValue
    /// Tap ports: super-frames in (rxSuperFrames, cut into rxSegments) and out (txFrames, of which txSuperFrames coalesced or passed whole).
    public var taps: JSONValue
    /// Drops over all ports, only reasons with a non-zero count.
    public var drops: [String: Int64]
    /// The in-kernel paths' counters (`xdp` in show stats: fast_tap, fast_tap_encap, fast_tap_lost, …):
    /// frames they carried are in no port's counters.
    public var kernelPaths: [String: Int64] = [:]
}

public struct VMBenchPathResult: Codable, Sendable {
    public var path: VMBenchPath
    public var label: String
    public var bridge: Spread
    public var vxsw: Spread
    /// vxsw median / bridge median.
    public var ratio: Double
    /// The target of the issue: guest TCP through vxsw ≥ 1.0× the bridge.
    public var targetMet: Bool
}

public struct VMBenchReport: Codable, Sendable {
    public var command: String
    public var date: String
    public var machine: BenchMachine
    public var commit: String
    public var build: String
    public var runs: Int
    public var seconds: Int
    public var guests: String
    public var setup: [String: String]
    public var results: [VMBenchPathResult] = []
    public var samples: [VMBenchSample] = []
    public var counters: [VMBenchCounters] = []
    public var notes: [String] = []
    public var errors: [String] = []

    /// Medians and ratios from the samples.
    public mutating func summarize() {
        results = VMBenchPath.allCases.map { path in
            func spread(_ c: VMBenchContender) -> Spread {
                Spread(samples.filter { $0.path == path && $0.contender == c }.compactMap(\.gbps))
            }
            let b = spread(.bridge), v = spread(.vxsw)
            let ratio = b.median > 0 ? v.median / b.median : 0
            return VMBenchPathResult(path: path, label: path.label, bridge: b, vxsw: v, ratio: ratio, targetMet: ratio >= 1.0)
        }
    }
}

/// Markdown and JSON for `vxsw bench vm`.
public enum VMBenchReportWriter {
    static func f(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
    static func spread(_ s: Spread) -> String { "\(f(s.median)) (\(f(s.min))–\(f(s.max)))" }

    public static func table(_ r: VMBenchReport) -> String {
        var t = "| path | Linux bridge + vxlan Gbit/s | vxsw Gbit/s | vxsw / bridge | target ≥ 1.0× |\n|---|---:|---:|---:|---|\n"
        for p in r.results {
            t += "| \(p.label) | \(spread(p.bridge)) | \(spread(p.vxsw)) | \(f(p.ratio))× | \(p.targetMet ? "met" : "**not met**") |\n"
        }
        return t
    }

    /// The busiest threads, e.g. "qemu guest1/CPU 0/TCG 98%, vxsw/vxsw-worker 60%".
    static func threads(_ list: [ThreadCPU], most: Int = 5) -> String {
        list.prefix(most).map { "\($0.process)/\($0.thread) \(f($0.percent, 0))%" }.joined(separator: ", ")
    }

    public static func markdown(_ r: VMBenchReport) -> String {
        var md = "# Real guests: vxsw vs Linux bridge + kernel vxlan (`vxsw bench vm`)\n\n"
        md += "- command: `\(r.command)`\n- date: \(r.date)\n- commit: \(r.commit)\n- build: \(r.build)\n"
        md += "- machine: \(r.machine.cpuModel), \(r.machine.vcpus) vCPUs (nproc), kernel \(r.machine.kernel), load at start \(r.machine.loadAverageAtStart)\n"
        md += "- guests: \(r.guests)\n"
        for key in r.setup.keys.sorted() { md += "- \(key): \(r.setup[key]!)\n" }
        md += "- method: iperf3, 1 TCP stream, \(r.seconds) s per run, \(r.runs) runs per contender and path; contenders interleaved "
            + "(bridge, vxsw, bridge, vxsw, …) with the same booted guests; median (min–max) of the receiver's rate.\n\n"
        if !r.errors.isEmpty { md += "**Errors:**\n\n" + r.errors.map { "- \($0)\n" }.joined() + "\n" }
        md += table(r) + "\n"
        md += "## Every run\n\n| run | contender | path | Gbit/s | retransmits | host CPU busy (of it softirq) | busiest threads (% of one CPU) |\n|---:|---|---|---:|---:|---|---|\n"
        for s in r.samples {
            let rate = s.gbps.map { f($0) } ?? "error: \(s.error ?? "?")"
            let cpu = zip(s.hostCPU, s.hostSoftirq + Array(repeating: 0, count: max(0, s.hostCPU.count - s.hostSoftirq.count)))
                .map { "\(f($0.0, 0))% (\(f($0.1, 0))%)" }.joined(separator: " / ")
            md += "| \(s.run) | \(s.contender.label) | \(s.path.rawValue) | \(rate) | \(s.retransmits.map(String.init) ?? "–") | \(cpu) | \(threads(s.threads)) |\n"
        }
        md += "\n## Frames through the guests' taps (host side, `ip -s link`: what each guest wrote and was given)\n\n"
        md += "| run | contender | path | sender | receiver |\n|---:|---|---|---|---|\n"
        for s in r.samples where s.taps.count == 2 {
            md += "| \(s.run) | \(s.contender.label) | \(s.path.rawValue) | \(s.taps[0].summary) | \(s.taps[1].summary) |\n"
        }
        md += "\n## vxsw counters (`vxsw show stats --json` at the end of each vxsw round)\n\n"
        md += "| run | port | rx packets | tx packets | drops | tap rx super-frames → segments | tap tx frames (super-frames) |\n|---:|---|---:|---:|---|---|---|\n"
        for c in r.counters {
            for port in c.ports.arrayValue ?? [] {
                let name = port["name"]?.stringValue ?? "?"
                let tap = c.taps.arrayValue?.first { $0["port"]?.stringValue == name }?["counters"]
                let n = { (v: JSONValue?, k: String) in v?[k]?.intValue.map(String.init) ?? "–" }
                let drops = (port["drops"]?.objectValue ?? [:]).map { "\($0.key) \($0.value.intValue ?? 0)" }.sorted().joined(separator: ", ")
                md += "| \(c.run) | \(name) | \(n(port, "rxPackets")) | \(n(port, "txPackets")) | \(drops.isEmpty ? "0" : drops) | "
                    + (tap == nil ? "– | – |\n" : "\(n(tap, "rxSuperFrames")) → \(n(tap, "rxSegments")) | \(n(tap, "txFrames")) (\(n(tap, "txSuperFrames"))) |\n")
            }
            let drops = c.drops.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ")
            md += "| \(c.run) | all drops | | | \(drops.isEmpty ? "none" : drops) | | |\n"
            let kernel = c.kernelPaths.filter { $0.value != 0 }.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ")
            md += "| \(c.run) | in the kernel (tap path, XDP fast path; in no port's counters) | | | \(kernel.isEmpty ? "none" : kernel) | | |\n"
        }
        if !r.notes.isEmpty { md += "\n## Notes\n\n" + r.notes.map { "- \($0)\n" }.joined() }
        return md
    }

    /// Writes `real-vm-latest.md` and `.json` into `directory`; returns the paths.
    @discardableResult
    public static func write(_ r: VMBenchReport, to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let md = directory + "/real-vm-latest.md", json = directory + "/real-vm-latest.json"
        try markdown(r).write(toFile: md, atomically: true, encoding: .utf8)
        try encoder.encode(r).write(to: URL(fileURLWithPath: json))
        return [md, json]
    }
}
