import ArgumentParser
import Foundation
import VXBench
import VXLabKit
import VXSwitch

/// `vxsw bench tables`: N remote MACs from the control plane into the data plane while
/// forwarding, vxsw vs the kernel bridge FDB, in one run.
struct BenchTables: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tables",
        abstract: "Install N MAC → remote VTEP entries while two VMs ping through the switch: time until the data plane (and vxsw's XDP maps) hold them, ping p99 meanwhile, and `show mac` with all N; vxsw and the kernel bridge FDB side by side.")

    @Option(help: "MAC counts, comma-separated.")
    var macs: String = "100000,1000000"

    @Option(help: "Runs per count and contender (a fresh rig each); medians and min–max are reported.")
    var runs: Int = 3

    @OptionGroup var results: BenchOutputOptions

    @Flag(help: "Run from a debug build anyway (the report says so).")
    var allowDebug = false

    func run() throws {
        guard isRoot else { throw ValidationError("vxsw bench tables needs root: it creates network namespaces and attaches XDP programs") }
        let counts = try macs.split(separator: ",").map { s -> Int in
            guard let n = Int(s.trimmingCharacters(in: .whitespaces)), n > 0, n <= 4_000_000 else {
                throw ValidationError("--macs: '\(s)' is not a count from 1 to 4000000")
            }
            return n
        }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        let invocation = try BenchInvocation()
        let kind = BenchReportWriter.buildKind(invocation.binary)
        guard kind == "release" || allowDebug else {
            throw ValidationError("\(invocation.binary) is a \(kind) build; benchmark a release build (swift build -c release --product vxsw), or pass --allow-debug")
        }
        let bench = TablesBench { print($0); fflush(stdout) }
        var samples: [TablesBenchSample] = []
        for n in counts {
            for r in 1...runs { samples += try bench.run(macs: n, run: r) }
        }
        let report = TablesBenchReport(command: invocation.command, commit: invocation.commit, build: kind, samples: samples)
        print("\n" + report.markdown())
        if !results.noWrite { print("written: " + (try report.write(to: results.output)).joined(separator: ", ")) }
    }
}
