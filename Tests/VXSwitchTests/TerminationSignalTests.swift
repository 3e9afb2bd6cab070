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
        // A dispatch signal source starts listening a moment after it is made (the manager thread
        // registers it), and a signal sent before that meets SIG_IGN: send until it is seen.
        var seen = false
        for _ in 0..<50 where !seen {
            kill(getpid(), SIGTERM)
            seen = inner.wait(timeout: .now() + 0.1) == .success
        }
        XCTAssertTrue(seen, "the newest handler did not run")
        XCTAssertEqual(ran.wait(timeout: .now() + 5), .success, "the outer handler did not run after the inner one")
        // The handlers returned, so the process goes on: a child started now runs (not stopped at once).
        var started: ChildProcess?
        XCTAssertTrue(waitUntil(timeout: 5) {
            started = try? ChildProcess(["sleep", "30"], logPath: NSTemporaryDirectory() + "vxsw-signal-test-\(getpid()).log")
            usleep(200_000)
            return started?.isRunning ?? false
        }, "a child started after the handlers returned was stopped")
        started?.stop(grace: 1)
        try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "vxsw-signal-test-\(getpid()).log")
    }
}
