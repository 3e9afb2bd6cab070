// vxcore-bench: the plain harness next to the package-benchmark suite.
//
//   vxcore-bench time [decap|encap|mixed|harness|all] [--batches N] [--runs R]
//       wall-clock (clock_gettime MONOTONIC) per run, median and min–max over runs,
//       and allocation calls per batch counted by the CMallocCounter interposer
//       (exit status 1 when any batch allocated).
//   vxcore-bench count SCENARIO BATCHES
//       setup, verify, then exactly BATCHES batches, nothing else: run it under
//       `valgrind --tool=callgrind` with BATCHES and 0 and subtract for instructions per packet.
#if canImport(Glibc)
import Glibc
#endif
import CMallocCounter
import VXBenchScenarios

enum Scenario: String, CaseIterable {
    case decap, encap, mixed, harness
    /// Packets per call of `step`.
    var packetsPerStep: Int { self == .mixed ? 2 * PipelineBench.batchSize : PipelineBench.batchSize }
    var batchesPerStep: Int { self == .mixed ? 2 : 1 }
}

@inline(never)
func run(_ s: Scenario, _ bench: inout PipelineBench, steps: Int) {
    switch s {
    case .decap: for _ in 0..<steps { bench.decapBatch() }
    case .encap: for _ in 0..<steps { bench.encapBatch() }
    case .mixed: for _ in 0..<steps { bench.mixedPair() }
    case .harness: for _ in 0..<steps { bench.harnessOnlyBatch() }
    }
}

func nanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func fmt(_ x: Double, _ digits: Int = 1) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (x * p).rounded() / p
    var s = String(r)
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
    }
    return s
}

var args = Array(CommandLine.arguments.dropFirst())
let mode = args.first ?? "time"
if !args.isEmpty { args.removeFirst() }

func option(_ name: String, _ fallback: Int) -> Int {
    if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) { return v }
    return fallback
}

switch mode {
case "count":
    guard args.count == 2, let s = Scenario(rawValue: args[0]), let n = Int(args[1]) else {
        print("usage: vxcore-bench count decap|encap|mixed|harness BATCHES"); exit(2)
    }
    var bench = PipelineBench()
    bench.verify()
    run(s, &bench, steps: n / s.batchesPerStep)
    bench.verify()
    print("\(s.rawValue): \(n) batches done")

case "time":
    let which = args.first.flatMap(Scenario.init(rawValue:)).map { [$0] } ?? Scenario.allCases
    let batches = option("--batches", 200_000)
    let runs = option("--runs", 7)
    var bench = PipelineBench()
    bench.verify()
    var failed = false
    print("scenario | ns/packet median (min–max) | Mpps median | mallocs/batch | runs × batches")
    print("---|---|---|---|---")
    for s in which {
        let steps = batches / s.batchesPerStep
        run(s, &bench, steps: steps / 10) // warm-up
        var ns: [Double] = []
        var mallocs: UInt64 = 0
        for _ in 0..<runs {
            let m0 = vxbench_malloc_calls()
            let t0 = nanoseconds()
            run(s, &bench, steps: steps)
            let t1 = nanoseconds()
            mallocs += vxbench_malloc_calls() - m0
            ns.append(Double(t1 - t0) / Double(steps * s.packetsPerStep))
        }
        bench.verify()
        ns.sort()
        let median = ns[ns.count / 2]
        let perBatch = Double(mallocs) / Double(runs * steps * s.batchesPerStep)
        if mallocs != 0 { failed = true }
        print("\(s.rawValue) | \(fmt(median)) (\(fmt(ns.first!))–\(fmt(ns.last!))) | \(fmt(1000 / median, 2)) | "
              + "\(mallocs == 0 ? "0" : fmt(perBatch, 3)) | \(runs) × \(steps * s.batchesPerStep)")
    }
    if failed { print("FAIL: the pipeline allocated"); exit(1) }

default:
    print("usage: vxcore-bench time [decap|encap|mixed|harness] [--batches N] [--runs R] | count SCENARIO BATCHES")
    exit(2)
}
