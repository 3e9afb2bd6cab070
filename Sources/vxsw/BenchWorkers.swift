import ArgumentParser
import Foundation
import VXBench
import VXLabKit
import VXSwitch

/// `vxsw bench workers`: 1 and 2 workers on a two-queue uplink, side by side.
struct BenchWorkers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "The AF_XDP engine with 1 and 2 workers on a two-queue uplink (a worker per queue), decapsulating to a VM port: delivered Mpps, and per worker its frames and CPU time (Mpps per worker core).")

    @Option(help: "Worker counts, comma-separated (worker i runs on CPU i; one worker runs on --single-cpu).")
    var workers: String = "1,2"

    @Option(help: "CPU of the single worker when the count is 1.")
    var singleCPU: Int = 1

    @Option(help: "Frame sizes, comma-separated.")
    var sizes: String = "64"

    @Option(help: "Runs per count and size; medians and min–max are reported.")
    var runs: Int = 3

    @Option(help: "Seconds per run.")
    var seconds: Double = 5

    @Option(help: "Also find the highest offered rate delivered with at most this fraction lost (e.g. 0.005), by bisection.")
    var loss: Double?

    @OptionGroup var results: BenchOutputOptions

    @Flag(help: "Run from a debug build anyway (the report says so).")
    var allowDebug = false

    func run() throws {
        guard isRoot else { throw ValidationError("vxsw bench workers needs root: it creates network namespaces and attaches XDP programs") }
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let counts = try list(workers, "--workers") { $0 >= 1 && $0 <= cpus }
        let frameSizes = try list(sizes, "--sizes") { $0 >= 64 && $0 <= 1518 }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        guard singleCPU >= 0 && singleCPU < cpus else { throw ValidationError("--single-cpu: CPU \(singleCPU) does not exist (0..<\(cpus))") }
        let invocation = try BenchInvocation()
        let kind = BenchReportWriter.buildKind(invocation.binary)
        guard kind == "release" || allowDebug else {
            throw ValidationError("\(invocation.binary) is a \(kind) build; benchmark a release build (swift build -c release --product vxsw), or pass --allow-debug")
        }
        let bench = WorkersBench(binary: invocation.binary) { print($0); fflush(stdout) }
        bench.seconds = seconds
        if let loss {
            guard loss >= 0 && loss < 1 else { throw ValidationError("--loss: a fraction from 0 to below 1") }
            bench.lossLimit = loss
        }
        bench.generatorCPUs = Array(0..<min(2, cpus))
        var samples: [WorkersBenchSample] = []
        // Runs interleave the worker counts, so a noisy moment on a shared host hits both alike.
        for r in 1...runs {
            for n in counts {
                print("run \(r), \(n) worker(s):")
                samples += try bench.run(workerCPUs: n == 1 ? [singleCPU] : Array(0..<n), sizes: frameSizes, run: r)
            }
        }
        let report = WorkersBenchReport(command: invocation.command, commit: invocation.commit, build: kind, samples: samples)
        print("\n" + report.markdown())
        if !results.noWrite { print("written: " + (try report.write(to: results.output)).joined(separator: ", ")) }
    }

    private func list(_ text: String, _ option: String, valid: (Int) -> Bool) throws -> [Int] {
        try text.split(separator: ",").map { s in
            guard let n = Int(s.trimmingCharacters(in: .whitespaces)), valid(n) else {
                throw ValidationError("\(option): '\(s)' is not allowed here")
            }
            return n
        }
    }
}
