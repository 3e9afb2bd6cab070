import ArgumentParser
import Foundation
import VXBench
import VXLabKit
import VXSwitch

/// The system benchmark: generator -> switch under test -> counting sink in namespaces, for
/// each contender in the same run; writes Markdown, JSON and SVG to Benchmarks/results/.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: `vxsw bench [system] ...` (the default), `vxsw bench offload` and `vxsw bench vm`.",
        subcommands: [BenchSystem.self, BenchOffload.self, BenchVM.self, BenchTables.self, BenchWorkers.self, BenchXDP.self],
        defaultSubcommand: BenchSystem.self)
}

/// What every benchmark records about its own run: this binary, the command line, the commit.
struct BenchInvocation {
    let binary: String
    let command: String
    /// `git describe --always --dirty` of the current directory ("" outside a checkout).
    let commit: String

    init() throws {
        binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        command = "vxsw " + CommandLine.arguments.dropFirst().joined(separator: " ")
        commit = (try? VXLabKit.run(["git", "-C", FileManager.default.currentDirectoryPath, "describe", "--always", "--dirty"], check: false))
            .map { $0.output.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    }
}

/// Where a benchmark writes its results.
struct BenchOutputOptions: ParsableArguments {
    @Option(help: "Directory for the results.")
    var output: String = "Benchmarks/results"

    @Flag(help: "Print the results but write no files.")
    var noWrite = false
}

struct BenchSystem: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system",
        abstract: "Measure vxsw (AF_XDP engine and XDP fast path) against the rig ceiling, Linux bridge+vxlan and OVS userspace (Mpps, Gbit/s, CPU, TCP, latency); --sweep varies the engine's knobs.")

    @Flag(help: "Smoke test: 1 run, sizes 64 and 1450, 1 s per point, short TCP and latency runs.")
    var quick = false

    @Option(help: "Inner frame sizes in bytes (FCS included), comma separated (default 64,128,256,512,1024,1450).")
    var sizes: String?

    @Option(help: "Runs per point; the median and min–max are reported (default 3).")
    var runs: Int?

    @Option(help: "Seconds of sending per run (default 5).")
    var seconds: Double?

    @Option(help: "Contenders, comma separated: ceiling, kernel, ovs, vxsw-afxdp, vxsw-xdp (default all); also vxsw-packet (the VM port on io: packet).")
    var contenders: String?

    @Option(help: "Directions, comma separated: encap, decap (default both).")
    var directions: String?

    @Option(help: "UDP flows the generator varies over (default 1).")
    var flows: Int?

    @Option(help: "Source MACs the generator varies over (default 1).")
    var macs: Int?

    @Option(help: "Offered load in Mpps (default: as fast as the generator goes).")
    var rate: Double?

    @Option(help: "Seconds of each iperf3 run; 0 skips TCP (default 5, --quick 2).")
    var tcpSeconds: Int?

    @Option(help: "ICMP echoes for the latency quantiles; 0 skips them (default 500, --quick 100).")
    var pings: Int?

    @Flag(help: "Also sweep vxsw-afxdp's engine knobs (ring size, batch size, poll mode, AF_XDP busy polling), one at a time, at --sweep-size.")
    var sweep = false

    @Option(help: "Inner frame size of the --sweep runs (default 64).")
    var sweepSize: Int?

    @OptionGroup var results: BenchOutputOptions

    func settings() throws -> BenchSettings {
        var s = quick ? BenchSettings.quick : BenchSettings()
        if let sizes {
            s.sizes = try sizes.split(separator: ",").map {
                guard let v = Int($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--sizes: '\($0)' is not a number") }
                return v
            }
        }
        if let runs { s.runs = runs }
        if let seconds { s.seconds = seconds }
        if let contenders { s.contenders = contenders.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        if let directions {
            s.directions = try directions.split(separator: ",").map {
                guard let d = BenchDirection(rawValue: String($0)) else { throw ValidationError("--directions: encap or decap, not '\($0)'") }
                return d
            }
        }
        if let flows { s.flows = flows }
        if let macs { s.macs = macs }
        if let rate { s.rate = rate * 1e6 }
        if let tcpSeconds { s.tcpSeconds = tcpSeconds }
        if let pings { s.pings = pings }
        s.sweep = sweep
        if let sweepSize { s.sweepSize = sweepSize }
        if let problem = s.problem() { throw ValidationError(problem) }
        return s
    }

    func run() throws {
        guard isRoot else { throw ValidationError("vxsw bench needs root: it creates network namespaces and loads XDP programs") }
        let s = try settings()
        let run = try BenchInvocation(), binary = run.binary
        if !binary.contains("/release/") {
            print("note: \(binary) is not a release build; vxsw's figures will be far below what it can do (swift build -c release)")
        }
        let runner = BenchRunner(settings: s, binary: binary) { print($0); fflush(stdout) }
        var report = runner.run(command: run.command)
        report.build += " (\(binary)\(run.commit.isEmpty ? "" : ", commit \(run.commit)"))"
        report.notes += BenchNotes.standard(report)
        print("\n" + BenchReportWriter.markdown(report))
        if !results.noWrite {
            let files = try BenchReportWriter.write(report, to: results.output)
            print("written: " + files.joined(separator: ", "))
        }
    }
}
