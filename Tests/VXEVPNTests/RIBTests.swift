import XCTest
import VXCore
@testable import VXEVPN

/// The EVPN RIB without sessions: import, best path, MAC mobility, duplicates, graceful restart.
final class RIBTests: XCTestCase {
    var clock = 1000.0
    var dp = RecordingDataplane()
    var exports: [(announce: [ExportedRoute], withdraw: [EVPNRoute])] = []
    let vni = VNI(100)!
    let mac = MACAddress("02:00:00:00:00:01")!
    let vtepA = IPAddress("198.19.1.1")!, vtepB = IPAddress("198.19.1.2")!

    func makeRIB(vnis: [VNIConfig] = []) -> EVPNRIB {
        let rib = EVPNRIB(asn: 65001, routerID: IPAddress("10.0.0.1")!, vtep: IPAddress("10.0.0.1")!, vnis: vnis) { [unowned self] in self.clock }
        rib.dataplane = dp
        rib.onExport = { [unowned self] a, w in self.exports.append((a, w)) }
        return rib
    }

    func update(_ routes: [EVPNRoute], nextHop: IPAddress, rt: RouteTarget = .as2(65001, 100), seq: UInt32? = nil,
                sticky: Bool = false, pmsi: PMSITunnel? = nil, withdraw: Bool = false) -> BGPUpdate {
        var a = PathAttributes()
        if withdraw { a.mpUnreach = MPUnreachNLRI(routes: routes); return BGPUpdate(attributes: a) }
        a.origin = .igp; a.asPath = [ASPathSegment(.sequence, [65002])]
        a.extendedCommunities = [.routeTarget(rt), .vxlanEncapsulation]
        if let seq { a.extendedCommunities.append(.macMobility(sticky: sticky, sequence: seq)) }
        a.pmsiTunnel = pmsi
        a.mpReach = MPReachNLRI(nextHop: nextHop, routes: routes)
        return BGPUpdate(attributes: a)
    }
    func type2(_ rd: RouteDistinguisher, _ m: MACAddress? = nil, ip: IPAddress? = nil) -> EVPNRoute {
        .macIP(EVPNMACIPRoute(rd: rd, mac: m ?? mac, ip: ip, label1: 100))
    }
    var lastExportedSeq: UInt32? {
        exports.last?.announce.first.map { $0.extendedCommunities.macMobility.sequence }
    }

    func testAutoRDAndRTLikeFRR() {
        let rib = makeRIB(vnis: [VNIConfig(vni: 300, rd: RouteDistinguisher("65001:7"), importRTs: [RouteTarget("65099:300")!])])
        rib.setLocalVNIs([VNI(100)!, VNI(200)!, VNI(300)!])
        XCTAssertEqual(rib.vnis[VNI(100)!]?.rd.description, "10.0.0.1:1")
        XCTAssertEqual(rib.vnis[VNI(200)!]?.rd.description, "10.0.0.1:2")
        XCTAssertEqual(rib.vnis[VNI(100)!]?.importRTs, [.as2(65001, 100)])
        XCTAssertEqual(rib.vnis[VNI(300)!]?.rd.description, "65001:7")
        XCTAssertEqual(rib.vnis[VNI(300)!]?.importRTs.map(\.description), ["65099:300"])
        XCTAssertEqual(rib.vnis[VNI(300)!]?.exportRTs, [.as2(65001, 300)])
        // One type-3 per VNI, with PMSI ingress replication to our VTEP and label = VNI.
        let imets = rib.exported.values.filter { $0.route.routeType == 3 }
        XCTAssertEqual(imets.count, 3)
        XCTAssertEqual(imets.first { $0.vni == VNI(100)! }?.pmsi, .ingressReplication(vni: VNI(100)!, vtep: IPAddress("10.0.0.1")!))
        // A 4-octet local AS: FRR's auto RT keeps the low 16 bits.
        let big = EVPNRIB(asn: 4_200_000_001, routerID: IPAddress("10.0.0.1")!, vtep: IPAddress("10.0.0.1")!) { 0 }
        XCTAssertEqual(big.autoRouteTarget(VNI(100)!), .as2(UInt16(4_200_000_001 & 0xFFFF), 100))
    }

    func testImportByRouteTargetAndFloodList() {
        let rib = makeRIB()
        rib.setLocalVNIs([vni])
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, rt: .as2(65001, 999)), from: "p1")
        XCTAssertTrue(dp.macs.isEmpty)
        rib.apply(update([type2(.as2(65002, 1), ip: IPAddress("10.1.1.1"))], nextHop: vtepA), from: "p1")
        XCTAssertEqual(dp.macs[VNIMAC(vni, mac)]?.vtep, vtepA)
        XCTAssertEqual(dp.macs[VNIMAC(vni, mac)]?.ip, IPAddress("10.1.1.1"))
        let imet = EVPNRoute.imet(EVPNIMETRoute(rd: .as2(65002, 1), originator: vtepA))
        rib.apply(update([imet], nextHop: vtepA, pmsi: .ingressReplication(vni: vni, vtep: vtepA)), from: "p1")
        XCTAssertEqual(dp.flood[vni], [vtepA])
        rib.apply(update([imet], nextHop: vtepA, withdraw: true), from: "p1")
        XCTAssertEqual(dp.flood[vni] ?? [], [])
        // Routes with our own VTEP as next hop (reflected back) are never installed.
        rib.apply(update([type2(.as2(65002, 9), MACAddress("02:00:00:00:00:09"))], nextHop: IPAddress("10.0.0.1")!), from: "p1")
        XCTAssertNil(dp.macs[VNIMAC(vni, MACAddress("02:00:00:00:00:09")!)])
        // Removing the VNI removes its forwarding state.
        rib.setLocalVNIs([])
        XCTAssertTrue(dp.macs.isEmpty)
        XCTAssertTrue(rib.exported.isEmpty)
    }

    func testBestPathHigherSequenceThenSticky() {
        let rib = makeRIB()
        rib.setLocalVNIs([vni])
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, seq: 0), from: "p1")
        rib.apply(update([type2(.as2(65003, 1))], nextHop: vtepB, seq: 3), from: "p2")
        XCTAssertEqual(dp.macs[VNIMAC(vni, mac)]?.vtep, vtepB)
        XCTAssertEqual(dp.macs[VNIMAC(vni, mac)]?.seq, 3)
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, seq: 1, sticky: true), from: "p1")
        XCTAssertEqual(dp.macs[VNIMAC(vni, mac)]?.vtep, vtepA, "a sticky MAC wins over a higher sequence")
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, withdraw: true), from: "p1")
        XCTAssertEqual(dp.macs[VNIMAC(vni, mac)]?.vtep, vtepB)
        // A withdrawal with a different label still matches (labels are not part of the key).
        rib.apply(update([.macIP(EVPNMACIPRoute(rd: .as2(65003, 1), mac: mac, label1: 0))], nextHop: vtepB, withdraw: true), from: "p2")
        XCTAssertNil(dp.macs[VNIMAC(vni, mac)])
    }

    func testLocalMoveRaisesSequenceAndRemoteMoveWithdrawsOurRoute() {
        let rib = makeRIB()
        rib.setLocalVNIs([vni])
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, seq: 2), from: "p1")
        XCTAssertNotNil(dp.macs[VNIMAC(vni, mac)])
        // The VM shows up here: sequence = highest remote + 1, remote entry removed.
        rib.localMACLearned(vni: vni, mac: mac, ip: nil)
        XCTAssertEqual(lastExportedSeq, 3)
        XCTAssertNil(dp.macs[VNIMAC(vni, mac)])
        XCTAssertEqual(rib.localMACs[VNIMAC(vni, mac)]?.sequence, 3)
        // It moves back to A with sequence 4: our route is withdrawn, A's installed.
        exports.removeAll()
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, seq: 4), from: "p1")
        XCTAssertEqual(dp.macs[VNIMAC(vni, mac)]?.seq, 4)
        XCTAssertEqual(exports.last?.withdraw.count, 1)
        XCTAssertTrue(rib.localMACs[VNIMAC(vni, mac)]?.movedAway ?? false)
        // Learned here again: sequence 5.
        rib.localMACLearned(vni: vni, mac: mac, ip: nil)
        XCTAssertEqual(lastExportedSeq, 5)
    }

    func testStickyLocalMACDoesNotMove() {
        let rib = makeRIB()
        rib.setLocalVNIs([vni])
        rib.localMACLearned(vni: vni, mac: mac, ip: nil, sticky: true)
        XCTAssertEqual(exports.last?.announce.first?.extendedCommunities.macMobility.sticky, true)
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, seq: 9), from: "p1")
        XCTAssertNil(dp.macs[VNIMAC(vni, mac)])
        XCTAssertFalse(rib.localMACs[VNIMAC(vni, mac)]?.movedAway ?? true)
    }

    func testDuplicateDetectionFiveMovesIn180Seconds() {
        let rib = makeRIB()
        rib.setLocalVNIs([vni])
        var seq: UInt32 = 0
        func bounce() {
            seq += 1
            rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, seq: seq), from: "p1") // moves away
            rib.localMACLearned(vni: vni, mac: mac, ip: nil)                                // moves back
            seq += 1
        }
        rib.localMACLearned(vni: vni, mac: mac, ip: nil)
        bounce(); clock += 100; bounce()
        XCTAssertTrue(dp.duplicates.isEmpty)
        clock += 100 // the first two moves are now older than 180 s
        bounce()
        XCTAssertTrue(dp.duplicates.isEmpty)
        clock += 10
        bounce()
        XCTAssertEqual(dp.duplicates, [VNIMAC(vni, mac)])
        XCTAssertNotNil(rib.duplicates[VNIMAC(vni, mac)])
        rib.clearDuplicate(vni: vni, mac: mac)
        XCTAssertNil(rib.duplicates[VNIMAC(vni, mac)])
    }

    func testGracefulRestartKeepsStaleRoutesUntilRefreshed() {
        let rib = makeRIB()
        rib.setLocalVNIs([vni])
        let other = MACAddress("02:00:00:00:00:02")!
        rib.apply(update([type2(.as2(65002, 1)), type2(.as2(65002, 1), other)], nextHop: vtepA), from: "p1")
        rib.markStale("p1")
        XCTAssertEqual(dp.macs.count, 2, "stale routes keep forwarding")
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA), from: "p1") // re-advertised after restart
        rib.dropRoutes(of: "p1", onlyStale: true)                                // End-of-RIB
        XCTAssertEqual(Set(dp.macs.keys), [VNIMAC(vni, mac)])
        rib.dropRoutes(of: "p1")
        XCTAssertTrue(dp.macs.isEmpty)
    }
}
