import Foundation
import VXCore
import XCTest
@testable import VXEVPN

/// `show bgp neighbors` from two speakers over loopback (no root): the state, timers,
/// capabilities and counters each session owns, FRR's JSON keys, and the last reset.
extension SessionTests {
    func neighbor(_ s: EVPNSpeaker) async throws -> BGPNeighbor {
        let all = try await s.neighbors()
        return try XCTUnwrap(all.neighbors.first)
    }

    /// FRR's JSON of `n`'s speaker, decoded loosely: the object under the peer's address.
    func frrJSON(_ s: EVPNSpeaker) async throws -> [String: Any] {
        let all = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try await s.neighbors())) as? [String: Any]
        return try XCTUnwrap(all?.values.first as? [String: Any], "\(all ?? [:])")
    }

    func testNeighborsShowSessionStateCapabilitiesAndCounters() async throws {
        let lo = IPAddress("127.0.0.1")!, lo2 = IPAddress("127.0.0.2")!
        let (a, _) = try await makeListener(asn: 65001, listen: lo, peerAddress: lo2, peerAS: 65001) { $0.holdTime = 30 }
        let port = try XCTUnwrap(a.listeningPort)

        // Configured, not up yet: Active, nothing counted, never reset.
        var n = try await neighbor(a)
        XCTAssertEqual(n.address, "127.0.0.2")
        XCTAssertEqual(n.bgpState, .active)
        XCTAssertNil(n.bgpTimerUpMsec)
        XCTAssertNil(n.neighborCapabilities)
        XCTAssertEqual(n.messageStats.totalRecv, 0)
        XCTAssertEqual(n.remoteRouterId, "0.0.0.0")
        XCTAssertEqual(n.gracefulRestartInfo.remoteGrMode, "NotApplicable")
        XCTAssertTrue(n.formatted().contains("  Last reset never\n"), n.formatted())
        XCTAssertTrue(n.formatted().contains("BGP state = Active\n"), n.formatted())

        let (b, _) = try await makeConnector(asn: 65001, routerID: "10.0.0.2", to: lo, port: port, from: lo2, peerAS: 65001) { $0.holdTime = 9 }
        try await Lab.wait(10, "established") { try await established(a) }
        try await Lab.wait(5, "B's End-of-RIB at A") { try await neighbor(a).gracefulRestartInfo.endOfRibRecv["l2VpnEvpn"] == true }
        n = try await neighbor(a)
        XCTAssertEqual(n.bgpState, .established)
        XCTAssertEqual(n.remoteAs, 65001); XCTAssertEqual(n.localAs, 65001)
        XCTAssertEqual(n.nbrInternalLink, true)
        XCTAssertEqual(n.remoteRouterId, "10.0.0.2"); XCTAssertEqual(n.localRouterId, "10.0.0.1")
        XCTAssertNotNil(n.bgpTimerUpMsec)
        XCTAssertEqual(n.bgpTimerConfiguredHoldTimeMsecs, 30_000); XCTAssertEqual(n.bgpTimerConfiguredKeepAliveIntervalMsecs, 10_000)
        XCTAssertEqual(n.bgpTimerHoldTimeMsecs, 9000, "the smaller hold time is negotiated")
        XCTAssertEqual(n.bgpTimerKeepAliveIntervalMsecs, 3000)
        let caps = try XCTUnwrap(n.neighborCapabilities)
        XCTAssertEqual(caps.fourByteAs, .advertisedAndReceived)
        XCTAssertEqual(caps.routeRefresh, "advertisedAndReceivedNew")
        XCTAssertEqual(caps.multiprotocolExtensions, ["l2VpnEvpn": ["advertisedAndReceived": true]])
        XCTAssertEqual(caps.gracefulRestart, .advertisedAndReceived)
        XCTAssertEqual(caps.gracefulRestartRemoteTimerMsecs, 120_000)
        XCTAssertEqual(caps.addressFamiliesByPeer?.preserved, ["l2VpnEvpn": true], "vxsw sets the F bit")
        XCTAssertEqual(n.gracefulRestartInfo.localGrMode, "Restart"); XCTAssertEqual(n.gracefulRestartInfo.remoteGrMode, "Restart")
        XCTAssertEqual(n.gracefulRestartInfo.endOfRibSend, ["l2VpnEvpn": true])
        XCTAssertEqual(n.messageStats.opensSent, 1); XCTAssertEqual(n.messageStats.opensRecv, 1)
        XCTAssertGreaterThanOrEqual(n.messageStats.updatesRecv, 2, "B's IMET and End-of-RIB")
        XCTAssertGreaterThanOrEqual(n.messageStats.keepalivesRecv, 1)
        XCTAssertEqual(n.messageStats.totalRecv, n.messageStats.opensRecv + n.messageStats.updatesRecv + n.messageStats.keepalivesRecv)
        XCTAssertEqual(n.addressFamilyInfo.l2VpnEvpn.receivedPrefixCounter, 1, "B's type-3 for VNI 100")
        XCTAssertEqual(n.addressFamilyInfo.l2VpnEvpn.acceptedPrefixCounter, 1, "imported: same auto RT on iBGP")
        XCTAssertEqual(n.connectionsEstablished, 1); XCTAssertEqual(n.connectionsDropped, 0)
        XCTAssertEqual(n.hostForeign, "127.0.0.2"); XCTAssertEqual(n.portLocal, port)

        // Counters grow: a MAC at B is one more UPDATE and one more prefix at A; keepalives every 3 s.
        let before = n.messageStats
        b.localMACLearned(vni: vni, mac: mac)
        try await Lab.wait(5, "B's MAC at A") { try await neighbor(a).addressFamilyInfo.l2VpnEvpn.receivedPrefixCounter == 2 }
        try await Task.sleep(nanoseconds: 3_500_000_000)
        n = try await neighbor(a)
        XCTAssertGreaterThan(n.messageStats.updatesRecv, before.updatesRecv)
        XCTAssertGreaterThan(n.messageStats.keepalivesRecv, before.keepalivesRecv)
        XCTAssertEqual(n.addressFamilyInfo.l2VpnEvpn.acceptedPrefixCounter, 2)

        // FRR's JSON keys.
        let json = try await frrJSON(a)
        XCTAssertEqual(json["bgpState"] as? String, "Established")
        XCTAssertEqual(json["remoteAs"] as? Int, 65001)
        XCTAssertNotNil(json["bgpTimerUpMsec"] as? Int); XCTAssertNotNil(json["bgpTimerUpString"] as? String)
        XCTAssertEqual(json["bgpTimerHoldTimeMsecs"] as? Int, 9000)
        let jcaps = try XCTUnwrap(json["neighborCapabilities"] as? [String: Any])
        XCTAssertEqual(jcaps["4byteAs"] as? String, "advertisedAndReceived")
        XCTAssertEqual((jcaps["addressFamiliesByPeer"] as? [String: [String: Bool]])?["l2VpnEvpn"], ["preserved": true])
        let stats = try XCTUnwrap(json["messageStats"] as? [String: Int])
        for key in ["opensSent", "opensRecv", "updatesSent", "updatesRecv", "keepalivesSent", "keepalivesRecv",
                    "notificationsSent", "notificationsRecv", "totalSent", "totalRecv"] {
            XCTAssertNotNil(stats[key], "messageStats.\(key)")
        }
        let evpn = (json["addressFamilyInfo"] as? [String: Any])?["l2VpnEvpn"] as? [String: Int]
        XCTAssertEqual(evpn?["acceptedPrefixCounter"], 2)
        XCTAssertEqual(((json["gracefulRestartInfo"] as? [String: Any])?["endOfRibRecv"] as? [String: Bool]), ["l2VpnEvpn": true])
        XCTAssertNil(json["address"], "the address is the key, as in FRR")

        // The text, FRR's layout.
        let text = n.formatted()
        for line in ["BGP neighbor is 127.0.0.2, remote AS 65001, local AS 65001, internal link\n",
                     "  BGP version 4, remote router ID 10.0.0.2, local router ID 10.0.0.1\n",
                     "  Hold time is 9 seconds, keepalive interval is 3 seconds\n",
                     "    4 Byte AS: advertised and received\n", "    Route refresh: advertised and received(new)\n",
                     "    Address Family L2VPN EVPN: advertised and received\n",
                     "    Graceful Restart Capability: advertised and received\n", "        L2VPN EVPN(preserved)\n",
                     "    End-of-RIB received: L2VPN EVPN\n", "                         Sent       Rcvd\n",
                     "    Opens:                  1          1\n", "  2 accepted prefixes\n"] {
            XCTAssertTrue(text.contains(line), "missing \(line.debugDescription) in\n\(text)")
        }
        XCTAssertTrue(text.contains("  BGP state = Established, up for 00:00:0"), text)

        // An address that is not a peer.
        do {
            _ = try await a.neighbors(IPAddress("127.0.0.9")!)
            XCTFail("no error for an unknown neighbor")
        } catch let e as NoSuchNeighbor {
            XCTAssertTrue(e.description.contains("127.0.0.9") && e.description.contains("127.0.0.2"), e.description)
        }
        let one = try await a.neighbors(lo2)
        XCTAssertEqual(one.neighbors.map(\.address), ["127.0.0.2"])

        // B shuts down: A's last reset is the Cease it received.
        await b.stop()
        try await Lab.wait(5, "A sees the session down") { try await !established(a) }
        n = try await neighbor(a)
        XCTAssertEqual(n.lastResetDueTo, "BGP Notification received")
        XCTAssertEqual(n.lastNotificationReason, "Cease/Administrative Shutdown")
        XCTAssertEqual(n.lastErrorCodeSubcode, "0602")
        XCTAssertNotNil(n.lastResetTimerMsecs)
        XCTAssertEqual(n.connectionsDropped, 1)
        XCTAssertEqual(n.messageStats.notificationsRecv, 1)
        XCTAssertNil(n.neighborCapabilities, "capabilities only while Established, as FRR")
        XCTAssertTrue(n.formatted().contains(",  Notification received (Cease/Administrative Shutdown)\n"), n.formatted())

        // The JSON survives the trip through the control socket's payload.
        let sent = try await a.neighbors()
        let back = try JSONDecoder().decode(BGPNeighbors.self, from: JSONEncoder().encode(sent))
        XCTAssertEqual(back.neighbors.first?.address, "127.0.0.2")
        XCTAssertEqual(back.formatted(), sent.formatted())
        await a.stop()
    }

    /// An OPEN refused: the NOTIFICATION vxsw sent, with its reason, is the last reset.
    func testNeighborsLastResetNamesTheOpenError() async throws {
        let (a, _, raw) = try await rawSession(asn: 65099)
        XCTAssertNotNil(notification(raw.receive(until: isNotification)))
        try await Lab.wait(5, "reset recorded") { try await neighbor(a).lastResetDueTo != nil }
        let n = try await neighbor(a)
        XCTAssertEqual(n.lastResetDueTo, "BGP Notification send")
        XCTAssertEqual(n.lastNotificationReason, "OPEN Message Error/Bad Peer AS")
        XCTAssertEqual(n.lastErrorCodeSubcode, "0202")
        XCTAssertEqual(n.lastResetDetail, "peer AS 65099, expected 65003")
        XCTAssertEqual(n.messageStats.opensRecv, 1); XCTAssertEqual(n.messageStats.notificationsSent, 1)
        XCTAssertTrue(n.formatted().contains(",  Notification sent (OPEN Message Error/Bad Peer AS): peer AS 65099, expected 65003\n"),
                      n.formatted())
        await a.stop()
    }
}
