import Foundation
import VXLabKit
import VXSwitch
import XCTest

/// Issue 3: ARP suppression. FRR on hv2 advertises vm21 with a MAC/IP type-2 route; vxsw
/// puts the IP in its neighbour table and answers vm11's ARP request for vm21 itself, so the
/// broadcast never crosses the underlay. An address nobody knows still floods (and shows the
/// capture works); vm12's 198.19.10.12 lives in VNI 2000 and is never answered in VNI 1000.
///
/// ```
///  vm11 ── ARP who-has 198.19.10.21 ──▶ vxsw (hv1): "198.19.10.21 is-at vm21's MAC"
///                                         │  neighbour table ◀── MAC/IP route ◀── FRR (hv2)
///                                         ╳  nothing to hv2 / vm21                    ▲
///                                                        hv2's br1000 (198.19.10.2) ── neighbour vm21
/// ```
final class EVPNARPSuppressionTests: XCTestCase {
    func testVxswAnswersARPForHostsFromMACIPRoutes() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
        try XCTSkipUnless(FRRInstance.isInstalled, "needs FRR (tools/install-deps installs it)")
        let env = try RunningLab(controlPlane: .evpn, tag: "arp")
        defer { env.close() }
        let hv2 = env.lab.hv2, vm11 = env.lab.vm("vm11"), vm21 = env.lab.vm("vm21")
        func frr(_ command: String) -> String { (try? env.scenario.frr?.vtysh(command)) ?? "?" }
        func vni1000() -> VNIView? { ((try? env.show(["vni", "1000"]).decode()) as [VNIView]?)?.first }
        func macIPRoutes() -> String { (try? env.show(["bgp", "evpn", "route", "--type", "macip"]).jsonText) ?? "" }
        func diagnostics() -> String {
            return "vxsw MAC/IP routes: \(macIPRoutes())\nFRR arp-cache: \(frr("show evpn arp-cache vni 1000"))\n"
                + "FRR macs: \(frr("show evpn mac vni 1000 detail"))\nvxsw log:\n\(env.scenario.switchLog.suffix(3000))"
        }
        XCTAssertTrue(waitUntil(timeout: 30) {
            (try? env.show(["bgp", "l2vpn", "evpn", "summary"])["peers"]?.objectValue?.values.first?["state"]?.stringValue) == "Established"
        }, "session: \(diagnostics())")

        // zebra advertises MAC/IP for neighbours of the VNI's bridge (its SVI): give br1000 an
        // address and let hv2 resolve vm21.
        try hv2.exec(["ip", "addr", "add", "198.19.10.2/24", "dev", "br1000"])
        _ = try hv2.exec(["ping", "-c", "1", "-W", "2", vm21.address], check: false)
        guard waitUntil(timeout: 20, { macIPRoutes().contains(vm21.address) && (vni1000()?.neighbors ?? 0) > 0 }) else {
            return XCTFail("vxsw never got a MAC/IP route for vm21:\n\(diagnostics())")
        }
        // FRR's spelling, per VNI: vm21's MAC/IP route is in VNI 1000's table, not in VNI 2000's.
        let inVNI = try env.show(["bgp", "l2vpn", "evpn", "route", "vni", "1000", "type", "macip"]).jsonText
        XCTAssertTrue(inVNI.contains(vm21.address), inVNI)
        let otherVNI = try env.show(["bgp", "l2vpn", "evpn", "route", "vni", "2000", "type", "2"]).jsonText
        XCTAssertFalse(otherVNI.contains(vm21.address), otherVNI)

        // Every ARP request from vm11 that reaches vm21 (flooded through hv2's bridge).
        let capture = try vm21.namespace.spawn(["tcpdump", "-i", "eth0", "-Q", "in", "-nn", "-l", "arp and ether src \(vm11.mac) and ether broadcast"],
                                               logPath: env.workDir + "/arp.log")
        defer { capture.stop(grace: 1) }
        XCTAssertTrue(waitUntil(timeout: 3) { capture.log.contains("listening") }, "tcpdump: \(capture.log)")

        try vm11.namespace.exec(["ip", "neigh", "flush", "dev", "eth0"])
        let before = vni1000()?.arpSuppressed ?? 0
        let (ok, summary) = try env.scenario.ping(vm11.namespace, vm21.address, count: 2)
        XCTAssertTrue(ok, "vm11 -> vm21: \(summary)\n\(diagnostics())")
        let neighbour = (try? vm11.namespace.exec(["ip", "neigh", "show", vm21.address]).output) ?? ""
        XCTAssertTrue(neighbour.contains(vm21.mac), "vm11 resolved vm21 to its MAC: \(neighbour)")
        XCTAssertGreaterThan(vni1000()?.arpSuppressed ?? 0, before, "vxsw answered: \(vni1000().map { "\($0)" } ?? "-")")

        // Unknown in VNI 1000 (and 198.19.10.12 exists only in VNI 2000): both flood to vm21.
        for unknown in ["198.19.10.99", "198.19.10.12"] {
            _ = try vm11.namespace.exec(["ping", "-c", "1", "-W", "1", unknown], check: false)
        }
        XCTAssertTrue(waitUntil(timeout: 3) {
            capture.log.contains("who-has 198.19.10.99") && capture.log.contains("who-has 198.19.10.12")
        }, "unknown targets are flooded (and the capture sees them): \(capture.log)")
        XCTAssertFalse(capture.log.contains("who-has \(vm21.address)"),
                       "an ARP request for vm21 crossed to hv2 although vxsw knew the answer:\n\(capture.log)")
        XCTAssertEqual(env.scenario.stopSwitch(), 0, "vxsw exit status")
    }
}
