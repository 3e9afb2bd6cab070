import Foundation
import VXConfig
import VXLabKit
import VXSwitch
import XCTest

/// Issue 3, test 4: a VM moves from hv2 (FRR + kernel bridge) to hv1 (vxsw), the way a live
/// migration does it: the VM resumes on hv1 (same MAC, same address) while hv2's bridge still
/// has its MAC; hv2's port goes away afterwards. vxsw learns the MAC locally and advertises it
/// with a higher MAC mobility sequence (RFC 7432 §15), FRR takes the move (remote at hv1 with
/// that sequence, kernel FDB towards hv1), and traffic follows.
///
/// ```
///  vm11 (VNI 1000)                                 vm21 (VNI 1000)   vmm (VNI 1000, 02:00:00:00:77:01)
///   hv1: vxsw 198.18.0.1  <── iBGP, underlay ──>   hv2: FRR, br1000 + vx1000, 198.18.0.2
///   tapm  <───────────── vmm moves here ────────── tapm
/// ```
final class EVPNMobilityTests: XCTestCase {
    func testVMMovesFromFRRHypervisorToVxsw() throws {
        try requireEVPNFabric()
        let f = try makeFabric("mv")
        defer { f.close() }
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1000])
        let hv2 = try f.addNode("hv2", host: 2, kind: .frr, vnis: [1000])
        let vm11 = try f.addVM("vm11", on: "hv1", vni: 1000, address: "198.19.10.11")
        let vm21 = try f.addVM("vm21", on: "hv2", vni: 1000, address: "198.19.10.21")
        let mac = "02:00:00:00:77:01"
        let vmm = try f.addVM("vmm", on: "hv2", vni: 1000, address: "198.19.10.77", mac: mac, tap: "tapm")
        try f.startFRR("hv2", bgpdConfig: f.frrLeafConfig(hv2, peers: [hv1.address]))
        try f.startVxsw("hv1", peers: [hv2.address])
        guard f.expect(30, "vxsw <-> FRR session Established", { f.vxswSessionsUp("hv1") }) else { return }
        func frrMACText() -> String { (try? hv2.frr?.vtysh("show evpn mac vni 1000 mac \(mac) json")) ?? "?" }
        func vxswEVPNMAC() -> JSONValue? {
            f.vxswEVPNMAC("hv1", vni: 1000, mac: mac)
        }

        // Before: vmm lives on hv2; FRR advertises it, vxsw installs it behind hv2.
        for target in [vm21.address, vm11.address] {
            let (ok, summary) = try f.ping(vmm.namespace, target)
            XCTAssertTrue(ok, "before the move: vmm -> \(target): \(summary)")
        }
        guard f.expect(10, "FRR has vmm local: \(frrMACText())", { f.frrMAC("hv2", vni: 1000, mac: mac)?["type"] as? String == "local" }),
              f.expect(10, "vxsw has vmm from EVPN behind hv2", {
                  ((try? f.macs("hv1", vni: 1000)) ?? []).contains { $0.mac == mac && $0.type == "evpn" && $0.vtep == hv2.address }
              }) else { return }
        let seqBefore = UInt32(vxswEVPNMAC()?["remoteSequence"]?.intValue ?? 0)

        // The move: vmm resumes on hv1 (vxsw port tapm, same MAC and address); hv2's tapm stays
        // up with the MAC in its bridge FDB until the source is cleaned up below.
        let moved = try f.moveVM("vmm", to: "hv1", tap: "tapm")
        let (reached, summary) = try f.ping(moved.namespace, vm21.address)
        XCTAssertTrue(reached, "after the move: vmm -> vm21: \(summary)\n\(f.logs())")

        // vxsw: local on tapm, advertised with a sequence above the one FRR used.
        f.expect(10, "vxsw learned vmm locally on tapm") {
            ((try? f.macs("hv1", vni: 1000)) ?? []).contains { $0.mac == mac && $0.port == "tapm" }
        }
        f.expect(10, "vxsw advertises vmm as local with sequence > \(seqBefore): \(vxswEVPNMAC()?.jsonText ?? "-")") {
            guard let entry = vxswEVPNMAC() else { return false }
            return entry["type"]?.stringValue == "local" && UInt32(entry["localSequence"]?.intValue ?? 0) > seqBefore
        }
        let seqAfter = UInt32(vxswEVPNMAC()?["localSequence"]?.intValue ?? 0)

        // FRR: remote at hv1 with the new sequence; zebra points the kernel FDB at hv1.
        f.expect(10, "FRR shows vmm remote at hv1 with sequence \(seqAfter): \(frrMACText())") {
            guard let entry = f.frrMAC("hv2", vni: 1000, mac: mac) else { return false }
            return entry["type"] as? String == "remote" && entry["remoteVtep"] as? String == hv1.address
                && entry["remoteSequence"] as? Int == Int(seqAfter)
        }
        f.expect(10, "hv2's kernel FDB sends vmm's MAC to hv1") {
            let fdb = (try? hv2.namespace.exec(["bridge", "fdb", "show", "dev", "vx1000"]).output) ?? ""
            return fdb.split(separator: "\n").contains { $0.hasPrefix(mac) && $0.contains("dst \(hv1.address)") }
        }

        // The source goes away; traffic follows the VM: from hv2 (across VXLAN) and from hv1 (local).
        try moved.namespace.exec(["ip", "link", "del", vmm.interface])
        for src in [vm21, vm11] {
            let (ok, summary) = try f.ping(src.namespace, moved.address, count: 3)
            XCTAssertTrue(ok, "\(src.name) -> vmm at its new place: \(summary)\n\(f.logs())")
        }
        XCTAssertEqual(f.frrMAC("hv2", vni: 1000, mac: mac)?["remoteVtep"] as? String, hv1.address, "FRR kept vmm at hv1: \(frrMACText())")
        XCTAssertTrue(((try? f.macs("hv1", vni: 1000)) ?? []).contains { $0.mac == mac && $0.port == "tapm" },
                      "vxsw kept vmm local on tapm")
        XCTAssertEqual(f.stopVxsw("hv1"), 0, "vxsw exit status")
    }
}
