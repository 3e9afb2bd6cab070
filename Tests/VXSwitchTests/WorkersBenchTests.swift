import Foundation
@testable import VXBench
import XCTest

/// The parts of `vxsw bench workers` that do not need a rig: how a thread's CPU time is read
/// from /proc, and what the report says (ratios against one worker, the loss-limited table).
final class WorkersBenchTests: XCTestCase {
    func testWorkerThreadCPUTimeComesFromProcStat() throws {
        // This test process has no vxsw-worker threads: nothing, not a crash.
        XCTAssertEqual(WorkersBench.workerThreadTicks(pid: getpid()), [:])
    }

    func testReportGivesTheRatioToOneWorkerAndTheLossLimitedRate() {
        func sample(_ workers: Int, _ delivered: Double, loss: Double? = nil) -> WorkersBenchSample {
            let share = WorkersBenchSample.Worker(cpu: 0, mpps: delivered / Double(workers), cpuPercent: 50, mppsPerCore: 1)
            return WorkersBenchSample(workers: workers, run: 1, size: 64, offeredMpps: delivered * 1.001, deliveredMpps: delivered,
                                      perWorker: Array(repeating: share, count: workers), cpuBusy: [100, 100], lossLimit: loss)
        }
        let report = WorkersBenchReport(command: "vxsw bench workers", commit: "abc", build: "release",
                                        samples: [sample(1, 0.5), sample(2, 0.9), sample(1, 0.4, loss: 0.005), sample(2, 0.8, loss: 0.005)])
        let md = report.markdown()
        XCTAssertTrue(md.contains("| 64 B | 2 | 0.900 (0.900–0.900) | 1.80× |"), md)
        XCTAssertTrue(md.contains("≤ 0.50% loss"), md)
        XCTAssertTrue(md.contains("| 64 B | 2 | 0.800 (0.800–0.800) | 2.00× |"), md)
        XCTAssertEqual(sample(1, 1).lostFraction, 1 - 1 / 1.001, accuracy: 1e-9)
    }
}
