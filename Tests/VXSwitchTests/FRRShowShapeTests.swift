import Foundation
import VXConfig
import VXEVPN
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// vxsw's `show evpn …` and `show bgp l2vpn evpn …` JSON against FRR 8.4's: the same keys and
/// nesting (values aside), FRR's captured answers (`Tests/Fixtures/frr-8.4.4`) and a live FRR
/// VTEP asked the same commands in the same fabric. The documented differences are in
/// `FRRShapeRules` (and the README of `Sources/VXEVPN/Show`).
final class FRRShowShapeTests: XCTestCase {
    typealias Rules = FRRShapeRules

    func assertShape(_ what: String, frr: JSONValue, vxsw: JSONValue, omitted: [String] = [], extra: [String] = [],
                     file: StaticString = #filePath, line: UInt = #line) {
        let d = FRRShape.differences(frr: frr, vxsw: vxsw, omitted: omitted, extra: extra)
        XCTAssertEqual(d.missing, [], "\(what): FRR's keys vxsw lacks\nvxsw: \(vxsw.jsonText)", file: file, line: line)
        XCTAssertEqual(d.added, [], "\(what): vxsw's keys FRR lacks\nvxsw: \(vxsw.jsonText)", file: file, line: line)
    }

    /// Each captured answer decodes into vxsw's model and encodes back with FRR's keys.
    func testFRRCapturesRoundTripThroughVxswsModels() throws {
        func roundTrip<T: Codable>(_ name: String, _ type: T.Type, omitted: [String] = [], extra: [String] = []) throws {
            let frr = try FRRShape.fixture(name)
            let vxsw = try JSONValue(encoding: try frr.decode(T.self))
            assertShape(name, frr: frr, vxsw: vxsw, omitted: omitted, extra: extra)
        }
        try roundTrip("evpn-mac-vni-all", EVPNMACTables.self)
        try roundTrip("evpn-mac-vni", EVPNMACTable.self)
        try roundTrip("evpn-arp-cache-vni", EVPNARPCache.self)
        try roundTrip("evpn-vni", EVPNVNIList.self, extra: Rules.vniExtra)
        try roundTrip("evpn-vni-detail", EVPNVNIDetail.self, omitted: Rules.vniDetailOmitted, extra: Rules.vniExtra)
        try roundTrip("bgp-l2vpn-evpn-summary", BGPSummary.self, omitted: Rules.summaryOmitted, extra: Rules.summaryExtra)
        try roundTrip("bgp-summary", BGPSummaryByFamily.self, omitted: Rules.summaryOmitted, extra: Rules.summaryExtra)
        for name in ["bgp-l2vpn-evpn-route", "bgp-l2vpn-evpn-route-vni", "bgp-l2vpn-evpn-route-type-macip", "bgp-l2vpn-evpn-route-type-multicast"] {
            try roundTrip(name, EVPNRouteTable.self, omitted: Rules.routeOmitted, extra: Rules.routeExtra)
        }
        // The values come through too.
        let arps = try FRRShape.fixture("evpn-arp-cache-vni").decode(EVPNARPCache.self)
        XCTAssertEqual(arps.neighbors.map(\.type), ["local", "remote"])
        XCTAssertEqual(arps.neighbors.last?.remoteVtep, "198.18.0.3")
        let macs = try FRRShape.fixture("evpn-mac-vni-all").decode(EVPNMACTables.self)
        XCTAssertEqual(macs.objects.map(\.vni), [1000, 2000])
        XCTAssertEqual(macs.objects[0].macs.first { $0.type == "local" }?.intf, "tap21")
        XCTAssertEqual(macs.objects[0].macs.first { $0.type == "remote" }?.vtep, "198.18.0.3")
        let summary = try FRRShape.fixture("bgp-l2vpn-evpn-summary").decode(BGPSummary.self)
        XCTAssertEqual(summary.peers.map(\.neighbor), ["198.18.0.99", "198.18.0.254"])
        XCTAssertEqual(summary.peers.map(\.state), [.active, .established])
        XCTAssertEqual(summary.peers.map(\.upDownText), ["never", "00:02:21"])
        let routes = try FRRShape.fixture("bgp-l2vpn-evpn-route").decode(EVPNRouteTable.self)
        XCTAssertEqual(routes.routes.count, 10)
        XCTAssertTrue(routes.routes.contains { $0.local && $0.mac == "b2:d3:e0:29:b9:d6" && $0.ip == "198.19.10.21" && $0.rd == "198.18.0.2:2" })
        XCTAssertEqual(Set(routes.routes.map(\.extendedCommunities)), [["ET:8", "RT:65000:1000"], ["ET:8", "RT:65000:2000"],
                                                                         ["RT:65000:1000", "ET:8"], ["RT:65000:2000", "ET:8"]])
    }

    /// One vxsw and one FRR hypervisor through an FRR route reflector; each command asked of both.
    ///
    /// ```
    ///  vm11 (1000) vm12 (2000)        vm21 (1000) vm22 (2000)
    ///   hv1: vxsw 198.18.0.1           hv2: FRR + kernel 198.18.0.2 (br1000 has 198.19.10.2)
    ///          \________ underlay, rr: FRR route reflector 198.18.0.254 ________/
    /// ```
    func testVxswAndFRRAnswerTheSameCommandsInTheSameShape() throws {
        try requireEVPNFabric()
        let f = try makeFabric("fs")
        defer { f.close() }
        let rr = try f.addNode("rr", host: 254, kind: .routeReflector)
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1000, 2000])
        let hv2 = try f.addNode("hv2", host: 2, kind: .frr, vnis: [1000, 2000])
        for (hv, n) in [("hv1", 1), ("hv2", 2)] {
            try f.addVM("vm\(n)1", on: hv, vni: 1000, address: "198.19.10.\(n)1")
            try f.addVM("vm\(n)2", on: hv, vni: 2000, address: "198.19.20.\(n)2")
        }
        try f.startFRR("rr", bgpdConfig: f.frrRouteReflectorConfig(rr, clients: [hv1.address, hv2.address]))
        try f.startFRR("hv2", bgpdConfig: f.frrLeafConfig(hv2, peers: [rr.address]))
        try f.startVxsw("hv1", peers: [rr.address])
        guard f.expect(30, "sessions to the RR Established", { f.routeReflectorSessionsUp(rr, [hv1, hv2]) && f.vxswSessionsUp("hv1") }) else { return }
        // Traffic both ways in both VNIs, and vm21's IP learned by zebra (its MAC/IP route).
        try hv2.namespace.exec(["ip", "addr", "add", "198.19.10.2/24", "dev", "br1000"])
        for (a, b) in [("vm11", "vm21"), ("vm12", "vm22")] {
            let (ok, summary) = try f.ping(f.vm(a).namespace, f.vm(b).address)
            XCTAssertTrue(ok, "\(a) -> \(b): \(summary)")
        }
        _ = try hv2.namespace.exec(["ping", "-c", "1", "-W", "2", f.vm("vm21").address], check: false)
        let vm11 = f.vm("vm11"), vm12 = f.vm("vm12"), vm21 = f.vm("vm21")
        func frr(_ command: String) throws -> JSONValue {
            try JSONDecoder().decode(JSONValue.self, from: Data(try hv2.frr!.vtysh(command + " json").utf8))
        }
        guard f.expect(20, "each side has the other's MACs, vm21's IP and both flood lists", {
            f.vxswEVPNMAC("hv1", vni: 1000, mac: vm21.mac)?["neighbors"] != nil
                && f.vxswEVPNMAC("hv1", vni: 1000, mac: vm11.mac)?["intf"] != nil
                && (try? frr("show evpn mac vni 1000"))?["macs"]?[vm11.mac] != nil
                && (try? frr("show evpn vni 2000"))?["numRemoteVteps"]?.arrayValue?.count == 1
        }) else { return }

        // The same command of both, and of the capture.
        let commands: [(words: [String], fixture: String, omitted: [String], extra: [String])] = [
            (["evpn", "mac", "vni", "all"], "evpn-mac-vni-all", Rules.macOmitted, Rules.macExtra),
            (["evpn", "mac", "vni", "1000"], "evpn-mac-vni", Rules.macOmitted, Rules.macExtra),
            (["evpn", "vni"], "evpn-vni", [], Rules.vniExtra),
            (["evpn", "vni", "1000"], "evpn-vni-detail", Rules.vniDetailOmitted, Rules.vniExtra),
            (["bgp", "l2vpn", "evpn", "summary"], "bgp-l2vpn-evpn-summary", Rules.summaryOmitted, Rules.summaryExtra),
            (["bgp", "summary"], "bgp-summary", Rules.summaryOmitted, Rules.summaryExtra),
            (["bgp", "l2vpn", "evpn", "route"], "bgp-l2vpn-evpn-route", Rules.routeOmitted, Rules.routeExtra),
            (["bgp", "l2vpn", "evpn", "route", "vni", "1000"], "bgp-l2vpn-evpn-route-vni", Rules.routeOmitted, Rules.routeExtra),
            (["bgp", "l2vpn", "evpn", "route", "type", "macip"], "bgp-l2vpn-evpn-route-type-macip", Rules.routeOmitted, Rules.routeExtra),
            (["bgp", "l2vpn", "evpn", "route", "type", "multicast"], "bgp-l2vpn-evpn-route-type-multicast", Rules.routeOmitted, Rules.routeExtra),
        ]
        for c in commands {
            let command = "show " + c.words.joined(separator: " ")
            let vxsw = try f.show("hv1", c.words)
            assertShape("\(command) (live FRR)", frr: try frr(command), vxsw: vxsw, omitted: c.omitted, extra: c.extra)
            // The capture's peer that never answers is not in this fabric: its keys are a subset.
            if !c.fixture.contains("summary") {
                assertShape("\(command) (FRR 8.4.4 capture)", frr: try FRRShape.fixture(c.fixture), vxsw: vxsw, omitted: c.omitted, extra: c.extra)
            }
        }

        // Values: local MACs carry their port, remote ones their VTEP; the VNI filters hold.
        XCTAssertEqual(f.vxswEVPNMAC("hv1", vni: 1000, mac: vm11.mac)?["intf"]?.stringValue, vm11.tap)
        XCTAssertEqual(f.vxswEVPNMAC("hv1", vni: 1000, mac: vm21.mac)?["remoteVtep"]?.stringValue, hv2.address)
        XCTAssertNil(try f.show("hv1", ["evpn", "mac", "vni", "1000"])["macs"]?[vm12.mac], "VNI 2000's MAC in VNI 1000's table")
        XCTAssertEqual(Set(try f.show("hv1", ["evpn", "mac", "vni", "all"]).objectValue?.keys ?? [:].keys), ["1000", "2000"])
        XCTAssertEqual(try f.show("hv1", ["evpn", "vni", "2000"])["vni"]?.intValue, 2000)
        XCTAssertEqual(try f.show("hv1", ["evpn", "vni", "2000"])["numRemoteVteps"], .array([.string(hv2.address)]))
        let inVNI = f.vxswRoutes("hv1", ["vni", "1000"])
        XCTAssertTrue(inVNI.contains { $0.mac == vm21.mac } && !inVNI.contains { $0.mac == vm12.mac }, "\(inVNI.map(\.prefix))")
        XCTAssertTrue(f.vxswRoutes("hv1", ["type", "multicast"]).allSatisfy { $0.routeType == 3 })
        let summary = try f.show("hv1", ["bgp", "l2vpn", "evpn", "summary"]), frrSummary = try frr("show bgp l2vpn evpn summary")
        XCTAssertEqual(summary["peers"]?[rr.address]?["state"]?.stringValue, "Established")
        XCTAssertEqual(summary["peers"]?[rr.address]?["pfxSnt"]?.intValue, Int64(f.vxswRoutes("hv1").filter(\.local).count))
        // Through the RR each leaf receives what the other sent.
        XCTAssertEqual(frrSummary["peers"]?[rr.address]?["pfxRcd"], summary["peers"]?[rr.address]?["pfxSnt"])
        XCTAssertEqual(frrSummary["peers"]?[rr.address]?["pfxSnt"], summary["peers"]?[rr.address]?["pfxRcd"])

        // Text in FRR's layouts; an unknown VNI is an error, JSON under --json.
        func text(_ words: [String]) throws -> String {
            let r = try f.control("hv1", ["show"] + words)
            XCTAssertTrue(r.succeeded, "\(words): \(r.error)")
            return r.output
        }
        let macText = try text(["evpn", "mac", "vni", "all"])
        XCTAssertTrue(macText.contains("VNI 1000 #MACs (local and remote) ") && macText.contains("VNI 2000 #MACs"), macText)
        XCTAssertTrue(macText.contains(vm11.mac + " local        " + vm11.tap), macText)
        XCTAssertTrue(try text(["evpn", "mac", "vni", "1000"]).hasPrefix("Number of MACs (local and remote) known for this VNI: "))
        XCTAssertTrue(try text(["evpn", "vni", "1000"]).contains(" Remote VTEPs for this VNI:\n  \(hv2.address) flood: HER\n"))
        XCTAssertTrue(try text(["bgp", "l2vpn", "evpn", "summary"]).contains("BGP router identifier \(hv1.address), local AS number 65000"))
        let routeText = try text(["bgp", "l2vpn", "evpn", "route"])
        XCTAssertTrue(routeText.contains("local router ID is \(hv1.address)") && routeText.contains("Route Distinguisher: \(hv2.address):"), routeText)
        XCTAssertFalse(try text(["bgp", "l2vpn", "evpn", "route", "vni", "1000"]).contains("Route Distinguisher:"))
        XCTAssertTrue(try text(["bgp", "l2vpn", "evpn", "route", "type", "macip"]).contains("(of requested type)"))
        for words in [["evpn", "vni", "3000"], ["evpn", "mac", "vni", "3000"], ["bgp", "l2vpn", "evpn", "route", "vni", "3000"]] {
            let r = try f.control("hv1", ["show"] + words + ["--json"])
            XCTAssertFalse(r.succeeded)
            let error = try JSONDecoder().decode(JSONValue.self, from: Data(r.output.utf8))["error"]?.stringValue ?? ""
            XCTAssertTrue(error.contains("VNI 3000 does not exist"), "\(words): \(r.output)")
        }
    }
}
