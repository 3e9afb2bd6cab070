import XCTest
@testable import VXCore

/// VTEP admission (`vtep.accept`, `vtep.max-learned`): which source VTEPs the overlay takes
/// frames from, how learned VTEPs age out, and that a spoofed storm cannot take the indices
/// the control plane needs.
final class VTEPAdmissionTests: XCTestCase {
    let stranger = IPAddress("10.9.9.9")!

    /// A broadcast from `src` behind VTEP `from`, VXLAN to us (10.0.0.1) in VNI A.
    func overlay(from: IPAddress, src: MACAddress = macD) -> [UInt8] {
        var u = testUnderlay(); u.localV4 = from
        return encap(Build.raw(dst: .broadcast, src: src), vni: 100, remote: local4, underlay: u)
    }

    func testUnknownVTEPDroppedUnderKnown() {
        var (sw, io) = makeSwitch()
        sw.addVNI(vniA, learnRemote: true)
        XCTAssertEqual(sw.vteps.admission.accept, .known, "the default")
        XCTAssertEqual(pass(&sw, &io, from: uplink, [overlay(from: stranger)]).count, 0)
        XCTAssertEqual(sw.counters.drops(port: uplink, .unknownVTEP), 1)
        XCTAssertEqual(sw.counters.drops(bd: sw.bridgeDomains.index(of: vniA)!, .unknownVTEP), 1)
        XCTAssertNil(sw.vteps.index(of: stranger), "no VTEP created")
        XCTAssertNil(sw.fdb.lookup(bd: 0, mac: macD), "nothing learned")
        XCTAssertEqual(io.freeCount, io.frameCount)

        // A worker (the owner gives out VTEPs) reports nothing either.
        sw.createsVTEPs = false
        _ = pass(&sw, &io, from: uplink, [overlay(from: stranger)])
        let ring = SPSCRing<DataplaneReport>(capacity: 16)
        sw.publishReports(into: ring)
        XCTAssertNil(ring.pop(), "no vtepSeen for an unknown VTEP")
        XCTAssertEqual(sw.counters.drops(.unknownVTEP), 2)

        // A VTEP of a flood list is known: delivered and learned.
        XCTAssertEqual(Set(pass(&sw, &io, from: uplink, [overlay(from: remote4)]).map(\.port)), [p1, p2, trunk])
        XCTAssertEqual(sw.fdb.lookup(bd: 0, mac: macD), .vtep(sw.vteps.index(of: remote4)!))
        // The owner of the tables refuses a report of one too, should one arrive.
        XCTAssertNil(sw.absorb(.vtepSeen(stranger)))
        XCTAssertFalse(sw.apply(.addVTEP(stranger)))
    }

    func testLearnedUnderAnyAgesOut() {
        var (sw, io) = makeSwitch()
        sw.addVNI(vniA, learnRemote: true)
        XCTAssertTrue(sw.apply(.setVTEPAdmission(VTEPAdmission(accept: .any))))
        XCTAssertEqual(Set(pass(&sw, &io, from: uplink, [overlay(from: stranger)], now: 10).map(\.port)), [p1, p2, trunk])
        let v = sw.vteps.index(of: stranger)
        XCTAssertNotNil(v)
        XCTAssertTrue(sw.vteps[v!].learned)
        XCTAssertEqual(sw.vteps.learnedCount, 1)
        XCTAssertEqual(sw.fdb.lookup(bd: 0, mac: macD), .vtep(v!))

        var aging = LearnedVTEPAging()
        XCTAssertEqual(aging.expired(sw, now: 20, idle: 300), [], "a MAC points at it")
        sw.fdb.ageLimit = 300
        XCTAssertEqual(sw.age(now: 311, budget: sw.fdb.slotCount), 1, "its MAC aged out")
        XCTAssertEqual(aging.expired(sw, now: 320, idle: 300), [], "unreferenced from now on")
        XCTAssertEqual(aging.expired(sw, now: 619, idle: 300), [])
        let gone = aging.expired(sw, now: 620, idle: 300)
        XCTAssertEqual(gone, [.ageVTEP(stranger)])
        for u in gone { XCTAssertTrue(sw.apply(u)) }
        XCTAssertNil(sw.vteps.index(of: stranger))
        XCTAssertEqual(sw.vteps.learnedCount, 0)

        // Back again, then named by the control plane (a static entry): promoted, never aged.
        _ = pass(&sw, &io, from: uplink, [overlay(from: stranger)], now: 700)
        XCTAssertTrue(sw.vteps[sw.vteps.index(of: stranger)!].learned)
        XCTAssertTrue(sw.addStaticMAC(vni: vniA, macC, vtep: stranger))
        XCTAssertFalse(sw.vteps[sw.vteps.index(of: stranger)!].learned)
        XCTAssertEqual(sw.vteps.learnedCount, 0)
        XCTAssertFalse(sw.apply(.ageVTEP(stranger)), "a known VTEP does not age")

        // Back to `known`: learned VTEPs go, known ones stay.
        let other = IPAddress("10.9.9.10")!
        _ = pass(&sw, &io, from: uplink, [overlay(from: other, src: macB)], now: 710)
        XCTAssertNotNil(sw.vteps.index(of: other))
        XCTAssertTrue(sw.apply(.setVTEPAdmission(VTEPAdmission(accept: .known))))
        XCTAssertNil(sw.vteps.index(of: other))
        XCTAssertNotNil(sw.vteps.index(of: stranger))
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    /// 10,000 spoofed source VTEPs under `accept: any`: `max-learned` of them get an index, the
    /// rest are dropped (`vtep_limit`), and flood lists, static entries and EVPN routes still find room.
    func testSpoofedStormLeavesRoomForControlPlane() {
        var sw = SwitchPipeline(underlay: testUnderlay(), maxPorts: 8, maxBridgeDomains: 8, fdbCapacity: 16384)
        var io = SyntheticFrameIO(frameCount: 256)
        sw.addVNI(vniA, learnRemote: true)
        sw.setPort(p1, PortConfig(kind: .access(vniA)))
        XCTAssertTrue(sw.apply(.setVTEPAdmission(VTEPAdmission(accept: .any, maxLearned: 1024))))
        for chunk in stride(from: 0, to: 10_000, by: 100) {
            let frames = (chunk..<chunk + 100).map { i in
                overlay(from: IPAddress(v4: 0x0B00_0000 | UInt32(i)), src: MACAddress(raw: 0x0200_0000_0000 | UInt64(i)))
            }
            _ = pass(&sw, &io, from: uplink, frames)
        }
        XCTAssertEqual(sw.vteps.learnedCount, 1024)
        XCTAssertEqual(sw.counters.drops(.vtepLimit), 10_000 - 1024)
        XCTAssertEqual(sw.counters.drops(port: uplink, .vtepLimit), 10_000 - 1024)
        XCTAssertEqual(io.freeCount, io.frameCount)

        // The control plane's VTEPs: every index the learned ones may not take.
        for i in 0..<(sw.vteps.capacity - 1024 - 2) {
            XCTAssertTrue(sw.addFloodVTEP(vni: vniA, IPAddress(v4: 0x0C00_0000 | UInt32(i))), "flood VTEP \(i)")
        }
        XCTAssertTrue(sw.addStaticMAC(vni: vniA, macC, vtep: IPAddress("10.7.0.1")!))
        XCTAssertTrue(sw.installEVPNMAC(vni: vniA, macB, vtep: IPAddress("10.7.0.2")!, sequence: 0))
        // The owner is told of no more (`absorb`), and a worker drops the next new one.
        XCTAssertNil(sw.absorb(.vtepSeen(IPAddress("10.8.0.1")!)))
    }
}

extension VTEPAdmissionTests {
    /// The resolver gives every VTEP its next hop: a learned one stays learned (and ages).
    func testResolvingALearnedVTEPKeepsItLearned() {
        var (sw, io) = makeSwitch()
        sw.addVNI(vniA, learnRemote: true)
        sw.apply(.setVTEPAdmission(VTEPAdmission(accept: .any)))
        _ = pass(&sw, &io, from: uplink, [overlay(from: stranger)])
        XCTAssertTrue(sw.apply(.setNextHop(stranger, nextHopMAC)))
        XCTAssertTrue(sw.vteps[sw.vteps.index(of: stranger)!].learned)
        XCTAssertEqual(sw.vteps.learnedCount, 1)
    }
}
