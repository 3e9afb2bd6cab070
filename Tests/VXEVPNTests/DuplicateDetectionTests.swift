import XCTest
import VXCore
@testable import VXEVPN

/// `DuplicateDetector` alone: FRR zebra's counting (window opened by a local learn, remote moves
/// counted only inside it, reset once `time` has passed), detection, freeze and recovery.
final class DuplicateDetectionTests: XCTestCase {
    let k = VNIMAC(VNI(100)!, MACAddress("02:00:00:00:00:01")!)
    let other = VNIMAC(VNI(100)!, MACAddress("02:00:00:00:00:02")!)

    func testRemoteMovesAloneNeverCount() {
        var d = DuplicateDetector(config: .init(maxMoves: 2))
        for t in 0..<10 { XCTAssertEqual(d.recordMove(k, local: false, now: Double(t)), .counted) }
        XCTAssertEqual(d.count(k), 0)
        XCTAssertTrue(d.states.isEmpty, "nothing kept for a MAC that never moved here")
    }

    func testLocalLearnOpensTheWindowAndBothSidesCount() {
        var d = DuplicateDetector(config: .init(maxMoves: 4, seconds: 10))
        XCTAssertEqual(d.recordMove(k, local: true, now: 100), .counted)
        XCTAssertEqual(d.states[k]?.startedAt, 100)
        XCTAssertEqual(d.recordMove(k, local: false, now: 101), .counted)
        XCTAssertEqual(d.recordMove(k, local: true, now: 102), .counted)
        XCTAssertEqual(d.count(k), 3)
        XCTAssertEqual(d.recordMove(k, local: false, now: 103), .detected(moves: 4))
        XCTAssertTrue(d.isDuplicate(k))
        XCTAssertFalse(d.isFrozen(k), "no freeze: reported only")
        XCTAssertEqual(d.recordMove(k, local: true, now: 104), .duplicate, "not counted again")
        XCTAssertEqual(d.duplicates, [k])
        XCTAssertFalse(d.isDuplicate(other))
    }

    func testWindowIsFixedFromItsStartNotSliding() {
        var d = DuplicateDetector(config: .init(maxMoves: 3, seconds: 10))
        _ = d.recordMove(k, local: true, now: 0)     // 1, window 0...10
        _ = d.recordMove(k, local: false, now: 9)    // 2
        XCTAssertEqual(d.recordMove(k, local: false, now: 10.5), .counted, "past the window: reset")
        XCTAssertEqual(d.count(k), 0)
        XCTAssertEqual(d.recordMove(k, local: true, now: 11), .counted)  // a new window at 11
        XCTAssertEqual(d.states[k]?.startedAt, 11)
        XCTAssertEqual(d.count(k), 1)
        _ = d.recordMove(k, local: false, now: 12)
        XCTAssertEqual(d.recordMove(k, local: true, now: 21), .detected(moves: 3), "exactly `time` after the start is still inside")
    }

    func testFreezePermanentAndSeconds() {
        var permanent = DuplicateDetector(config: .init(maxMoves: 2, freeze: .permanent))
        _ = permanent.recordMove(k, local: true, now: 0)
        XCTAssertEqual(permanent.recordMove(k, local: false, now: 1), .detected(moves: 2))
        XCTAssertTrue(permanent.isFrozen(k))
        XCTAssertNil(permanent.recoveryTime(k))
        XCTAssertEqual(permanent.recovered(at: 1e9), [])

        var timed = DuplicateDetector(config: .init(maxMoves: 2, freeze: .seconds(60)))
        _ = timed.recordMove(k, local: true, now: 0)
        _ = timed.recordMove(k, local: true, now: 5)
        XCTAssertTrue(timed.isFrozen(k))
        XCTAssertEqual(timed.recoveryTime(k), 65)
        XCTAssertEqual(timed.recovered(at: 64), [])
        XCTAssertEqual(timed.recovered(at: 65), [k])
        XCTAssertTrue(timed.clear(k))
        XCTAssertFalse(timed.isDuplicate(k))
        XCTAssertEqual(timed.count(k), 0)
        XCTAssertFalse(timed.clear(k), "nothing to clear twice")
        XCTAssertEqual(timed.recordMove(k, local: true, now: 70), .counted, "counted afresh after recovery")
    }

    func testOffDetectsNothing() {
        var d = DuplicateDetector(config: .init(enabled: false, maxMoves: 2))
        for t in 0..<6 { XCTAssertEqual(d.recordMove(k, local: t % 2 == 0, now: Double(t)), .counted) }
        XCTAssertFalse(d.isDuplicate(k))
    }
}
