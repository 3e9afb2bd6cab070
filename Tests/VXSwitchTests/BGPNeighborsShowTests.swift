import Foundation
import VXConfig
import VXEVPN
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// `vxsw show bgp neighbors [ADDRESS]` (text and FRR-shaped JSON) and the BGP series of the
/// metrics endpoint, from a running vxsw with a real GoBGP peer and a second peer that never
/// answers. GoBGP announces routes and resets the session; the counters, prefixes and the
/// last reset follow.
///
/// ```
///  hv1: vxsw 198.18.0.1 ──── underlay bridge ──── gobgp: gobgpd 198.18.0.200 (iBGP, AS 65000)
///        └── peer 198.18.0.250: nobody there (stays Connect/Active)
/// ```
final class BGPNeighborsShowTests: XCTestCase {
    func testNeighborsTextJSONAndMetricsWithGoBGP() throws {
        try requireEVPNFabric(frr: false, gobgp: true)
        let f = try makeFabric("bn")
        defer { f.close() }
        let gb = try f.addNode("gobgp", host: 200, kind: .gobgp)
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1000])
        let silent = "198.18.0.250"
        let gobgp = try f.startGoBGP("gobgp", neighbors: [.init(address: hv1.address, peerAS: EVPNFabric.asn, passive: false)])
        try f.startVxsw("hv1", peers: [gb.address, silent], metrics: "127.0.0.1:9469")

        // The metrics have every configured peer from the start, the one that never comes up too.
        var page = try metricsPage(in: hv1.namespace)
        XCTAssertTrue(page.contains(#"vxsw_bgp_session_state{peer="\#(silent)",state="established"} 0"#), page)
        XCTAssertTrue(page.contains(#"vxsw_bgp_messages_received_total{peer="\#(silent)",type="update"} 0"#), page)
        XCTAssertTrue(page.contains(#"vxsw_bgp_prefixes_received{peer="\#(silent)",afi="l2vpn",safi="evpn"} 0"#), page)

        func neighbors(_ args: [String] = []) -> [String: Any] {
            guard let r = try? f.control("hv1", ["show", "bgp", "neighbors"] + args + ["--json"]), r.succeeded else { return [:] }
            return (try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]) ?? [:]
        }
        func peer(_ address: String) -> [String: Any] { neighbors()[address] as? [String: Any] ?? [:] }
        func stat(_ key: String) -> Int { (peer(gb.address)["messageStats"] as? [String: Any])?[key] as? Int ?? -1 }
        func prefixes(_ key: String) -> Int {
            ((peer(gb.address)["addressFamilyInfo"] as? [String: Any])?["l2VpnEvpn"] as? [String: Any])?[key] as? Int ?? -1
        }
        guard f.expect(30, "vxsw <-> gobgpd Established in show bgp neighbors", {
            peer(gb.address)["bgpState"] as? String == "Established" && gobgp.neighborState(hv1.address) == "established"
        }) else { return }

        // JSON: FRR's shape, keyed by address, both peers.
        let all = neighbors()
        XCTAssertEqual(Set(all.keys), [gb.address, silent])
        let g = peer(gb.address)
        XCTAssertEqual(g["remoteAs"] as? Int, EVPNFabric.asn)
        XCTAssertEqual(g["localAs"] as? Int, EVPNFabric.asn)
        XCTAssertEqual(g["remoteRouterId"] as? String, gb.address)
        XCTAssertEqual(g["localRouterId"] as? String, hv1.address)
        XCTAssertNotNil(g["bgpTimerUpMsec"] as? Int)
        XCTAssertEqual(g["bgpTimerHoldTimeMsecs"] as? Int, 9000, "GoBGP's 9 s against vxsw's 90 s")
        XCTAssertEqual(g["bgpTimerKeepAliveIntervalMsecs"] as? Int, 3000)
        let caps = g["neighborCapabilities"] as? [String: Any] ?? [:]
        XCTAssertEqual(caps["4byteAs"] as? String, "advertisedAndReceived", "\(caps)")
        XCTAssertEqual(caps["routeRefresh"] as? String, "advertisedAndReceivedNew", "\(caps)")
        XCTAssertEqual((caps["multiprotocolExtensions"] as? [String: [String: Bool]])?["l2VpnEvpn"], ["advertisedAndReceived": true])
        XCTAssertEqual(caps["gracefulRestart"] as? String, "advertised", "this GoBGP config has no graceful restart")
        XCTAssertEqual(((g["gracefulRestartInfo"] as? [String: Any])?["endOfRibSend"] as? [String: Bool]), ["l2VpnEvpn": true])
        XCTAssertEqual(stat("opensSent"), 1); XCTAssertEqual(stat("opensRecv"), 1)
        XCTAssertEqual(prefixes("acceptedPrefixCounter"), 0)
        let silentState = peer(silent)["bgpState"] as? String
        XCTAssertTrue(["Connect", "Active"].contains(silentState ?? ""), "peer with nobody there: \(silentState ?? "nil")")
        XCTAssertNil(peer(silent)["neighborCapabilities"])

        // Counters grow: GoBGP announces a MAC for VNI 1000 (accepted) and one for a VNI vxsw lacks (received only).
        let updatesBefore = stat("updatesRecv"), keepalivesBefore = stat("keepalivesRecv")
        try gobgp.gobgp(["global", "rib", "-a", "evpn", "add", "macadv", "02:00:00:0b:00:01", "198.19.10.99", "etag", "0", "label", "1000",
                         "rd", "\(gb.address):1", "rt", "65000:1000", "encap", "vxlan", "nexthop", "198.18.0.77"])
        try gobgp.gobgp(["global", "rib", "-a", "evpn", "add", "macadv", "02:00:00:0b:00:03", "0.0.0.0", "etag", "0", "label", "3000",
                         "rd", "\(gb.address):3", "rt", "65000:3000", "encap", "vxlan", "nexthop", "198.18.0.77"])
        f.expect(10, "2 prefixes received, 1 accepted") { prefixes("receivedPrefixCounter") == 2 && prefixes("acceptedPrefixCounter") == 1 }
        f.expect(10, "UPDATEs and keepalives counted") { stat("updatesRecv") >= updatesBefore + 2 && stat("keepalivesRecv") > keepalivesBefore }
        XCTAssertEqual(stat("totalRecv"), stat("opensRecv") + stat("updatesRecv") + stat("keepalivesRecv") + stat("notificationsRecv")
                       + stat("routeRefreshRecv"))

        // Text, FRR's layout, both peers.
        let text = try f.control("hv1", ["show", "bgp", "neighbors"])
        XCTAssertTrue(text.succeeded, text.error)
        print(text.output)
        for line in ["BGP neighbor is \(gb.address), remote AS 65000, local AS 65000, internal link\n",
                     "  BGP version 4, remote router ID \(gb.address), local router ID \(hv1.address)\n",
                     "  Hold time is 9 seconds, keepalive interval is 3 seconds\n",
                     "  Configured hold time is 90 seconds, keepalive interval is 30 seconds\n",
                     "    4 Byte AS: advertised and received\n", "    Address Family L2VPN EVPN: advertised and received\n",
                     "    Graceful Restart Capability: advertised\n", "  Message statistics:\n", "    Opens:                  1          1\n",
                     " For address family: L2VPN EVPN\n", "  2 received prefixes\n", "  1 accepted prefixes\n",
                     "BGP neighbor is \(silent), remote AS 65000"] {
            XCTAssertTrue(text.output.contains(line), "missing \(line.debugDescription) in\n\(text.output)")
        }
        XCTAssertTrue(text.output.contains("  BGP state = Established, up for 00:"), text.output)

        // One peer; an address that is not a peer fails with its name, as JSON under --json.
        let one = try f.control("hv1", ["show", "bgp", "neighbors", gb.address])
        XCTAssertTrue(one.succeeded && one.output.hasPrefix("BGP neighbor is \(gb.address),") && !one.output.contains(silent), one.output)
        XCTAssertEqual(Set(neighbors([gb.address]).keys), [gb.address])
        let unknown = try f.control("hv1", ["show", "bgp", "neighbors", "198.18.0.99"])
        XCTAssertFalse(unknown.succeeded)
        XCTAssertTrue(unknown.error.contains("198.18.0.99") && unknown.error.contains("not a configured peer"), unknown.error)
        let unknownJSON = try f.control("hv1", ["show", "bgp", "neighbors", "198.18.0.99", "--json"])
        XCTAssertFalse(unknownJSON.succeeded)
        let error = (try? JSONSerialization.jsonObject(with: Data(unknownJSON.output.utf8)) as? [String: Any])?["error"] as? String
        XCTAssertTrue(error?.contains("198.18.0.99") ?? false, "stdout: \(unknownJSON.output) stderr: \(unknownJSON.error)")

        // The metrics: the peer up, its messages and prefixes.
        page = try metricsPage(in: hv1.namespace)
        XCTAssertTrue(page.contains(#"vxsw_bgp_session_state{peer="\#(gb.address)",state="established"} 1"#), page)
        XCTAssertTrue(page.contains(#"vxsw_bgp_session_state{peer="\#(gb.address)",state="idle"} 0"#), page)
        XCTAssertTrue(page.contains(#"vxsw_bgp_messages_sent_total{peer="\#(gb.address)",type="open"} 1"#), page)
        XCTAssertTrue(page.contains(#"vxsw_bgp_prefixes_received{peer="\#(gb.address)",afi="l2vpn",safi="evpn"} 2"#), page)
        XCTAssertTrue(page.contains(#"vxsw_bgp_prefixes_accepted{peer="\#(gb.address)",afi="l2vpn",safi="evpn"} 1"#), page)
        XCTAssertTrue(page.contains("# TYPE vxsw_bgp_messages_received_total counter"), page)
        XCTAssertGreaterThanOrEqual(value(page, #"vxsw_bgp_messages_received_total{peer="\#(gb.address)",type="update"}"#), 2, page)

        // GoBGP resets the session: the Cease it sent is the last reset; the session comes back.
        try gobgp.gobgp(["neighbor", hv1.address, "reset"])
        f.expect(30, "session re-established after the reset") {
            let p = peer(gb.address)
            return p["connectionsEstablished"] as? Int == 2 && p["bgpState"] as? String == "Established"
        }
        let after = peer(gb.address)
        XCTAssertEqual(after["lastResetDueTo"] as? String, "BGP Notification received", "\(after)")
        XCTAssertEqual(after["lastNotificationReason"] as? String, "Cease/Administrative Reset", "\(after)")
        XCTAssertEqual(after["lastErrorCodeSubcode"] as? String, "0604")
        XCTAssertEqual(after["connectionsDropped"] as? Int, 1)
        XCTAssertGreaterThanOrEqual(stat("notificationsRecv"), 1)
        let reset = try f.control("hv1", ["show", "bgp", "neighbors", gb.address]).output
        XCTAssertTrue(reset.contains(",  Notification received (Cease/Administrative Reset)\n"), reset)
        XCTAssertTrue(reset.contains("  Connections established 2; dropped 1\n"), reset)
        page = try metricsPage(in: hv1.namespace)
        XCTAssertGreaterThanOrEqual(value(page, #"vxsw_bgp_messages_received_total{peer="\#(gb.address)",type="notification"}"#), 1, page)
        XCTAssertTrue(page.contains(#"vxsw_bgp_established_transitions_total{peer="\#(gb.address)"} 2"#), page)
        XCTAssertEqual(f.stopVxsw("hv1"), 0, "vxsw exit status")
    }

    /// The same session seen from both ends: vxsw's `show bgp neighbors` of an FRR route reflector
    /// and FRR's of vxsw agree on router IDs, timers, capabilities and the messages each sent.
    func testNeighborsAgreeWithFRRsViewOfTheSameSession() throws {
        try requireEVPNFabric()
        let f = try makeFabric("bf")
        defer { f.close() }
        let rr = try f.addNode("rr", host: 254, kind: .routeReflector)
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1000])
        try f.startFRR("rr", bgpdConfig: f.frrRouteReflectorConfig(rr, clients: [hv1.address]))
        try f.startVxsw("hv1", peers: [rr.address])
        guard f.expect(30, "vxsw <-> FRR Established", { f.routeReflectorSessionsUp(rr, [hv1]) && f.vxswSessionsUp("hv1") }) else { return }
        Thread.sleep(forTimeInterval: 2) // the tables and End-of-RIBs are through; only keepalives from here

        let ours = try XCTUnwrap(try f.show("hv1", ["bgp", "neighbors", rr.address])[rr.address]).decode(BGPNeighbor.self)
        let text = try XCTUnwrap(try rr.frr?.vtysh("show bgp neighbors \(hv1.address) json"))
        let theirs = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?[hv1.address] as? [String: Any], text)
        func frrStat(_ key: String) -> Int? { (theirs["messageStats"] as? [String: Any])?[key] as? Int }
        XCTAssertEqual(theirs["bgpState"] as? String, "Established")
        XCTAssertEqual(theirs["remoteRouterId"] as? String, ours.localRouterId)
        XCTAssertEqual(theirs["localRouterId"] as? String, ours.remoteRouterId)
        XCTAssertEqual(theirs["bgpTimerHoldTimeMsecs"] as? Int, ours.bgpTimerHoldTimeMsecs, "both negotiated the same hold time")
        XCTAssertEqual(frrStat("opensRecv"), ours.messageStats.opensSent)
        XCTAssertEqual(frrStat("opensSent"), ours.messageStats.opensRecv)
        XCTAssertEqual(frrStat("updatesRecv"), ours.messageStats.updatesSent)
        XCTAssertEqual(frrStat("updatesSent"), ours.messageStats.updatesRecv)
        XCTAssertEqual((theirs["addressFamilyInfo"] as? [String: Any]).flatMap { $0["l2VpnEvpn"] as? [String: Any] }?["acceptedPrefixCounter"] as? Int,
                       ours.addressFamilyInfo.l2VpnEvpn.sentPrefixCounter, "what vxsw sent, FRR accepted")
        // Capabilities, each side's advertised is the other's received.
        let frrCaps = theirs["neighborCapabilities"] as? [String: Any] ?? [:]
        let caps = try XCTUnwrap(ours.neighborCapabilities)
        XCTAssertEqual(frrCaps["4byteAs"] as? String, caps.fourByteAs?.rawValue)
        XCTAssertEqual((frrCaps["multiprotocolExtensions"] as? [String: [String: Bool]])?["l2VpnEvpn"], caps.multiprotocolExtensions["l2VpnEvpn"])
        XCTAssertEqual(frrCaps["gracefulRestart"] as? String, "advertisedAndReceived")
        XCTAssertEqual(caps.gracefulRestart, .advertisedAndReceived)
        XCTAssertEqual(frrCaps["enhancedRouteRefresh"] as? String, "advertised", "FRR advertises it, vxsw does not")
        XCTAssertEqual(caps.enhancedRouteRefresh, .received)
        XCTAssertEqual(ours.gracefulRestartInfo.remoteGrMode, "Helper", "FRR's default: helper, no family in its capability")
        XCTAssertTrue(caps.unusedCapabilitiesRecv?.contains { $0.code == 73 && $0.name == "Hostname" } ?? false, "\(caps)")
    }

    /// The value of the sample `series` (name and labels) on a metrics page; -1 when absent.
    func value(_ page: String, _ series: String) -> Double {
        page.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) } ?? -1
    }
}
