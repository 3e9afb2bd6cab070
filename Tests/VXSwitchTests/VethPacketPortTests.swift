import Foundation
import VXLab
import VXLabKit
import VXCore
import VXSwitch
import XCTest

/// A container's veth as a packet-socket port (`--io packet`): no XDP program on it, so its
/// peer keeps GSO and the container's TCP super-frames arrive whole, as a guest's do.
final class VethPacketPortTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
    }

    func testVethWithPacketIOCarriesGSOSuperFramesBothWays() throws {
        try checkSuperFramesBothWays(underlay: .ipv4, tag: "v")
    }

    /// Over an IPv6 underlay the tunnel GSO packets carry a partial outer UDP checksum the kernel completes per segment.
    func testSuperFramesToTheRemoteVTEPOverIPv6() throws {
        try checkSuperFramesBothWays(underlay: .ipv6, tag: "v6")
    }

    private func checkSuperFramesBothWays(underlay: LabTopology.Underlay, tag: String) throws {
        let env = try RunningLab(underlay: underlay, tag: tag)
        defer { env.close() }
        let c1 = try env.addVM("c1", tap: "vc1", address: "198.19.10.31")
        defer { c1.remove() }
        let add = try env.vxsw(["port", "add", "vc1", "--vni", "1000", "--io", "packet"])
        XCTAssertTrue(add.succeeded, add.error)
        XCTAssertFalse(try env.xdpAttached("vc1"), "a packet-socket port has no XDP program")
        let gso = try c1.exec(["ethtool", "-k", "eth0"]).output
        XCTAssertTrue(gso.contains("tcp-segmentation-offload: on"), "the container's veth keeps TSO:\n\(gso)")
        XCTAssertTrue(try env.scenario.ping(c1, "198.19.10.21").0)

        let server = try env.lab.vm("vm21").namespace.spawn(["iperf3", "-s", "-1", "-B", "198.19.10.21"], logPath: env.workDir + "/iperf-c1.log")
        defer { server.stop(grace: 1) }
        _ = waitUntil(timeout: 3) { (try? env.lab.vm("vm21").namespace.exec(["ss", "-ltn", "sport = :5201"]).output.contains("5201")) == true }
        let up = try c1.exec(["iperf3", "-c", "198.19.10.21", "-t", "2", "--connect-timeout", "3000"], check: false)
        XCTAssertTrue(up.succeeded, up.output + up.error)
        let server2 = try c1.spawn(["iperf3", "-s", "-1", "-B", "198.19.10.31"], logPath: env.workDir + "/iperf-c1b.log")
        defer { server2.stop(grace: 1) }
        _ = waitUntil(timeout: 3) { (try? c1.exec(["ss", "-ltn", "sport = :5201"]).output.contains("5201")) == true }
        let down = try env.lab.vm("vm21").namespace.exec(["iperf3", "-c", "198.19.10.31", "-t", "2", "--connect-timeout", "3000"], check: false)
        XCTAssertTrue(down.succeeded, down.output + down.error)

        let stats = try env.stats()
        let counters = try XCTUnwrap(stats.taps.first { $0.port == "vc1" }?.counters, "vc1 listed among the tap ports")
        let upThroughGRO = stats.xdp["fast_decap_tap", default: 0]
        let tunnel = try XCTUnwrap(stats.tunnel)
        XCTAssertEqual(tunnel.counters.refused, 0)
        XCTAssertEqual(stats.xdp["fast_tap_lost"], 0, "the tap path lost nothing")
        if underlay == .ipv4 {
            // Over IPv4 the tap path (BPF/lib/tapfast.h) encapsulates them whole in the kernel.
            XCTAssertGreaterThan(stats.xdp["fast_tap_encap", default: 0], 100, "the container's super-frames went whole through the tap path: \(stats.xdp)")
            // and TCP toward it goes up through the uplink's GRO (BPF/lib/tapgro.h), arriving large.
            XCTAssertGreaterThan(upThroughGRO, 100, "TCP toward the container went up through GRO: \(stats.xdp)")
        } else {
            // Over IPv6 the tap path leaves them to the engine: whole in, whole out through the tunnel tap.
            XCTAssertEqual(stats.xdp["fast_tap_encap", default: 0], 0, "the tap path encapsulates over IPv4 only")
            XCTAssertGreaterThan(counters.rxSuperFrames, 0, "the container's GSO super-frames arrived whole")
            XCTAssertNotNil(tunnel.tap, "a tunnel tap: \(tunnel.unavailable ?? "")")
            XCTAssertGreaterThan(tunnel.counters.superFrames, 0, "super-frames to the remote VTEP went whole")
            // The kernel VTEP's GSO segments carry a partial outer UDP checksum GRO would hand the
            // guest as CHECKSUM_PARTIAL, so the fast path leaves them to the engine, which coalesces.
            XCTAssertGreaterThan(counters.txSuperFrames, 0, "TCP toward the container was coalesced by the engine")
        }
        let port = try XCTUnwrap(stats.ports.first { $0.name == "vc1" })
        // A full queue toward the container is backpressure TCP answers (the kernel's backlog on
        // the veth peer, ENOBUFS), counted as tx_ring_full; the bridge drops there too. Anything
        // else, or more than a trace of it, is a fault.
        let pushedBack = port.drops[DropReason.txRingFull.name] ?? 0
        XCTAssertEqual(port.drops.filter { $0.key != DropReason.txRingFull.name }, [:], "nothing dropped on vc1 but for its full queue")
        // Frames toward vc1 are the engine's and those the fast path sent up through GRO.
        let toward = counters.txFrames + upThroughGRO
        XCTAssertLessThanOrEqual(pushedBack * 100, max(toward, 100), "a full queue toward vc1 is rare: \(pushedBack) of \(toward)")
    }
}
