import ArgumentParser
import Foundation
import VXBench
import VXLabKit
import VXSwitch

/// `vxsw bench offload`: NIC offload vs software path on this host, in one run.
struct BenchOffload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offload",
        abstract: "Kernel bridge+vxlan with offloads on and off vs vxsw's AF_XDP and XDP paths: 64 B packet rate and TCP bulk goodput, and which path suits which traffic.")

    @Option(help: "Runs per point (median reported).")
    var runs: Int = 3

    @Option(help: "Seconds of sending per packet-rate run.")
    var seconds: Double = 3

    @Option(help: "Seconds of each iperf3 run.")
    var tcpSeconds: Int = 5

    @OptionGroup var results: BenchOutputOptions

    func run() throws {
        guard isRoot else { throw ValidationError("vxsw bench offload needs root: it creates network namespaces and loads XDP programs") }
        var s = BenchSettings()
        s.contenders = OffloadVerdict.contenders
        s.sizes = [64]
        s.runs = runs
        s.seconds = seconds
        s.tcpSeconds = tcpSeconds
        s.pings = 0
        if let problem = s.problem() { throw ValidationError(problem) }
        let run = try BenchInvocation()
        let runner = BenchRunner(settings: s, binary: run.binary) { print($0); fflush(stdout) }
        var report = runner.run(command: run.command)
        report.build += " (\(run.binary)\(run.commit.isEmpty ? "" : ", commit \(run.commit)"))"
        let text = OffloadVerdict.markdown(report, host: "veth rig in network namespaces (no physical NIC is measured on this VM)")
        print("\n" + text)
        guard !results.noWrite else { return }
        let output = results.output
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let stamp = String(report.date.prefix(19)).replacingOccurrences(of: ":", with: "")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        for name in ["offload-\(stamp)", "offload-latest"] {
            try text.write(toFile: "\(output)/\(name).md", atomically: true, encoding: .utf8)
            try encoder.encode(report).write(to: URL(fileURLWithPath: "\(output)/\(name).json"))
        }
        print("written: \(output)/offload-\(stamp).md, .json and offload-latest.*")
    }
}
