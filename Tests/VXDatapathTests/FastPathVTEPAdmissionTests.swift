import VXCore
import XCTest

/// VTEP admission in the fast path: XDP never decapsulates from a VTEP the switch does not
/// know, whatever inner source MAC the frame claims; it hands the frame to the engine, which
/// drops and counts it (`unknown_vtep`). Under `accept: any`, a VTEP learned by the engine is
/// mirrored like any other, and what has aged out is gone from the maps too.
extension FastPathXDPTests {
    func testUnknownVTEPIsNeverDecapsulated() throws {
        let spoofer4 = IPAddress("198.18.0.66")!, spoofer6 = IPAddress("fd00:18::66")!
        // macR4 / macR6 are known at 198.18.0.2 / fd00:18::2; a spoofer claims them.
        try assertDropped(vxlan(icmpFrame(dst: macA, src: macR4), from: spoofer4), from: uplink, .unknownVTEP)
        try assertDropped(vxlan(ipv4Frame(dst: macA, src: macR6, payload: 100), from: spoofer6), from: uplink, .unknownVTEP)
        try assertDropped(vxlan(icmpFrame(dst: macA, src: stranger), from: spoofer4), from: uplink, .unknownVTEP)
        XCTAssertNil(pipeline.vteps.index(of: spoofer4), "the engine created no VTEP")
        // The legitimate VTEP still takes the fast path.
        try assertIdentical(vxlan(icmpFrame(dst: macA, src: macR4)), from: uplink, counter: "fast_decap")

        // Under `any` the engine learns the spoofer and its MAC; only then is it in the maps.
        XCTAssertTrue(pipeline.apply(.setVTEPAdmission(VTEPAdmission(accept: .any))))
        pipeline.addVNI(VNI(1000)!, learnRemote: true)
        let learnedMAC = MACAddress(0x02, 0, 0, 0, 0x66, 0x66)
        XCTAssertEqual(runSwift(vxlan(icmpFrame(dst: macA, src: learnedMAC), from: spoofer4), from: uplink).map(\.port), [p1])
        XCTAssertTrue(pipeline.vteps[pipeline.vteps.index(of: spoofer4)!].learned)
        pipeline.setNextHop(vtep: spoofer4, nextHop)
        try assertIdentical(vxlan(icmpFrame(dst: macA, src: learnedMAC), from: spoofer4), from: uplink, counter: "fast_decap")
        // Aged out (and `known` again): not decapsulated here any more.
        XCTAssertTrue(pipeline.apply(.ageVTEP(spoofer4)))
        XCTAssertTrue(pipeline.apply(.setVTEPAdmission(VTEPAdmission(accept: .known))))
        try assertDropped(vxlan(icmpFrame(dst: macA, src: learnedMAC), from: spoofer4), from: uplink, .unknownVTEP)
    }
}
