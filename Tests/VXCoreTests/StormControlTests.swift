import XCTest
@testable import VXCore

/// Storm control: a port floods at most its rate per class per second; the rest is dropped
/// `storm_control` before any copy; known destinations are never limited.
final class StormControlTests: XCTestCase {
    private func limitedSwitch(_ limits: StormLimits) -> (SwitchPipeline, SyntheticFrameIO) {
        var (sw, io) = makeSwitch(frames: 512)
        sw.setPort(p1, PortConfig(kind: .access(vniA), storm: limits))
        return (sw, io)
    }

    func testEachClassIsHeldToItsRateAndTheNextSecondStartsAfresh() {
        var (sw, io) = limitedSwitch(StormLimits(broadcast: 5, multicast: 3, unknownUnicast: 4))
        let group = MACAddress(raw: 0x0100_5E00_0001)
        func flood(_ dst: MACAddress, _ n: Int, now: UInt32) -> Int {
            let out = pass(&sw, &io, from: p1, (0..<n).map { _ in Build.raw(dst: dst, src: macA) }, now: now)
            return out.filter { $0.port == p2 }.count  // p2 is the other local member of VNI A
        }
        XCTAssertEqual(flood(.broadcast, 8, now: 1), 5)
        XCTAssertEqual(flood(group, 8, now: 1), 3)
        XCTAssertEqual(flood(macD, 8, now: 1), 4, "unknown unicast")
        XCTAssertEqual(sw.counters.drops(port: p1, .stormControl), 3 + 5 + 4)
        XCTAssertEqual(sw.counters.drops(bd: sw.bridgeDomains.index(of: vniA)!, .stormControl), 12)
        XCTAssertEqual(flood(.broadcast, 8, now: 2), 5, "a new second")
    }

    func testKnownDestinationsAndOtherPortsAreNotLimited() {
        var (sw, io) = limitedSwitch(StormLimits(broadcast: 1, multicast: 1, unknownUnicast: 1))
        _ = sw.fdb.learnLocal(bd: sw.bridgeDomains.index(of: vniA)!, mac: macB, port: p2, now: 1)
        let known = pass(&sw, &io, from: p1, (0..<20).map { _ in Build.raw(dst: macB, src: macA) }, now: 1)
        XCTAssertEqual(known.filter { $0.port == p2 }.count, 20, "known unicast is forwarded, never limited")
        let other = pass(&sw, &io, from: p2, (0..<20).map { _ in Build.raw(dst: .broadcast, src: macB) }, now: 1)
        XCTAssertEqual(other.filter { $0.port == p1 }.count, 20, "p2 has no limit")
        XCTAssertEqual(sw.counters.drops(.stormControl), 0)
    }

    func testNoLimitsIsTheOldBehaviour() {
        var (sw, io) = limitedSwitch(.unlimited)
        let out = pass(&sw, &io, from: p1, (0..<50).map { _ in Build.raw(dst: .broadcast, src: macA) }, now: 1)
        XCTAssertEqual(out.filter { $0.port == p2 }.count, 50)
    }
}
