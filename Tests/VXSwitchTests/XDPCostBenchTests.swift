import VXBench
import VXLabKit
import XCTest

/// `vxsw bench xdp` at a tiny size: both directions' frames take the fast path (the bench
/// itself refuses a run where a frame went elsewhere) and the report has a row for each. No
/// figure is asserted: speed is the benchmark's, not a test's.
final class XDPCostBenchTests: XCTestCase {
    func testEveryFrameTakesTheFastPathAndTheReportHasBothDirections() throws {
        try XCTSkipUnless(isRoot, "needs root: loads BPF programs and creates a network namespace")
        let samples = try XDPCostBench { _ in }.run(macs: 100, vnis: 10, distinct: 4, repeat: 1000, runs: 1)
        XCTAssertEqual(samples.map(\.direction), ["encap", "decap"])
        XCTAssertEqual(samples.first?.counters, ["fast_encap": 1000])
        XCTAssertEqual(samples.last?.counters, ["fast_decap": 1000])
        let report = XDPCostReport(command: "test", commit: "", build: "debug", repeatCount: 1000, samples: samples).markdown()
        XCTAssertTrue(report.contains("| encap | 100 | 10 |") && report.contains("| decap | 100 | 10 |"), report)
    }
}
