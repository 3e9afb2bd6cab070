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

    /// The rig's observer of FRR's kernel FDB, from neighbour notifications, agrees with a dump
    /// of the same table: entries added with a VTEP, moved to another (replace), deleted; the
    /// bridge's own entries (no `dst`) and the all-zero flood entries not counted.
    func testTheKernelFDBWatchCountsWhatADumpCounts() throws {
        try XCTSkipUnless(isRoot, "needs root: builds a network namespace with a bridge and vxlan devices")
        let ns = try NetworkNamespace("vxw\(labTag)")
        defer { ns.remove() }
        try ns.exec(["ip", "link", "add", "br0", "type", "bridge"])
        for (i, vni) in [100, 200].enumerated() {
            try ns.exec(["ip", "link", "add", "vx\(i)", "type", "vxlan", "id", "\(vni)", "dstport", "4789", "local", "10.0.0.1", "nolearning"])
            try ns.exec(["ip", "link", "set", "vx\(i)", "master", "br0", "up"])
        }
        try ns.exec(["ip", "link", "set", "br0", "up"])
        let watch = try KernelFDBWatch(in: ns)
        defer { watch.stop() }
        func mac(_ i: Int) -> String { String(format: "02:00:00:00:%02x:%02x", i >> 8, i & 0xFF) }
        var batch = (0..<300).map { "fdb add \(mac($0)) dev vx\($0 % 2) dst 10.0.0.2 self" }
        batch += ["fdb append 00:00:00:00:00:00 dev vx0 dst 10.0.0.9 self", "fdb add 02:aa:00:00:00:01 dev vx1 master"]
        batch += (0..<100).map { "fdb replace \(mac($0)) dev vx\($0 % 2) dst 10.0.0.3 self" }
        batch += (250..<300).map { "fdb del \(mac($0)) dev vx\($0 % 2) self" }
        let file = NSTemporaryDirectory() + "vxsw-fdb-watch-\(labTag).batch"
        try batch.joined(separator: "\n").appending("\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try ns.exec(["bridge", "-batch", file])
        func dump(_ pattern: String) throws -> Int {
            Int(try ns.exec(["sh", "-c", "bridge fdb show | grep -v '^00:00:00:00:00:00' | grep -c '\(pattern)' || true"]).output
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        XCTAssertEqual(try dump("dst "), 250)
        XCTAssertTrue(waitUntil(timeout: 5) { watch.count.entries == 250 }, "the watch counts \(watch.count.entries)")
        XCTAssertEqual(watch.entries(to: "10.0.0.3"), try dump("dst 10.0.0.3 "))
        XCTAssertEqual(watch.entries(to: "10.0.0.2"), try dump("dst 10.0.0.2 "))
        XCTAssertEqual(watch.entries(to: "10.0.0.3"), 100)
        XCTAssertFalse(watch.overflowed)
    }
}
