import Foundation
import VXCore
import VXLabKit
import VXSwitch
import XCTest

/// VTEP admission end to end (issue 10, "hostile neighbours"): hv2, a kernel VTEP in vxsw's
/// flood list, keeps working while a spoofer — a namespace routed behind hv2 with its own
/// kernel vxlan device in VNI 1000, at 198.18.5.2, which vxsw was never told of — gets every
/// frame dropped and counted (`unknown_vtep`, on the uplink and in VNI 1000, in `show stats`
/// and the metrics), and nothing of it reaches vm11. `vxsw reload` to `accept: any` then
/// takes it as a learned VTEP; back to `known`, it is gone again.
final class VTEPAdmissionLabTests: XCTestCase {
    let spooferMAC = "02:5f:00:00:00:01"

    func testUnknownVTEPIsDroppedWhileTheListedPeerWorks() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
        let env = try RunningLab(tag: "va", metrics: "127.0.0.1:9469")
        defer { env.close() }
        let spoofer = try NetworkNamespace("\(env.lab.hv1.name.dropLast(4))-spf")
        defer { spoofer.remove() }
        try addVeth("sp0", in: spoofer, "spx0", in: env.lab.hv2)
        try env.lab.hv2.exec(["ip", "addr", "add", "198.18.5.1/24", "dev", "spx0"])
        try env.lab.hv2.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        try spoofer.exec(["ip", "addr", "add", "198.18.5.2/24", "dev", "sp0"])
        try spoofer.exec(["ip", "route", "add", "198.18.0.0/24", "via", "198.18.5.1"])
        try spoofer.exec(["ip", "link", "add", "vxs", "type", "vxlan", "id", "1000", "local", "198.18.5.2",
                          "remote", "198.18.0.1", "dstport", "4789"])
        try spoofer.exec(["ip", "link", "set", "vxs", "address", spooferMAC, "up"])
        try spoofer.exec(["ip", "addr", "add", "198.19.10.66/24", "dev", "vxs"])
        // hv1's way back to it (used only once `accept: any` learned it).
        try env.lab.hv1.exec(["ip", "route", "add", "198.18.5.0/24", "via", "198.18.0.2"])

        let vm11 = env.lab.vm("vm11")
        XCTAssertTrue(try env.scenario.ping(vm11.namespace, "198.19.10.21").0, "the listed kernel VTEP works")
        let before = try env.stats()
        let capture = env.workDir + "/tcpdump-vm11-spoofer.txt"
        let tcpdump = try vm11.namespace.spawn(["tcpdump", "-i", "eth0", "-n", "-e", "-l", "-p", "ether src \(spooferMAC)"],
                                               logPath: capture)
        defer { _ = tcpdump.stop(grace: 1) }
        XCTAssertTrue(waitUntil(timeout: 5) { tcpdump.log.contains("listening on") }, tcpdump.log)

        // The spoofer's ARP requests for vm11 go to hv1 as VXLAN from 198.18.5.2.
        XCTAssertFalse(try env.scenario.ping(spoofer, "198.19.10.11").0, "no answer through vxsw")
        func dropped(_ s: StatsView) -> (total: UInt64, uplink: UInt64, vni: UInt64) {
            (s.drops["unknown_vtep"] ?? 0, s.ports.first { $0.kind == "uplink" }?.drops["unknown_vtep"] ?? 0,
             s.vnis.first { $0.vni == 1000 }?.drops["unknown_vtep"] ?? 0)
        }
        var after = before
        XCTAssertTrue(waitUntil(timeout: 5) {
            guard let s = try? env.stats() else { return false }
            after = s
            return dropped(s).total - dropped(before).total >= 3
        }, "unknown_vtep before \(before.drops) after \(after.drops)")
        let counts = dropped(after)
        XCTAssertEqual(counts.uplink - dropped(before).uplink, counts.total - dropped(before).total, "counted on the uplink")
        XCTAssertEqual(counts.vni - dropped(before).vni, counts.total - dropped(before).total, "counted in VNI 1000")
        XCTAssertFalse(after.vteps.contains { $0.address == "198.18.5.2" }, "no VTEP created: \(after.vteps)")
        XCTAssertFalse(try env.macs().contains { $0.mac == spooferMAC }, "nothing learned")
        let metrics = try metricsPage(in: env.lab.hv1)
        XCTAssertTrue(metrics.contains(#"vxsw_port_drops_total{port="ul0",reason="unknown_vtep"}"#), metrics)
        XCTAssertTrue(metrics.contains(#"vxsw_vni_drops_total{vni="1000",reason="unknown_vtep"}"#), metrics)
        XCTAssertTrue(try env.scenario.ping(vm11.namespace, "198.19.10.21").0, "still forwarding for the listed peer")
        _ = tcpdump.stop(grace: 1)
        XCTAssertFalse(tcpdump.log.contains(spooferMAC), "nothing of the spoofer reached vm11: \(tcpdump.log)")

        // `vxsw reload` to `accept: any`: the spoofer's VTEP is learned and its frames delivered.
        let path = env.workDir + "/vxsw.yaml"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        try original.replacingOccurrences(of: "udp-port: 4789", with: "udp-port: 4789\n  accept: any\n  max-learned: 8")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let reload = try env.vxsw(["reload"])
        XCTAssertTrue(reload.succeeded, reload.error)
        XCTAssertTrue(reload.output.contains("vtep accept: any"), reload.output)
        XCTAssertTrue(try env.scenario.ping(spoofer, "198.19.10.11").0, "accept: any takes it")
        XCTAssertTrue(try env.stats().vteps.contains { $0.address == "198.18.5.2" && $0.learned == true }, "learned VTEP listed")
        XCTAssertTrue(try metricsPage(in: env.lab.hv1).contains("vxsw_vteps_learned 1\n"))
        // Back to `known`: the learned VTEP goes at once, and its frames are dropped again.
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertTrue(try env.vxsw(["reload"]).succeeded)
        XCTAssertFalse(try env.stats().vteps.contains { $0.address == "198.18.5.2" })
        XCTAssertFalse(try env.scenario.ping(spoofer, "198.19.10.11", count: 2).0)
        XCTAssertTrue(env.scenario.isSwitchRunning, env.scenario.switchLog)
    }
}
