import Foundation
import VXLab
import VXLabKit
import VXConfig
import VXEVPN
import VXSwitch
import XCTest

/// Issue 12: vxsw learns its VMs' IPs from their ARP/ND and advertises MAC/IP routes for them,
/// against a real FRR 8.4 VTEP. vm11's ARP and neighbour solicitation give FRR a MAC/IP route
/// (`show bgp l2vpn evpn route type macip`) and a remote neighbour (`show evpn arp-cache vni
/// 1000`). A floating IP (198.19.10.50) that FRR's side had (hv2's zebra learns it at vm21's MAC)
/// moves onto vm11: vxsw's route carries FRR's sequence + 1 and FRR follows. Flapping it back
/// and forth makes vxsw find the IP duplicate (max-moves 3), per IP: the MAC did not move. After
/// `vxsw bgp restart` the new speaker advertises the local IPs again.
///
/// ```
///  vm11 198.19.10.11, fd00:10::11 (later .50)        vm21 198.19.10.21, fd00:10::21
///   hv1: vxsw 198.18.0.1   <── iBGP, underlay ──>    hv2: FRR, br1000 (SVI 198.19.10.2) + vx1000
/// ```
final class EVPNLocalNeighborTests: XCTestCase {
    let floating = "198.19.10.50"

    func testLocalIPsReachFRRAndAFloatingIPMovesWithAHigherSequence() throws {
        try requireEVPNFabric()
        let f = try makeFabric("lip")
        defer { f.close() }
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1000])
        let hv2 = try f.addNode("hv2", host: 2, kind: .frr, vnis: [1000])
        let vm11 = try f.addVM("vm11", on: "hv1", vni: 1000, address: "198.19.10.11")
        let vm21 = try f.addVM("vm21", on: "hv2", vni: 1000, address: "198.19.10.21")
        // An SVI address: zebra learns hv2's local neighbours from the kernel's neighbour table.
        try hv2.namespace.exec(["ip", "addr", "add", "198.19.10.2/24", "dev", "br1000"])
        try f.startFRR("hv2", bgpdConfig: f.frrLeafConfig(hv2, peers: [hv1.address]))
        try f.startVxsw("hv1", peers: [hv2.address], bgpExtra: "  dup-addr-detection: { max-moves: 3, time: 180 }")
        guard f.expect(30, "vxsw <-> FRR session Established", { f.vxswSessionsUp("hv1") }) else { return }

        // vm11 ARPs for vm21 and solicits fd00:10::21: vxsw learns both of vm11's IPs.
        for (vm, v6) in [(vm11, "fd00:10::11"), (vm21, "fd00:10::21")] {
            try vm.namespace.exec(["ip", "-6", "addr", "add", "\(v6)/64", "dev", "eth0", "nodad"])
        }
        let (ok, summary) = try f.ping(vm11.namespace, vm21.address)
        XCTAssertTrue(ok, "vm11 -> vm21: \(summary)")
        _ = try? vm11.namespace.exec(["ping", "-6", "-c", "2", "-W", "1", "fd00:10::21"], check: false)
        for ip in [vm11.address, "fd00:10::11"] {
            f.expect(20, "FRR has vxsw's MAC/IP route for \(ip): \(frr(f, "show bgp l2vpn evpn route type macip"))") {
                self.frrRoute(f, mac: vm11.mac, ip: ip) != nil
            }
            f.expect(20, "FRR's arp-cache has \(ip) remote at vm11's MAC: \(frr(f, "show evpn arp-cache vni 1000"))") {
                let n = self.frrARP(f, ip)
                return n?["type"] as? String == "remote" && n?["mac"] as? String == vm11.mac && n?["remoteVtep"] as? String == hv1.address
            }
            XCTAssertEqual(vxswARP(f, ip)?["type"]?.stringValue, "local", "vxsw's arp-cache lists \(ip) as local")
        }
        let text = try f.control("hv1", ["show", "evpn", "arp-cache", "vni", "1000"])
        XCTAssertTrue(text.output.contains("Number of ARPs (local and remote) known for this VNI:"), text.output)
        // FRR's `vni all`: every VNI's object under its number, the text under a heading per VNI.
        let all = try f.show("hv1", ["evpn", "arp-cache", "vni", "all"])
        XCTAssertNotNil(all["1000"]?["numArpNd"], "show evpn arp-cache vni all --json: \(all)")
        let allText = try f.control("hv1", ["show", "evpn", "arp-cache", "vni", "all"]).output
        XCTAssertTrue(allText.contains("VNI 1000 #ARP (IPv4 and IPv6, local and remote)"), allText)

        // The floating IP on FRR's side first: zebra learns it at vm21's MAC (seq 0), vxsw has it remote.
        try vm21.namespace.exec(["ip", "addr", "add", "\(floating)/24", "dev", "eth0"])
        func zebraLearns(_ mac: String) throws {
            try hv2.namespace.exec(["ip", "neigh", "replace", floating, "lladdr", mac, "dev", "br1000", "nud", "reachable"])
        }
        try zebraLearns(vm21.mac)
        guard f.expect(20, "vxsw has \(floating) remote at vm21's MAC: \(vxswARP(f, floating)?.jsonText ?? "-")", {
            self.vxswARP(f, self.floating)?["mac"]?.stringValue == vm21.mac
        }) else { return }

        // It moves onto vm11 (an ARP from the new address): vxsw's route has FRR's sequence + 1.
        func moveToVM11() throws {
            _ = try vm21.namespace.exec(["ip", "addr", "del", "\(floating)/24", "dev", "eth0"], check: false)
            _ = try vm11.namespace.exec(["ip", "addr", "add", "\(floating)/24", "dev", "eth0"], check: false)
            try vm11.namespace.exec(["ip", "neigh", "flush", "dev", "eth0"])
            _ = try vm11.namespace.exec(["ping", "-c", "1", "-W", "1", "-I", floating, vm21.address], check: false)
        }
        try moveToVM11()
        let remoteSeq = Int(vxswARP(f, floating)?["remoteSequence"]?.intValue ?? -1)
        f.expect(20, "vxsw advertises \(floating) at vm11's MAC with MM:\(remoteSeq + 1): \(vxswRouteText(f))") {
            self.vxswSeq(f, mac: vm11.mac, ip: self.floating) == remoteSeq + 1 && remoteSeq >= 0
        }
        f.expect(20, "FRR follows: \(floating) remote at vm11's MAC: \(frr(f, "show evpn arp-cache vni 1000"))") {
            let n = self.frrARP(f, self.floating)
            return n?["mac"] as? String == vm11.mac && n?["type"] as? String == "remote"
        }
        XCTAssertEqual(vxswARP(f, floating)?["type"]?.stringValue, "local")

        // Back to FRR's side (zebra's local learn, sequence + 1: vxsw withdraws its route), then
        // onto vm11 again: the third move within the window makes the IP a duplicate on vxsw.
        _ = try vm11.namespace.exec(["ip", "addr", "del", "\(floating)/24", "dev", "eth0"], check: false)
        try vm21.namespace.exec(["ip", "addr", "add", "\(floating)/24", "dev", "eth0"])
        try zebraLearns(vm21.mac)
        guard f.expect(20, "vxsw has \(floating) back behind hv2: \(vxswARP(f, floating)?.jsonText ?? "-")", {
            self.vxswARP(f, self.floating)?["mac"]?.stringValue == vm21.mac
        }) else { return }
        XCTAssertNil(vxswSeq(f, mac: vm11.mac, ip: floating), "vxsw withdrew its MAC/IP route for \(floating)")
        try moveToVM11()
        f.expect(20, "vxsw finds \(floating) duplicate: \(vxswARP(f, floating)?.jsonText ?? "-")") {
            self.vxswARP(f, self.floating)?["isDuplicate"]?.boolValue == true
        }
        XCTAssertGreaterThanOrEqual(vxswARP(f, floating)?["detectionCount"]?.intValue ?? 0, 3)
        XCTAssertTrue((f.node("hv1").vxsw?.log ?? "").contains("IP \(floating) detected as duplicate during"), "logged as FRR does")
        XCTAssertNotEqual(f.vxswEVPNMAC("hv1", vni: 1000, mac: vm11.mac)?["isDuplicate"]?.boolValue, true, "per IP: the MAC did not move")

        // A control-plane restart: the new speaker takes the local IPs the workers reported before
        // (they report each once), so FRR gets vm11's MAC/IP routes again.
        let restart = try f.control("hv1", ["bgp", "restart"])
        XCTAssertTrue(restart.succeeded, "vxsw bgp restart: \(restart.output) \(restart.error)")
        f.expect(30, "after vxsw bgp restart, FRR has vm11's MAC/IP route again: \(frr(f, "show bgp l2vpn evpn route type macip"))") {
            f.vxswSessionsUp("hv1") && self.vxswSeq(f, mac: vm11.mac, ip: vm11.address) != nil
                && self.frrRoute(f, mac: vm11.mac, ip: vm11.address) != nil
        }
        XCTAssertEqual(f.stopVxsw("hv1"), 0, "vxsw exit status")
    }

    func frr(_ f: EVPNFabric, _ command: String) -> String { (try? f.node("hv2").frr?.vtysh(command)) ?? "?" }

    func frrJSON(_ f: EVPNFabric, _ command: String) -> [String: Any]? {
        guard let text = try? f.node("hv2").frr?.vtysh(command + " json") else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    /// FRR's route [2]:[0]:[48]:[MAC]:[32|128]:[IP] (any RD): its first path's extended communities.
    func frrRoute(_ f: EVPNFabric, mac: String, ip: String) -> String? {
        let key = "[2]:[0]:[48]:[\(mac)]:[\(ip.contains(":") ? 128 : 32)]:[\(ip)]"
        for case let rd as [String: Any] in (frrJSON(f, "show bgp l2vpn evpn route type macip") ?? [:]).values {
            guard let route = rd[key] as? [String: Any], let paths = route["paths"] as? [[Any]] else { continue }
            let path = paths.first?.first as? [String: Any]
            return ((path?["extendedCommunity"] as? [String: Any])?["string"] as? String) ?? ""
        }
        return nil
    }

    func frrARP(_ f: EVPNFabric, _ ip: String) -> [String: Any]? {
        frrJSON(f, "show evpn arp-cache vni 1000")?[ip] as? [String: Any]
    }

    func vxswARP(_ f: EVPNFabric, _ ip: String) -> JSONValue? {
        (try? f.show("hv1", ["evpn", "arp-cache", "vni", "1000"]))?[ip]
    }

    /// The MAC mobility sequence of vxsw's own MAC/IP route (0 without the community), nil: none.
    func vxswSeq(_ f: EVPNFabric, mac: String, ip: String) -> Int? {
        guard let r = f.vxswRoutes("hv1", ["type", "macip"]).first(where: { $0.local && $0.mac == mac && $0.ip == ip }) else { return nil }
        let mm = r.extendedCommunities.first { $0.hasPrefix("MM:") }
        return mm.map { Int($0.dropFirst(3).prefix { $0.isNumber }) ?? -1 } ?? 0
    }

    func vxswRouteText(_ f: EVPNFabric) -> String {
        f.vxswRoutes("hv1", ["type", "macip"]).map { "\($0.mac ?? "-") \($0.ip ?? "-") \($0.extendedCommunities)" }.joined(separator: "; ")
    }
}
