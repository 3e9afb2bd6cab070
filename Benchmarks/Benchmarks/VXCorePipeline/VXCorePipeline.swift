// package-benchmark suite for the VXCore pipeline: one benchmark iteration is one batch
// of 64 frames (scalingFactor .kilo: 1,000 batches per sample), so `wallClock` reads as
// time per batch; divide by 64 for ns/packet (Benchmarks/results/microbench.md).
// mallocCountTotal has an absolute threshold of 0: any allocation on the hot path fails
// `swift package benchmark thresholds check`.
import Benchmark
import VXBenchScenarios

nonisolated(unsafe) var world: PipelineBench?

/// Takes the shared world out of `world` (so its arrays stay uniquely referenced and the
/// first mutation inside the measurement does not copy them); put it back afterwards.
func bench() -> PipelineBench {
    if let w = world {
        world = nil
        return w
    }
    var w = PipelineBench()
    w.verify()
    return w
}

// decap:   uplink VXLAN → decap → learn remote → lookup → access port (batch of 64)
// encap:   access port → learn local → lookup known remote MAC → VXLAN to a VTEP (batch of 64)
// mixed:   one decap batch + one encap batch per iteration (2 × 64)
// harness: rx field stores + frame recycle, no pipeline (batch of 64): the harness's own floor
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000,
        thresholds: [.mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0])]
    )

    Benchmark("decap") { measure($0) { $0.decapBatch() } }
    Benchmark("encap") { measure($0) { $0.encapBatch() } }
    Benchmark("mixed") { measure($0) { $0.mixedPair() } }
    Benchmark("harness") { measure($0) { $0.harnessOnlyBatch() } }
}

/// Runs `step` once per scaled iteration on the shared world, verifying it afterwards.
@inline(__always)
func measure(_ benchmark: Benchmark, _ step: (inout PipelineBench) -> Void) {
    var w = bench()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations { step(&w) }
    benchmark.stopMeasurement()
    w.verify()
    world = w
}
