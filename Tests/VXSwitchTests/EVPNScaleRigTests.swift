import Foundation
import VXCore
import VXEVPN
import VXLab
import VXLabKit
import XCTest

/// `vxsw bench-evpn`'s rig at a small size: the feeder's UPDATEs, and both contenders (vxsw, FRR
/// → kernel FDB) fed through real BGP sessions end with every route in, no stale entry after
/// the churn, none after the withdraw-all. Correctness only, never timing.
final class EVPNScaleRigTests: XCTestCase {
    /// Every UPDATE fits 4096 bytes, carries one VNI's RT, and together they are the N routes.
    func testFeedPacksEveryRouteIntoUpdatesThatFit() throws {
        let feed = EVPNRouteFeed(routes: 2000, vniCount: 20, asn: 65000)
        var macs = Set<MACAddress>(), imets = 0
        let context = BGPDecodeContext(fourOctetAS: true, internalPeer: true)
        for bytes in feed.announce(nextHop: IPAddress("198.18.0.200")!) {
            XCTAssertLessThanOrEqual(bytes.count, BGPMessage.maxLength)
            guard case .update(let u) = try BGPMessage.decode(bytes, context: context) else { return XCTFail("not an UPDATE") }
            XCTAssertTrue(u.problems.isEmpty, "\(u.problems)")
            XCTAssertEqual(u.attributes.extendedCommunities.routeTargets.count, 1)
            for r in u.evpnAnnounced {
                switch r {
                case .macIP(let m):
                    XCTAssertEqual(RouteTarget.as2(65000, m.label1), u.attributes.extendedCommunities.routeTargets.first)
                    XCTAssertTrue(macs.insert(m.mac).inserted, "\(m.mac) twice")
                case .imet: imets += 1
                default: XCTFail("unexpected \(r)")
                }
            }
        }
        XCTAssertEqual(macs.count, 2000)
        XCTAssertEqual(imets, 20)
        var withdrawn = 0
        for bytes in feed.withdrawAll(vteps: [IPAddress("198.18.0.200")!]) {
            XCTAssertLessThanOrEqual(bytes.count, BGPMessage.maxLength)
            guard case .update(let u) = try BGPMessage.decode(bytes, context: context) else { return XCTFail("not an UPDATE") }
            withdrawn += u.evpnWithdrawn.count
        }
        XCTAssertEqual(withdrawn, 2001, "the N routes and the marker")
    }

    func testBothContendersInstallChurnAndWithdrawEveryRoute() throws {
        try requireEVPNFabric()
        let rig = EVPNScaleRig(.init(routes: 2000, vnis: 20, timeout: 120), binary: try vxswBinary()) { print("[scale] \($0)") }
        let results = try rig.run()
        XCTAssertEqual(results.map(\.contender), [.vxsw, .frr])
        for r in results {
            let who = r.contender.rawValue
            XCTAssertNotNil(r.announce.seconds, "\(who): \(r.announce.note ?? "")")
            XCTAssertEqual(r.announce.reached, 2000, who)
            XCTAssertNotNil(r.churn?.seconds, "\(who): \(r.churn?.note ?? "not run")")
            XCTAssertEqual(r.churnStale, 0, "\(who): entries left at the old next hop")
            XCTAssertEqual(r.churnMoved, 2000, "\(who): entries at the new next hop")
            XCTAssertNotNil(r.withdraw?.seconds, "\(who): \(r.withdraw?.note ?? "not run")")
            XCTAssertEqual(r.withdraw?.reached, 0, "\(who): entries left after withdraw-all")
            XCTAssertTrue(r.correct, who)
        }
    }
}
