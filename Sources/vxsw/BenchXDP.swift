import ArgumentParser
import Foundation
import VXBench
import VXLabKit

/// `vxsw bench xdp`: the XDP fast path's cost per frame by BPF_PROG_RUN, against XDP_DROP.
struct BenchXDP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xdp",
        abstract: "The XDP fast path's cost per frame (encap and decap) as the kernel times it with BPF_PROG_RUN, against an XDP_DROP program in the same run, with the FDB filled to the sizes given.")

    @Option(help: "Table sizes as MACSxVNIS, comma-separated (remote MACs spread over the VNIs).")
    var tables: String = "1x1,100000x1000"

    @Option(help: "BPF_PROG_RUN repeats per direction and run.")
    var repeatCount: UInt32 = 1_000_000

    @Option(help: "Different destination MACs the encap frames go to (taken from the table).")
    var distinct: Int = 64

    @Option(help: "Runs; medians and min–max are reported.")
    var runs: Int = 5

    @OptionGroup var results: BenchOutputOptions

    func run() throws {
        guard isRoot else { throw ValidationError("vxsw bench xdp needs root: it loads BPF programs") }
        let sizes = try tables.split(separator: ",").map { entry -> (Int, Int) in
            let parts = entry.split(separator: "x").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let m = parts[0], let v = parts[1], m >= 1, m <= 200_000, v >= 1, v <= 4000 else {
                throw ValidationError("--tables: '\(entry)' is not MACSxVNIS with 1–200000 MACs and 1–4000 VNIs")
            }
            return (m, v)
        }
        guard runs >= 1, repeatCount >= 1, distinct >= 1 else { throw ValidationError("--runs, --repeat-count and --distinct must be at least 1") }
        let invocation = try BenchInvocation()
        let bench = XDPCostBench { print($0); fflush(stdout) }
        var samples: [XDPCostBench.Sample] = []
        for (macs, vnis) in sizes {
            samples += try bench.run(macs: macs, vnis: vnis, distinct: distinct, repeat: repeatCount, runs: runs)
        }
        // BPF programs are JIT-compiled by the kernel: the build of vxsw does not change the figure.
        let report = XDPCostReport(command: invocation.command, commit: invocation.commit,
                                   build: BenchReportWriter.buildKind(invocation.binary) + " (the BPF is JIT-compiled by the kernel)",
                                   repeatCount: repeatCount, samples: samples)
        print("\n" + report.markdown())
        if !results.noWrite { print("written: " + (try report.write(to: results.output)).joined(separator: ", ")) }
    }
}
