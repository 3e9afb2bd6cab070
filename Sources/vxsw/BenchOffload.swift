import ArgumentParser
import Foundation
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

    @Option(help: "Directory for the results.")
    var output: String = "Benchmarks/results"

    @Flag(help: "Print the results but write no files.")
    var noWrite = false

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
        let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let command = "vxsw " + CommandLine.arguments.dropFirst().joined(separator: " ")
        let runner = BenchRunner(settings: s, binary: binary) { print($0); fflush(stdout) }
        var report = runner.run(command: command)
        let commit = (try? VXLabKit.run(["git", "-C", FileManager.default.currentDirectoryPath, "describe", "--always", "--dirty"], check: false))
            .map { $0.output.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        report.build += " (\(binary)\(commit.isEmpty ? "" : ", commit \(commit)"))"
        let text = OffloadVerdict.markdown(report, host: "veth rig in network namespaces (no physical NIC is measured on this VM)")
        print("\n" + text)
        guard !noWrite else { return }
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
