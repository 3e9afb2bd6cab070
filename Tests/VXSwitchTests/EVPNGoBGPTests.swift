import Foundation
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// Issue 3, test 3: GoBGP injects type-2 and type-3 routes and the running vxsw installs them
/// (`show mac`, `show vni`); GoBGP sees vxsw's own routes — type-3 per VNI and type-2 for a
/// MAC learned from a VM — with the right RD, RT, encapsulation, label and PMSI; withdrawals on
/// either side (gobgp `del`; a vxsw MAC aging out; `vxsw port del`) take effect.
///
/// ```
///  vm11, vm13 (VNI 1000)  vm12 (VNI 2000)
///   hv1: vxsw 198.18.0.1 ──── underlay bridge ──── gobgp: gobgpd 198.18.0.200 (iBGP, AS 65000)
/// ```
final class EVPNGoBGPTests: XCTestCase {
    /// One EVPN path as `gobgp ... -j` prints it.
    struct Route {
        var type: Int
        var rd: String
        var mac: String?
        var labels: [Int]
        var nextHop: String?
        var routeTargets: [String]
        var tunnelType: Int?
        var pmsi: [String: Any]?
        var withdrawal: Bool

        init?(_ path: [String: Any]) {
            guard let nlri = path["nlri"] as? [String: Any], let type = nlri["type"] as? Int,
                  let value = nlri["value"] as? [String: Any], let rd = value["rd"] as? [String: Any] else { return nil }
            self.type = type
            self.rd = "\(rd["admin"] ?? "?"):\(rd["assigned"] ?? "?")"
            mac = value["mac"] as? String
            labels = (value["labels"] as? [Int]) ?? []
            routeTargets = []
            withdrawal = path["withdrawal"] as? Bool ?? false
            for attr in (path["attrs"] as? [[String: Any]]) ?? [] {
                switch attr["type"] as? Int {
                case 14: nextHop = attr["nexthop"] as? String
                case 16:
                    for c in (attr["value"] as? [[String: Any]]) ?? [] {
                        if c["type"] as? Int == 0, c["subtype"] as? Int == 2, let rt = c["value"] as? String { routeTargets.append(rt) }
                        if let t = c["tunnel_type"] as? Int { tunnelType = t }
                    }
                case 22: pmsi = attr
                default: break
                }
            }
        }
    }

    /// gobgpd's global RIB (what it learned from vxsw and what it originated).
    func rib(_ gobgp: GoBGPInstance) -> [Route] {
        guard let table = try? gobgp.gobgpJSON(["global", "rib", "-a", "evpn"]) as? [String: Any] else { return [] }
        return table.values.flatMap { ($0 as? [[String: Any]]) ?? [] }.compactMap(Route.init)
    }

    func testGoBGPInjectsRoutesAndSeesVxswsOwn() throws {
        try requireEVPNFabric(frr: false, gobgp: true)
        let f = try makeFabric("gb")
        defer { f.close() }
        let gb = try f.addNode("gobgp", host: 200, kind: .gobgp)
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1000, 2000])
        let vm11 = try f.addVM("vm11", on: "hv1", vni: 1000, address: "198.19.10.11")
        let vm13 = try f.addVM("vm13", on: "hv1", vni: 1000, address: "198.19.10.13")
        let vm12 = try f.addVM("vm12", on: "hv1", vni: 2000, address: "198.19.20.12")
        let gobgp = try f.startGoBGP("gobgp", neighbors: [.init(address: hv1.address, peerAS: EVPNFabric.asn, passive: false)])
        // iBGP in one AS: vxsw's auto RT (AS:VNI, FRR style) is 65000:1000, which GoBGP uses too.
        // Learned MACs age after 3 s, so that aging can be watched.
        try f.startVxsw("hv1", peers: [gb.address], agingTime: 3)
        let monitor = try gb.namespace.spawn(["gobgp", "-p", String(gobgp.apiPort), "monitor", "global", "rib", "-a", "evpn", "-j", "--current"],
                                             logPath: gb.directory + "/monitor.log")
        defer { monitor.stop(grace: 1) }
        guard f.expect(30, "vxsw <-> gobgpd session Established", {
            f.vxswSessionsUp("hv1") && gobgp.neighborState(hv1.address) == "established"
        }) else { return }

        // GoBGP -> vxsw: a MAC/IP route and an IMET route for VNI 1000 behind a VTEP 198.18.0.77,
        // and a MAC for a VNI vxsw does not have (RT 65000:3000): that one must not be installed.
        let vtep = "198.18.0.77", injected = "02:00:00:0b:00:01", foreign = "02:00:00:0b:00:03"
        try gobgp.gobgp(["global", "rib", "-a", "evpn", "add", "macadv", injected, "198.19.10.99", "etag", "0", "label", "1000",
                         "rd", "\(gb.address):1", "rt", "65000:1000", "encap", "vxlan", "nexthop", vtep])
        try gobgp.gobgp(["global", "rib", "-a", "evpn", "add", "multicast", vtep, "etag", "0", "rd", "\(gb.address):1", "rt", "65000:1000",
                         "encap", "vxlan", "pmsi", "ingress-repl", "1000", vtep, "nexthop", vtep])
        try gobgp.gobgp(["global", "rib", "-a", "evpn", "add", "macadv", foreign, "0.0.0.0", "etag", "0", "label", "3000",
                         "rd", "\(gb.address):3", "rt", "65000:3000", "encap", "vxlan", "nexthop", vtep])
        f.expect(10, "vxsw show mac --vni 1000 lists \(injected) as evpn behind \(vtep)") {
            ((try? f.macs("hv1", vni: 1000)) ?? []).contains { $0.mac == injected && $0.type == "evpn" && $0.vtep == vtep }
        }
        f.expect(10, "vxsw show vni: \(vtep) in VNI 1000's flood list, not in VNI 2000's") {
            guard let vnis = try? f.vniViews("hv1") else { return false }
            return vnis.first { $0.vni == 1000 }?.floodList == [vtep] && vnis.first { $0.vni == 2000 }?.floodList == []
        }
        XCTAssertFalse(((try? f.macs("hv1")) ?? []).contains { $0.mac == foreign }, "route with RT 65000:3000 was installed")

        // vxsw -> GoBGP: type-3 per VNI, at once.
        let evpnVNIs = Array((try f.show("hv1", ["evpn", "vni"]).objectValue ?? [:]).values)
        func rd(_ vni: UInt32) -> String? { evpnVNIs.first { $0["vni"]?.intValue == Int64(vni) }?["rd"]?.stringValue }
        let rd1000 = try XCTUnwrap(rd(1000)), rd2000 = try XCTUnwrap(rd(2000))
        XCTAssertTrue(rd1000.hasPrefix("\(hv1.address):") && rd2000.hasPrefix("\(hv1.address):") && rd1000 != rd2000,
                      "RDs router-id:n, one per VNI: \(rd1000), \(rd2000)")
        f.expect(10, "gobgpd has vxsw's type-3 routes for VNI 1000 and 2000") {
            rib(gobgp).filter { $0.type == 3 && $0.nextHop == hv1.address }.count == 2
        }
        for (vni, rd) in [(1000, rd1000), (2000, rd2000)] {
            let imet = rib(gobgp).first { $0.type == 3 && $0.rd == rd }
            XCTAssertNotNil(imet, "no type-3 with RD \(rd)")
            XCTAssertEqual(imet?.routeTargets, ["65000:\(vni)"])
            XCTAssertEqual(imet?.tunnelType, 8, "encapsulation extended community: VXLAN")
            XCTAssertEqual(imet?.nextHop, hv1.address)
            XCTAssertEqual(imet?.pmsi?["tunnel-type"] as? Int, 6, "PMSI: ingress replication")
            XCTAssertEqual(imet?.pmsi?["label"] as? Int, vni, "PMSI label = VNI")
            XCTAssertEqual(imet?.pmsi?["tunnel-id"] as? String, hv1.address)
        }

        // vxsw -> GoBGP: type-2 for MACs learned from VM traffic. vm11 and vm13 ping each other
        // all along (their MACs stay fresh); vm12 sends one ARP and then falls silent.
        let pinger = try vm11.namespace.spawn(["ping", "-i", "0.2", vm13.address], logPath: f.workDir + "/ping-vm11.log")
        defer { pinger.stop(grace: 1) }
        _ = try f.ping(vm12.namespace, "198.19.20.99", count: 1)
        f.expect(10, "gobgpd has vxsw's type-2 routes for vm11, vm13 (VNI 1000) and vm12 (VNI 2000)") {
            let macs = Set(rib(gobgp).filter { $0.type == 2 && $0.nextHop == hv1.address }.compactMap(\.mac))
            return macs.isSuperset(of: [vm11.mac, vm13.mac, vm12.mac])
        }
        for (vm, rd) in [(vm11, rd1000), (vm12, rd2000)] {
            let route = rib(gobgp).first { $0.type == 2 && $0.mac == vm.mac }
            XCTAssertEqual(route?.rd, rd, "\(vm.name)'s RD")
            XCTAssertEqual(route?.routeTargets, ["65000:\(vm.vni)"], "\(vm.name)'s RT")
            XCTAssertEqual(route?.tunnelType, 8, "\(vm.name): encapsulation VXLAN")
            XCTAssertEqual(route?.labels, [Int(vm.vni)], "\(vm.name): label = VNI")
            XCTAssertEqual(route?.nextHop, hv1.address, "\(vm.name): next hop = VTEP")
        }

        // Withdrawals, GoBGP side: the MAC and the flood entry go.
        try gobgp.gobgp(["global", "rib", "-a", "evpn", "del", "macadv", injected, "198.19.10.99", "etag", "0", "label", "1000",
                         "rd", "\(gb.address):1"])
        f.expect(10, "withdrawn MAC gone from vxsw show mac") {
            !((try? f.macs("hv1", vni: 1000)) ?? []).contains { $0.mac == injected }
        }
        try gobgp.gobgp(["global", "rib", "-a", "evpn", "del", "multicast", vtep, "etag", "0", "rd", "\(gb.address):1"])
        f.expect(10, "withdrawn VTEP gone from VNI 1000's flood list") {
            (try? f.vniViews("hv1"))?.first { $0.vni == 1000 }?.floodList == []
        }

        // Withdrawals, vxsw side: vm12's MAC ages out (3 s), vm11's port is removed.
        f.expect(15, "vm12's type-2 withdrawn after its MAC aged out") {
            !rib(gobgp).contains { $0.type == 2 && $0.mac == vm12.mac }
        }
        XCTAssertTrue(rib(gobgp).contains { $0.type == 2 && $0.mac == vm11.mac }, "vm11 (still talking) withdrawn too early")
        let del = try f.control("hv1", ["port", "del", vm11.tap])
        XCTAssertTrue(del.succeeded, "vxsw port del: \(del.output) \(del.error)")
        f.expect(10, "vm11's type-2 withdrawn after `vxsw port del \(vm11.tap)`") {
            !rib(gobgp).contains { $0.type == 2 && $0.mac == vm11.mac }
        }
        XCTAssertTrue(rib(gobgp).contains { $0.type == 3 && $0.rd == rd1000 }, "VNI 1000's type-3 must stay while the VNI is local")

        // The monitor stream saw vxsw's routes come and go.
        monitor.stop(grace: 1)
        let events = monitor.log.split(separator: "\n").flatMap { line -> [Route] in
            let paths = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [[String: Any]] ?? []
            return paths.compactMap(Route.init)
        }
        XCTAssertTrue(events.contains { $0.type == 3 && $0.rd == rd1000 && !$0.withdrawal }, "monitor: no type-3 from vxsw")
        XCTAssertTrue(events.contains { $0.type == 2 && $0.mac == vm11.mac && !$0.withdrawal }, "monitor: no type-2 for vm11")
        XCTAssertTrue(events.contains { $0.type == 2 && $0.mac == vm11.mac && $0.withdrawal }, "monitor: no withdrawal of vm11")
        XCTAssertTrue(events.contains { $0.type == 2 && $0.mac == vm12.mac && $0.withdrawal }, "monitor: no withdrawal of vm12")
        XCTAssertEqual(f.stopVxsw("hv1"), 0, "vxsw exit status")
    }
}
