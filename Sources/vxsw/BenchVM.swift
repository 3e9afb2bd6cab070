import ArgumentParser
import Foundation
import VXBench
import VXLabKit
import VXSwitch

/// `vxsw bench vm`: real qemu guests through vxsw and through the Linux bridge, in one run.
struct BenchVM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm",
        abstract: "Guest TCP (iperf3, 1 stream) VM → remote VM, remote VM → VM and VM → VM on one host, through hv1's Linux bridge + kernel vxlan and through vxsw, interleaved, with the same qemu guests.")

    @Option(help: "Runs per contender and path; the median and min–max are reported.")
    var runs: Int = 3

    @Option(help: "Seconds of each iperf3 run.")
    var seconds: Int = 10

    @Option(help: "vxsw's datapath.poll for the run: busy, adaptive or interrupt (default: vxsw's default).")
    var poll: String?

    @Option(help: "The underlay between hv1 and hv2: wire (wire-sized frames both ways, as a physical network carries: TSO and GSO off on both veth ends, GRO on) or veth (a veth passes 64 KB GSO packets between the hosts whole where neither end has XDP).")
    var underlay: VMBenchRunner.Underlay = .wire

    @OptionGroup var results: BenchOutputOptions

    @Flag(help: "Run from a debug build anyway (its figures say nothing about vxsw; the report says so).")
    var allowDebug = false

    func run() throws {
        if let reason = RealVMRig.unavailableReason() { throw ValidationError("vxsw bench vm \(reason)") }
        guard runs >= 1, seconds >= 1 else { throw ValidationError("--runs and --seconds must be at least 1") }
        if let poll, !["busy", "adaptive", "interrupt"].contains(poll) {
            throw ValidationError("--poll \(poll): expected busy, adaptive or interrupt")
        }
        let run = try BenchInvocation(), binary = run.binary
        let kind = BenchReportWriter.buildKind(binary)
        if kind != "release" {
            guard allowDebug else {
                throw ValidationError("\(binary) is a \(kind) build; benchmark a release build (swift build -c release --product vxsw), or pass --allow-debug")
            }
            print(String(repeating: "!", count: 78) + "\n!! \(binary) is a \(kind.uppercased()) build: vxsw's figures are not what it can do\n"
                  + String(repeating: "!", count: 78))
        }
        var settings = VMBenchRunner.Settings()
        settings.runs = runs
        settings.seconds = seconds
        settings.poll = poll
        settings.underlay = underlay
        let runner = VMBenchRunner(settings: settings, binary: binary) { print($0); fflush(stdout) }
        var report = runner.run(command: run.command, commit: run.commit)
        if kind != "release" { report.notes.insert("NOT A RELEASE BUILD (\(kind)): vxsw's figures are far below what it can do", at: 0) }
        report.notes += VMBenchNotes.explain(report)
        print("\n" + VMBenchReportWriter.markdown(report))
        if !results.noWrite {
            print("written: " + (try VMBenchReportWriter.write(report, to: results.output)).joined(separator: ", "))
        }
        if !report.errors.isEmpty { throw ExitCode.failure }
    }
}

extension VMBenchRunner.Underlay: ExpressibleByArgument {}
