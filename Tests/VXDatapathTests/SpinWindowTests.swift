import XCTest
@testable import VXDatapath

/// The adaptive worker's spin window follows the traffic (no threads, no root).
final class SpinWindowTests: XCTestCase {
    func testSparseTrafficClosesTheWindowAndDenseTrafficReopensIt() {
        var w = SpinWindow(microseconds: 50)
        XCTAssertEqual(w.current, 50_000, "starts open")
        // A super-frame every 300 µs: each spin runs out, each sleep is long.
        for _ in 0..<6 { w.ranOut(); w.woke(after: 300_000) }
        XCTAssertEqual(w.current, 0, "halved down to no spin at all")
        // Then frames 20 µs apart: the first short sleep reopens it in full.
        w.woke(after: 20_000)
        XCTAssertEqual(w.current, 50_000)
        // A wakeup by the 100 ms timeout changes nothing.
        w.woke(after: 100_000_000)
        XCTAssertEqual(w.current, 50_000)
    }

    func testNoSpinConfiguredStaysClosed() {
        var w = SpinWindow(microseconds: 0)
        XCTAssertEqual(w.current, 0)
        w.woke(after: 0)
        XCTAssertEqual(w.current, 0)
    }
}
