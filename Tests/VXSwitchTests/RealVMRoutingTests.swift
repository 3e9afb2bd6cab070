import Foundation
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// Routing on the host with real qemu guests (default virtio-net offloads, TSO on) instead of
/// veths: two guests in two subnets of one tenant VRF on hv1's vxsw, each on a tap, default
/// route via its VNI's anycast gateway. A guest's TSO super-frame to the gateway MAC is cut
/// into segments and each is routed (TTL − 1); TCP between the subnets carries checked bytes.
///
///     g1 10.1.0.10 ── tap1 (VNI 1000, gw .1) ─┐
///                                             ├ hv1: vxsw, VRF tenant1 (L3 VNI 5000)
///     g3 10.2.0.30 ── tap3 (VNI 2000, gw .1) ─┘
final class RealVMRoutingTests: XCTestCase {
    override func setUpWithError() throws {
        try RealVMRig.skipUnlessAvailable()
    }

    func testGuestsInTwoSubnetsAreRoutedThroughTheAnycastGateway() throws {
        let (rig, workDir) = try RealVMRig.withRemoteBridge(tag: "rt")
        defer { rig.teardown(); try? FileManager.default.removeItem(atPath: workDir) }
        let g1 = try rig.startGuest("g1", in: rig.hv1, tap: "tap1", mac: "52:54:00:79:00:01", ipv4CIDR: "10.1.0.10/24")
        let g3 = try rig.startGuest("g3", in: rig.hv1, tap: "tap3", mac: "52:54:00:79:00:03", ipv4CIDR: "10.2.0.30/24")
        let control = workDir + "/vxsw.ctl", config = workDir + "/vxsw.yaml"
        try """
            vtep: { ipv4: \(rig.hv1Underlay) }
            uplink: { interface: ul0 }
            vnis:
              - { vni: 1000, gateway: { ipv4: 10.1.0.1/24 } }
              - { vni: 2000, gateway: { ipv4: 10.2.0.1/24 } }
            vrfs:
              - { name: tenant1, l3-vni: 5000, vnis: [1000, 2000] }
            ports:
              - { name: tap1, vni: 1000 }
              - { name: tap3, vni: 2000 }
            control: { socket: \(control), metrics: off, state-file: off }

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let binary = try vxswBinary()
        let vxsw = try startSwitchProcess(binary: binary, config: config, socket: control, in: rig.hv1, logPath: workDir + "/vxsw.log")
        defer { _ = vxsw.stop() }
        for tap in ["tap1", "tap3"] { try rig.hv1.exec(["ip", "link", "set", tap, "up"]) }
        for g in [g1, g3] { try g.waitUntilBooted() }
        for g in [g1, g3] { try g.assertTSOOn() }
        _ = try g1.run("ip route add default via 10.1.0.1")
        _ = try g3.run("ip route add default via 10.2.0.1")

        try g1.assertPings("10.1.0.1")
        try g3.assertPings("10.2.0.1")
        try g1.assertPings("10.2.0.30")
        let ttl = try g1.run("ping -c 1 -W 2 10.2.0.30", check: false)
        XCTAssertTrue(ttl.contains("ttl=63"), "routed once by vxsw: \(ttl)")

        // TCP both ways between the subnets: the guests' TSO super-frames to the gateway MAC are
        // segmented and routed; the receiver got the bytes.
        for (from, to, address) in [(g1, g3, "10.2.0.30"), (g3, g1, "10.1.0.10")] {
            let r = try from.tcpThroughput(to: to, serverAddress: address, seconds: 3)
            XCTAssertGreaterThan(r.bytes, 1_000_000, "TCP \(from.name) -> \(address) routed\n\(vxsw.log.suffix(1500))")
            print("routed TCP \(from.name) -> \(address): \(String(format: "%.2f", r.gbps)) Gbit/s, \(r.retransmits) retransmits (TCG guests)")
        }
        let stats = try rig.hv1.exec([binary, "show", "stats", "--json", "--socket", control])
        let view = try JSONDecoder().decode(StatsView.self, from: Data(stats.output.utf8))
        let tap1 = view.taps.first { $0.port == "tap1" }?.counters
        XCTAssertGreaterThan(tap1?.rxSuperFrames ?? 0, 0, "g1 sent TSO super-frames, which were segmented and routed")
        XCTAssertTrue(vxsw.isRunning, vxsw.log)
    }
}
