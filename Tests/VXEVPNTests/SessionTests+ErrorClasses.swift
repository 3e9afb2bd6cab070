import Foundation
import VXCore
import XCTest
@testable import VXEVPN

/// Issue 12's RFC 7606 / 4760 / 7432 / 4271 classes sent to a running speaker over TCP (a
/// scripted peer, AS 65003, on loopback), each checked on the wire (the NOTIFICATION, or the
/// session staying up) and in the tables (what the data plane was given). `ErrorHandlingTests`
/// checks the same bytes in the decoder alone.
extension SessionTests {
    typealias B = UpdateBytes

    /// A raw session past End-of-RIB.
    private func sessionPastEndOfRIB() async throws -> (EVPNSpeaker, RecordingDataplane, RawPeer) {
        let (a, dp, raw) = try await rawSession()
        raw.send(.keepalive)
        XCTAssertNotNil(raw.receive { $0 == .update(.endOfRIB(.l2vpnEVPN)) }, "End-of-RIB after the table")
        return (a, dp, raw)
    }

    private func assertNotification(_ raw: RawPeer, _ code: UInt8, _ subcode: UInt8, _ what: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        let n = notification(raw.receive(until: isNotification))
        XCTAssertEqual(n?.code, code, what, file: file, line: line)
        XCTAssertEqual(n?.subcode, subcode, what, file: file, line: line)
    }

    /// RFC 7606 §5.2: attributes with an error that is not attribute-discard and nothing
    /// reachable (no NLRI field, no MP_REACH) reset the session; it is no withdrawal of nothing.
    func testWireAttributeErrorWithoutReachableNLRIResetsTheSession() async throws {
        let (a, _, raw) = try await sessionPastEndOfRIB()
        raw.send(B.message([0x40, 1, 1, 3] + B.asPath(65003) + B.extComm))   // ORIGIN 3
        assertNotification(raw, 3, 6, "UPDATE error / invalid ORIGIN")
        await a.stop()
    }

    /// RFC 7606 §7.11: an MP_REACH next hop of a length EVPN has not resets the session (never
    /// treat-as-withdraw); RFC 4760 §7: so do MP_REACH/MP_UNREACH with wrong flags. Nothing of
    /// such an UPDATE reaches the tables.
    func testWireMPReachNextHopLengthAndFlagsResetTheSession() async throws {
        for (bytes, subcode, what) in [
            (B.message(B.mpReachBadNextHopLength + B.origin + B.asPath(65003) + B.extComm), UInt8(9), "a 5-byte next hop"),
            (B.message([0xD0] + B.mpReach.dropFirst() + B.origin + B.asPath(65003) + B.extComm), UInt8(4), "MP_REACH marked transitive"),
            (B.message(B.mpReach + B.origin + B.asPath(65003) + B.extComm + [0xD0, 15, 0, 3, 0, 25, 70]), UInt8(4), "MP_UNREACH marked transitive"),
        ] {
            let (a, dp, raw) = try await sessionPastEndOfRIB()
            raw.send(bytes)
            assertNotification(raw, 3, subcode, what)
            XCTAssertNil(dp.macs[VNIMAC(vni, B.mac)], "\(what): its route was installed")
            await a.stop()
        }
    }

    /// RFC 4271 §4.3/§6.3 with RFC 7606 §3(c): a well-known attribute with the Partial bit is an
    /// attribute-flags error handled as that attribute's malformation — ORIGIN: treat-as-withdraw
    /// (the route leaves the tables, the session stays); ATOMIC_AGGREGATE: attribute-discard (the
    /// route stays installed).
    func testWireWellKnownAttributeWithPartialBit() async throws {
        let (a, dp, raw) = try await sessionPastEndOfRIB()
        raw.send(B.message(B.mpReach + B.origin + B.asPath(65003) + B.extComm))
        try await Lab.wait(5, "the well-formed route installed") { dp.macs[VNIMAC(vni, B.mac)] != nil }
        raw.send(B.message(B.mpReach + B.origin + B.asPath(65003) + B.extComm + [0x60, 6, 0]))   // ATOMIC_AGGREGATE, Partial
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertNotNil(dp.macs[VNIMAC(vni, B.mac)], "attribute-discard keeps the route")
        var up = try await established(a)
        XCTAssertTrue(up, "ATOMIC_AGGREGATE with Partial reset the session")
        raw.send(B.message(B.mpReach + [0x60, 1, 1, 0] + B.asPath(65003) + B.extComm))           // ORIGIN, Partial
        try await Lab.wait(5, "treat-as-withdraw removed the route") { dp.macs[VNIMAC(vni, B.mac)] == nil }
        up = try await established(a)
        XCTAssertTrue(up, "ORIGIN with Partial reset the session instead of treat-as-withdraw")
        await a.stop()
    }

    /// RFC 7432 §7.2 with RFC 7606 §5.3: a MAC/IP route too short for its Label1 is malformed
    /// NLRI — the session is reset and nothing is installed with a guessed label.
    func testWireMACIPRouteWithoutLabel1IsMalformedNLRI() async throws {
        let (a, dp, raw) = try await sessionPastEndOfRIB()
        raw.send(B.message(B.mpReachWithoutLabel1 + B.origin + B.asPath(65003) + B.extComm))
        assertNotification(raw, 3, 9, "malformed EVPN NLRI")
        XCTAssertNil(dp.macs[VNIMAC(vni, B.mac)], "a route without its label was installed")
        await a.stop()
    }

    /// RFC 4271 §6.2, RFC 5492: an OPEN whose known capability is malformed (Multiprotocol of
    /// 3 bytes) is refused with NOTIFICATION 2/0, not ignored as unknown.
    func testWireOpenWithMalformedKnownCapabilityIsRefused() async throws {
        let (a, _) = try await makeListener(asn: 65001, listen: IPAddress("127.0.0.1")!, peerAddress: IPAddress("127.0.0.3")!, peerAS: 65003)
        let raw = try RawPeer(port: try XCTUnwrap(a.listeningPort))
        raw.send(B.open(capability: [1, 3, 0, 25, 70], asn: 65003))
        assertNotification(raw, 2, 0, "OPEN error / unspecific")
        let up = try await established(a)
        XCTAssertFalse(up)
        await a.stop()
    }

    /// The attributes vxsw kept are in `show bgp l2vpn evpn route` (FRR's `metric`,
    /// `atomicAggregate`, `aggregatorAs`, `aggregatorId`), so an attribute-discard is observable:
    /// the same route with a malformed AGGREGATOR (RFC 7606 §7.7) stays installed without it.
    func testWireRouteShowsTheAttributesKeptAndNotTheDiscarded() async throws {
        let (a, dp, raw) = try await sessionPastEndOfRIB()
        let med: [UInt8] = [0x80, 4, 4, 0, 0, 0, 50], atomic: [UInt8] = [0x40, 6, 0]
        let aggregator: [UInt8] = [0xC0, 7, 8, 0, 0, 0xFD, 0xEB, 10, 0, 0, 3]   // 4-octet AS: both sides have the capability
        raw.send(B.message(B.mpReach + B.origin + B.asPath(65003) + med + atomic + aggregator + B.extComm))
        try await Lab.wait(5, "installed") { dp.macs[VNIMAC(vni, B.mac)] != nil }
        func path() async throws -> [String: Any]? {
            let table = try await a.evpnRoutes(routeType: 2)
            let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(table)) as? [String: Any]
            for case let rd as [String: Any] in json?.values.map({ $0 }) ?? [] {
                for case let prefix as [String: Any] in rd.values {
                    if let paths = prefix["paths"] as? [[[String: Any]]], let p = paths.first?.first, p["mac"] as? String == B.mac.description { return p }
                }
            }
            return nil
        }
        var p = try await path()
        XCTAssertEqual(p?["metric"] as? Int, 50, "\(p ?? [:])")
        XCTAssertEqual(p?["atomicAggregate"] as? Bool, true, "\(p ?? [:])")
        XCTAssertEqual(p?["aggregatorAs"] as? Int, 65003, "\(p ?? [:])")
        XCTAssertEqual(p?["aggregatorId"] as? String, "10.0.0.3", "\(p ?? [:])")
        // AGGREGATOR of 6 bytes on a 4-octet-AS session: discarded, the route kept and re-announced without it.
        raw.send(B.message(B.mpReach + B.origin + B.asPath(65003) + med + [0xC0, 7, 6, 0xFD, 0xEB, 10, 0, 0, 3] + B.extComm))
        try await Lab.wait(5, "the route re-announced without AGGREGATOR") { try await path()?["aggregatorAs"] == nil }
        p = try await path()
        XCTAssertEqual(p?["metric"] as? Int, 50)
        XCTAssertNil(p?["atomicAggregate"], "ATOMIC_AGGREGATE was not sent the second time")
        XCTAssertNotNil(dp.macs[VNIMAC(vni, B.mac)], "attribute-discard keeps the route")
        let up = try await established(a)
        XCTAssertTrue(up)
        await a.stop()
    }
}
