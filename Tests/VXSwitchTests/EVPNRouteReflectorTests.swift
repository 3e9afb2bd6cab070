import Foundation
import VXLabKit
import VXSwitch
import XCTest

/// Issue 3, test 2: two vxsw hypervisors and one FRR hypervisor through an FRR route
/// reflector. vxsw is a leaf (it re-advertises nothing); the RR reflects every VTEP's routes.
///
/// ```
///  vm11 (1000) vm12 (2000)   vm21 (1000) vm22 (2000)   vm31 (1000) vm32 (2000, also 198.19.10.32)
///   hv1: vxsw 198.18.0.1      hv2: FRR + kernel 198.18.0.2   hv3: vxsw 198.18.0.3
///        \_____________________________ | _______________________________/
///                  underlay bridge, 198.18.0.0/24 — rr: FRR route reflector 198.18.0.254
/// ```
final class EVPNRouteReflectorTests: XCTestCase {
    func testTwoVxswAndOneFRRHypervisorThroughARouteReflector() throws {
        try requireEVPNFabric()
        let f = try makeFabric("rr")
        defer { f.close() }
        let rr = try f.addNode("rr", host: 254, kind: .routeReflector)
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1000, 2000])
        let hv2 = try f.addNode("hv2", host: 2, kind: .frr, vnis: [1000, 2000])
        let hv3 = try f.addNode("hv3", host: 3, kind: .vxsw, vnis: [1000, 2000])
        for (hv, n) in [("hv1", 1), ("hv2", 2), ("hv3", 3)] {
            try f.addVM("vm\(n)1", on: hv, vni: 1000, address: "198.19.10.\(n)1")
            try f.addVM("vm\(n)2", on: hv, vni: 2000, address: "198.19.20.\(n)2")
        }
        // The leak detector: an address of VNI 1000's subnet that lives only in VNI 2000, on hv3.
        try f.vm("vm32").namespace.exec(["ip", "addr", "add", "198.19.10.32/24", "dev", "eth0"])

        let hvs = [hv1, hv2, hv3]
        try f.startFRR("rr", bgpdConfig: f.frrRouteReflectorConfig(rr, clients: hvs.map(\.address)))
        try f.startFRR("hv2", bgpdConfig: f.frrLeafConfig(hv2, peers: [rr.address]))
        try f.startVxsw("hv1", peers: [rr.address])
        try f.startVxsw("hv3", peers: [rr.address])

        // Sessions: each hypervisor has exactly one, to the RR.
        f.expect(30, "RR sessions to hv1, hv2, hv3 Established") { f.routeReflectorSessionsUp(rr, hvs) }
        XCTAssertTrue(f.vxswSessionsUp("hv1") && f.vxswSessionsUp("hv3"))

        // Type-3 routes through the RR: each VTEP floods to the two others, in both VNIs.
        for (name, others) in [("hv1", [hv2, hv3]), ("hv3", [hv1, hv2])] {
            f.expect(20, "\(name)'s flood lists are the two other VTEPs: \((try? f.vniViews(name)).map { "\($0)" } ?? "?")") {
                guard let vnis = try? f.vniViews(name) else { return false }
                return [UInt32(1000), 2000].allSatisfy { v in
                    Set(vnis.first { $0.vni == v }?.floodList ?? []) == Set(others.map(\.address))
                }
            }
        }
        f.expect(20, "FRR on hv2 has hv1 and hv3 as remote VTEPs of VNI 1000 and 2000") {
            [UInt32(1000), 2000].allSatisfy { Set(f.frrRemoteVTEPs("hv2", vni: $0)) == [hv1.address, hv3.address] }
        }

        // Every VM of a VNI reaches every other one: vxsw<->vxsw and vxsw<->FRR, both ways.
        for vni in [UInt32(1000), 2000] {
            let members = f.vms.filter { $0.vni == vni }
            for a in members {
                for b in members where a.name != b.name {
                    let (ok, summary) = try f.ping(a.namespace, b.address)
                    XCTAssertTrue(ok, "VNI \(vni): \(a.name) (\(a.node)) -> \(b.name) (\(b.node)): \(summary)\n\(f.logs())")
                }
            }
        }

        // A VNI reaches only its own VMs: 198.19.10.32 is in VNI 2000 (hv3); no VM of VNI 1000
        // reaches it, and no VM of VNI 2000 sees their ARP.
        for src in ["vm11", "vm21", "vm31"].map(f.vm) {
            let (reached, summary) = try f.ping(src.namespace, "198.19.10.32", count: 2)
            XCTAssertFalse(reached, "LEAK: \(src.name) in VNI 1000 reached 198.19.10.32 in VNI 2000: \(summary)")
        }
        for vm in ["vm12", "vm22", "vm32"].map(f.vm) {
            for src in ["vm11", "vm21", "vm31"].map(f.vm) {
                XCTAssertEqual(f.neighbour(vm, src.address), "", "LEAK: \(vm.name) (VNI 2000) saw \(src.name)'s ARP")
            }
        }

        // The tables agree on where each VM lives.
        let vm11 = f.vm("vm11"), vm21 = f.vm("vm21"), vm31 = f.vm("vm31")
        f.expect(10, "hv1's vxsw has vm21 behind hv2 and vm31 behind hv3, from EVPN") {
            let macs = (try? f.macs("hv1", vni: 1000)) ?? []
            return macs.contains { $0.mac == vm21.mac && $0.type == "evpn" && $0.vtep == hv2.address }
                && macs.contains { $0.mac == vm31.mac && $0.type == "evpn" && $0.vtep == hv3.address }
                && macs.contains { $0.mac == vm11.mac && $0.port == vm11.tap }
        }
        f.expect(10, "hv3's vxsw has vm11 behind hv1 and vm21 behind hv2, from EVPN") {
            let macs = (try? f.macs("hv3", vni: 1000)) ?? []
            return macs.contains { $0.mac == vm11.mac && $0.type == "evpn" && $0.vtep == hv1.address }
                && macs.contains { $0.mac == vm21.mac && $0.type == "evpn" && $0.vtep == hv2.address }
        }
        f.expect(10, "FRR on hv2 has vm11 remote at hv1 and vm31 remote at hv3: \((try? hv2.frr?.vtysh("show evpn mac vni 1000 mac \(vm11.mac) json")) ?? "?")") {
            f.frrMAC("hv2", vni: 1000, mac: vm11.mac)?["remoteVtep"] as? String == hv1.address
                && f.frrMAC("hv2", vni: 1000, mac: vm31.mac)?["remoteVtep"] as? String == hv3.address
        }
        // VNI 2000's MACs stay in VNI 2000.
        let vni1000 = Set(((try? f.macs("hv1", vni: 1000)) ?? []).map(\.mac))
        for vm in ["vm12", "vm22", "vm32"].map(f.vm) {
            XCTAssertFalse(vni1000.contains(vm.mac), "\(vm.name) (VNI 2000) appears in hv1's VNI 1000 table")
        }

        XCTAssertEqual(f.stopVxsw("hv1"), 0, "vxsw on hv1 exit status")
        XCTAssertEqual(f.stopVxsw("hv3"), 0, "vxsw on hv3 exit status")
    }
}
