import Foundation
import VXLabKit
import XCTest

/// The clean-up a lab or bench rig registers for Ctrl-C / SIGTERM runs on every run of it, not
/// only the first: a process that registered, cancelled and registered again (the second run of
/// `vxsw bench-evpn`) still cleans up when the signal comes.
final class TerminationSignalTests: XCTestCase {
    func testAHandlerRegisteredAfterAnotherWasCancelledStillRuns() {
        let first = onTerminationSignal { XCTFail("a cancelled handler ran") }
        first.forEach { $0.cancel() }
        let ran = DispatchSemaphore(value: 0), inner = DispatchSemaphore(value: 0)
        let outer = onTerminationSignal { ran.signal() }
        let second = onTerminationSignal { inner.signal() }
        defer { (second + outer).forEach { $0.cancel() } }
        kill(getpid(), SIGTERM)
        XCTAssertEqual(inner.wait(timeout: .now() + 5), .success, "the newest handler did not run")
        XCTAssertEqual(ran.wait(timeout: .now() + 5), .success, "the outer handler did not run after the inner one")
    }
}
