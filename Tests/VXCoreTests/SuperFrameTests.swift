import XCTest
@testable import VXCore

/// A guest's super-frame passes whole only tap to tap, within one VNI, when it fits.
final class SuperFrameTests: XCTestCase {
    /// p1, p2 in VNI A and p3 in VNI B take super-frames; macB is learned on p2, macC on p3.
    private func makeTapSwitch(p2MTU: Int = 1500) -> SwitchPipeline {
        var (sw, _) = makeSwitch()
        sw.setPort(p1, PortConfig(kind: .access(vniA), takesSuperFrames: true))
        sw.setPort(p2, PortConfig(kind: .access(vniA), mtu: p2MTU, takesSuperFrames: true))
        sw.setPort(p3, PortConfig(kind: .access(vniB), takesSuperFrames: true))
        let bdA = sw.bridgeDomains.index(of: vniA)!, bdB = sw.bridgeDomains.index(of: vniB)!
        _ = sw.fdb.learnLocal(bd: bdA, mac: macB, port: p2, now: 1)
        _ = sw.fdb.learnLocal(bd: bdB, mac: macC, port: p3, now: 1)
        return sw
    }

    private func destination(_ sw: inout SwitchPipeline, dst: MACAddress, from port: PortID = p1,
                             maxSegment: Int = 1514) -> PortID? {
        let frame = Build.raw(dst: dst, src: macA, count: 200)
        return frame.withUnsafeBytes {
            sw.superFrameDestination($0.baseAddress!, from: port, segments: 45, wireBytes: 65_000, maxSegment: maxSegment, now: 2)
        }
    }

    func testTapToTapInOneVNIGoesWholeAndIsCounted() {
        var sw = makeTapSwitch()
        XCTAssertEqual(destination(&sw, dst: macB), p2)
        XCTAssertEqual(sw.counters.ports[Int(p1.raw)].rxPackets, 45, "counted as its segments")
        XCTAssertEqual(sw.counters.ports[Int(p2.raw)].txBytes, 65_000)
        let bdA = sw.bridgeDomains.index(of: vniA)!
        XCTAssertEqual(sw.fdb.lookup(bd: bdA, mac: macA), .port(p1), "the source is learned")
    }

    func testAnythingElseIsSegmented() {
        var sw = makeTapSwitch(p2MTU: 1400)
        XCTAssertNil(destination(&sw, dst: macB), "segments would not fit p2's MTU")
        sw = makeTapSwitch()
        XCTAssertNil(destination(&sw, dst: macC), "macC is in VNI B: never across VNIs")
        XCTAssertNil(destination(&sw, dst: .broadcast), "flooding goes frame by frame")
        XCTAssertNil(destination(&sw, dst: macD), "unknown destination: flooded")
        XCTAssertNil(destination(&sw, dst: macB, from: p2), "back to the port it came from")
        sw.setPort(p2, PortConfig(kind: .access(vniA)))
        _ = sw.fdb.learnLocal(bd: sw.bridgeDomains.index(of: vniA)!, mac: macB, port: p2, now: 1)
        XCTAssertNil(destination(&sw, dst: macB), "p2 takes only wire-sized frames (AF_XDP)")
        XCTAssertEqual(sw.counters.ports[Int(p1.raw)].rxPackets, 0, "nothing counted when it is segmented instead")
    }
}
