import VXCore
import VXDatapath
import VXLabKit
import XCTest

/// How the datapath shares the UMEM between sockets and how it attaches, on real veths and
/// macvlans in a namespace of the test's own (the `Wire` processor; no worker thread needed).
final class DatapathFramesTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: creates network namespaces and attaches XDP programs")
    }

    /// The UMEM is shared out to the sockets' fill rings and reserves whatever order the ports
    /// come in: the first ports do not take what later ones need, and frames stay free for
    /// frames in flight. Every frame is back in the pool once the ports are gone.
    func testSocketsShareTheUMEMAndGiveItAllBack() throws {
        let sw = try NetworkNamespace("dpf\(labTag)-sw")
        let peer = try NetworkNamespace("dpf\(labTag)-pe")
        defer { peer.remove(); sw.remove() }
        let names = (0..<6).map { "p\($0)" }
        for n in names { try addVeth(n, in: sw, "e" + n, in: peer) }
        let frames = 2048
        let wire = Wire()
        defer { wire.forwarded.deallocate() }
        try sw.enter {
            let dp = try Datapath(processor: wire, settings: DatapathSettings(frameCount: frames, ringSize: 1024))
            defer { dp.shutdown() }
            for (i, n) in names.enumerated() { _ = try dp.attach(interface: n, as: PortID(UInt16(i)), role: .access) }
            dp.waitUntilApplied()
            let filled = dp.queueCounters.map { Int($0.filled) }
            XCTAssertEqual(filled.count, 6)
            XCTAssertTrue(filled.allSatisfy { $0 > 0 }, "every socket has frames to receive into: \(filled)")
            // 2048 / (2 × 6) = 170 each in the fill ring (and 42 in reserve); ports attached
            // early hold more (theirs shrinks as they receive), but no more than 2048 / 8.
            XCTAssertTrue(filled.allSatisfy { $0 <= frames / 8 }, "\(filled)")
            XCTAssertGreaterThanOrEqual(dp.freeFrames, frames / 8, "frames left for tx and flood copies")
            for i in names.indices { dp.detach(PortID(UInt16(i))) }
            XCTAssertEqual(dp.freeFrames, frames, "every frame back in the pool (reserves too)")
        }
    }

    /// `auto` attaches generic XDP where the driver has no native XDP (a macvlan); `native`
    /// there fails and leaves nothing: the same interface attaches right after, even as the
    /// datapath's very first socket (the UMEM's own, which libxdp never closes).
    func testAutoFallsBackToGenericAndAFailedAttachLeavesNothing() throws {
        let sw = try NetworkNamespace("dpm\(labTag)-sw")
        let peer = try NetworkNamespace("dpm\(labTag)-pe")
        defer { peer.remove(); sw.remove() }
        try addVeth("low", in: sw, "eth0", in: peer)
        try addVeth("v1", in: sw, "eth1", in: peer)
        try sw.exec(["ip", "link", "add", "link", "low", "name", "mv0", "type", "macvlan", "mode", "passthru"])
        try sw.exec(["ip", "link", "set", "mv0", "up"])
        let wire = Wire()
        defer { wire.forwarded.deallocate() }
        try sw.enter {
            let dp = try Datapath(processor: wire, settings: DatapathSettings(frameCount: 4096, ringSize: 1024, attachMode: .auto))
            defer { dp.shutdown() }
            XCTAssertThrowsError(try dp.attach(interface: "mv0", as: PortID(0), role: .access, mode: .native)) { error in
                XCTAssertTrue("\(error)".contains("native"), "\(error)")
            }
            XCTAssertTrue(dp.ports.isEmpty)
            XCTAssertEqual(dp.freeFrames, 4096, "no frame given to a socket of the failed attach")
            let port = try dp.attach(interface: "mv0", as: PortID(0), role: .access)
            XCTAssertEqual(port.attachMode, .generic)
            XCTAssertTrue(try sw.exec(["ip", "-o", "link", "show", "mv0"]).output.contains(" xdpgeneric "))
            let veth = try dp.attach(interface: "v1", as: PortID(1), role: .access)
            XCTAssertEqual(veth.attachMode, .native, "auto on a veth: native")
            dp.detach(PortID(0))
            XCTAssertFalse(try sw.exec(["ip", "-o", "link", "show", "mv0"]).output.contains(" xdpgeneric "), "detached")
        }
    }
}
