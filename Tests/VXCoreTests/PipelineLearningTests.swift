import XCTest
@testable import VXCore

/// Sources the pipeline does not learn (issue 10): beyond a port's MAC limit, beyond
/// `fdb.max-entries`, or while the event stream toward the owner is full. Each is counted, and
/// the frame is forwarded all the same, as a bridge does.
final class PipelineLearningTests: XCTestCase {
    func testPortMACLimitIsCountedAndFramesStillForwarded() {
        var (sw, io) = makeSwitch()
        sw.setPort(p1, PortConfig(kind: .access(vniA), macLimit: 1))
        _ = pass(&sw, &io, from: p1, [Build.raw(dst: .broadcast, src: macA)])
        XCTAssertEqual(pass(&sw, &io, from: p1, [Build.raw(dst: .broadcast, src: macB)]).count, 4, "flooded all the same")
        XCTAssertNil(sw.fdb.lookup(bd: 0, mac: macB))
        XCTAssertEqual(sw.counters.ports[Int(p1.raw)].macLimitHits, 1)
        XCTAssertEqual(sw.counters.vnis[0].macLimitHits, 0, "the VNI's own limit was not hit")
        XCTAssertEqual(sw.fdb.learnedEntries(port: p1), 1)
        _ = pass(&sw, &io, from: p2, [Build.raw(dst: .broadcast, src: macB)])
        XCTAssertEqual(sw.fdb.lookup(bd: 0, mac: macB), .port(p2), "other ports are not limited")
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    /// The table holds `fdbCapacity` (`fdb.max-entries`) entries exactly, not the 3/4 of its
    /// slots; a source beyond is counted per VNI and its frame delivered.
    func testAFullTableIsCountedAndFramesStillForwarded() {
        var sw = SwitchPipeline(underlay: testUnderlay(), maxPorts: 8, maxBridgeDomains: 8, maxVTEPs: 8, fdbCapacity: 100)
        var io = SyntheticFrameIO(frameCount: 256)
        sw.addVNI(vniA)
        sw.setPort(p1, PortConfig(kind: .access(vniA)))
        sw.setPort(p2, PortConfig(kind: .access(vniA)))
        let frames = (0..<120).map { Build.raw(dst: macB, src: MACAddress(raw: 0x0200_0000_1000 | UInt64($0))) }
        let out = pass(&sw, &io, from: p1, frames)
        XCTAssertEqual(out.count, 120, "every frame flooded to p2, learned or not")
        XCTAssertEqual(sw.fdb.count, 100)
        XCTAssertGreaterThan(sw.fdb.slotCount * 3 / 4, 100, "room in the slots: the limit is the configured one")
        XCTAssertEqual(sw.counters.vnis[0].tableFullHits, 20)
        XCTAssertEqual(sw.counters.vnis[0].macLimitHits, 0)
    }

    /// Back-pressure end to end within the worker: the owner's report ring full keeps the events
    /// in the FDB's ring; that full defers learning (counted); nothing reported is ever lost, and
    /// every source is learned and reported once the owner has taken the earlier ones.
    func testLearningWaitsForTheOwnerAndNothingIsLost() {
        var sw = SwitchPipeline(underlay: testUnderlay(), maxPorts: 8, maxBridgeDomains: 8, maxVTEPs: 8, fdbCapacity: 256,
                                eventCapacity: 4)
        var io = SyntheticFrameIO(frameCount: 64)
        sw.addVNI(vniA)
        sw.setPort(p1, PortConfig(kind: .access(vniA)))
        sw.setPort(p2, PortConfig(kind: .access(vniA)))
        let ring = SPSCRing<DataplaneReport>(capacity: 4)
        let macs = (0..<12).map { MACAddress(raw: 0x0200_0000_2000 | UInt64($0)) }
        let frames = macs.map { Build.raw(dst: .broadcast, src: $0) }
        var reported = Set<MACAddress>()
        var rounds = 0
        while reported.count < macs.count && rounds < 20 {
            for _ in 0..<2 { // the owner is behind: the second round finds its ring full
                XCTAssertEqual(pass(&sw, &io, from: p1, frames).count, frames.count, "every frame forwarded")
                sw.publishReports(into: ring)
            }
            while let r = ring.pop() { if case .fdb(let e) = r, e.kind == .learned { reported.insert(e.mac) } }
            rounds += 1
        }
        XCTAssertEqual(reported, Set(macs), "every learned MAC reached the owner")
        XCTAssertEqual(sw.fdb.learnedEntries(bd: 0), macs.count)
        XCTAssertGreaterThan(sw.counters.vnis[0].learnsDeferred, 0)
        XCTAssertGreaterThan(sw.counters.reportsHeldBack, 0)
        XCTAssertGreaterThan(rounds, 2)
    }
}
