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

    func makeRIB(vnis: [VNIConfig] = [], dad: DuplicateAddressDetectionConfig = .init()) -> EVPNRIB {
        let rib = EVPNRIB(asn: 65001, routerID: IPAddress("10.0.0.1")!, vtep: IPAddress("10.0.0.1")!, vnis: vnis,
                          duplicateAddressDetection: dad) { [unowned self] in self.clock }
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

    /// FRR's counting: the window opens at a local learn of a remote MAC; a remote route taking
    /// the MAC back counts inside it; five moves within 180 s make a duplicate.
    func testDuplicateDetectionFiveMovesIn180Seconds() {
        let rib = makeRIB()
        rib.setLocalVNIs([vni])
        var seq: UInt32 = 0
        let k = VNIMAC(vni, mac)
        func away() { seq += 2; rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, seq: seq), from: "p1") }
        func back() { rib.localMACLearned(vni: vni, mac: mac, ip: nil) }
        back()
        away()                                   // local → remote before any window: no move counted
        XCTAssertEqual(rib.detector.count(k), 0)
        back(); away(); clock += 100; back()     // 1 (window opens), 2, 3
        XCTAssertEqual(rib.detector.count(k), 3)
        clock += 100                             // 200 s after the window opened
        away()                                   // a remote move after the window: count starts again from 0
        XCTAssertEqual(rib.detector.count(k), 0)
        back(); away(); back(); away()           // 1 (new window), 2, 3, 4
        XCTAssertTrue(dp.duplicates.isEmpty)
        clock += 10
        back()                                   // 5: duplicate, found on a local update
        XCTAssertEqual(dp.duplicates, [k])
        XCTAssertTrue(dp.events.contains("duplicate 100 02:00:00:00:00:01 5 local 198.19.1.1"), "\(dp.events)")
        XCTAssertTrue(rib.detector.isDuplicate(k))
        XCTAssertEqual(makeShowTable(rib).macs.first?.isDuplicate, true)
        // No freeze (FRR's default): the MAC is advertised and moves as before.
        XCTAssertEqual(lastExportedSeq, seq + 1)
        away()
        XCTAssertEqual(dp.macs[k]?.seq, seq)
        XCTAssertEqual(rib.clearDuplicates(vni: vni, mac: mac), 1)
        XCTAssertFalse(rib.detector.isDuplicate(k))
        XCTAssertEqual(rib.detector.count(k), 0)
        XCTAssertEqual(rib.clearDuplicates(), 0, "nothing left to clear")
    }

    /// With `freeze permanent` a duplicate stops flapping: found on a local learn, it is not
    /// advertised and the remote route is not installed, whatever sequence comes next; cleared,
    /// the best route wins again.
    func testFrozenDuplicateIsNeitherAdvertisedNorInstalledUntilCleared() {
        let rib = makeRIB(dad: .init(maxMoves: 3, freeze: .permanent))
        rib.setLocalVNIs([vni])
        let k = VNIMAC(vni, mac)
        var seq: UInt32 = 0
        func away() { seq += 2; rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, seq: seq), from: "p1") }
        func back() { rib.localMACLearned(vni: vni, mac: mac, ip: nil) }
        back(); away(); back(); away()           // count 1, 2
        XCTAssertEqual(dp.macs[k]?.vtep, vtepA)
        exports.removeAll()
        let events = dp.events.count
        back()                                   // 3: duplicate, frozen as it was: not advertised
        XCTAssertEqual(dp.events.dropFirst(events).map { $0 }, ["duplicate 100 02:00:00:00:00:01 3 local 198.19.1.1 frozen"])
        XCTAssertTrue(exports.isEmpty, "a frozen duplicate found locally is not advertised")
        XCTAssertTrue(rib.detector.isFrozen(k))
        away(); away()                           // the remote VTEP keeps raising its sequence
        XCTAssertTrue(exports.isEmpty)
        XCTAssertEqual(dp.events.count, events + 1, "nothing installed or withdrawn while frozen")
        let table = makeShowTable(rib)
        XCTAssertEqual(table.macs.count, 1, "listed once")
        XCTAssertEqual(table.macs.first?.type, "local")
        XCTAssertEqual(table.macs.first?.isDuplicate, true)
        // Cleared: the remote route has the higher sequence now and takes the MAC.
        XCTAssertEqual(rib.clearDuplicates(vni: vni), 1)
        XCTAssertEqual(dp.macs[k]?.seq, seq)
        XCTAssertTrue(rib.localMACs[k]?.movedAway ?? false)
        // Learned here again: advertised above it, counted from 1.
        back()
        XCTAssertEqual(lastExportedSeq, seq + 1)
        XCTAssertEqual(rib.detector.count(k), 1)
    }

    /// Found on a remote route with a freeze: our route is withdrawn (FRR tells BGP the local
    /// MAC is gone) but the remote one is not installed; `freeze: SECONDS` ends on its own.
    func testFreezeFoundOnRemoteUpdateRecoversAfterFreezeTime() {
        let rib = makeRIB(dad: .init(maxMoves: 2, freeze: .seconds(30)))
        rib.setLocalVNIs([vni])
        let k = VNIMAC(vni, mac)
        rib.localMACLearned(vni: vni, mac: mac, ip: nil)
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, seq: 1), from: "p1")
        rib.localMACLearned(vni: vni, mac: mac, ip: nil)   // 1
        XCTAssertEqual(lastExportedSeq, 2)
        exports.removeAll()
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, seq: 3), from: "p1")  // 2: duplicate
        XCTAssertEqual(dp.events.last, "duplicate 100 02:00:00:00:00:01 2 remote 198.19.1.1 frozen")
        XCTAssertEqual(exports.last?.withdraw.count, 1, "our route is withdrawn")
        XCTAssertNil(dp.macs[k], "the remote route is not installed")
        XCTAssertEqual(rib.detector.recoveryTime(k), clock + 30)
        XCTAssertEqual(makeShowTable(rib).macs.map(\.type), ["local"], "shown where the switch keeps it")
        clock += 29
        rib.recoverExpiredDuplicates()
        XCTAssertTrue(rib.detector.isFrozen(k))
        clock += 1
        rib.recoverExpiredDuplicates()
        XCTAssertFalse(rib.detector.isDuplicate(k))
        XCTAssertEqual(dp.macs[k]?.seq, 3, "after the freeze the best route is installed")
    }

    func testDetectionOffCountsNothing() {
        let rib = makeRIB(dad: .init(enabled: false))
        rib.setLocalVNIs([vni])
        for s in stride(from: UInt32(1), to: 40, by: 2) {
            rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, seq: s), from: "p1")
            rib.localMACLearned(vni: vni, mac: mac, ip: nil)
        }
        XCTAssertTrue(dp.duplicates.isEmpty)
        XCTAssertEqual(rib.detector.count(VNIMAC(vni, mac)), 0)
    }

    func makeShowTable(_ rib: EVPNRIB) -> EVPNMACTable { rib.macTable(vni) }

    /// A VM with an IPv4 and an IPv6 address and a second IPv4: every MAC/IP route of the MAC
    /// reaches the data plane (ARP/ND suppression answers for all), and one withdrawn leaves.
    func testSeveralIPsPerMACAllReachTheDataPlane() {
        let rib = makeRIB()
        rib.setLocalVNIs([vni])
        let rd = RouteDistinguisher.as2(65002, 1)
        let v4a = IPAddress("10.1.1.1")!, v4b = IPAddress("10.1.1.2")!, v6 = IPAddress("fd00:1::1")!
        rib.apply(update([type2(rd), type2(rd, ip: v4a), type2(rd, ip: v6), type2(rd, ip: v4b)], nextHop: vtepA), from: "p1")
        XCTAssertEqual(dp.macs[VNIMAC(vni, mac)]?.ips, [v4a, v4b, v6].sorted())
        XCTAssertEqual(rib.macTable(vni).macs.first?.ips.count, 3)
        rib.apply(update([type2(rd, ip: v4b)], nextHop: vtepA, withdraw: true), from: "p1")
        XCTAssertEqual(dp.macs[VNIMAC(vni, mac)]?.ips, [v4a, v6].sorted())
        // Routes of another VTEP that is not the best one do not add IPs.
        rib.apply(update([type2(.as2(65003, 1), ip: IPAddress("10.1.1.9"))], nextHop: vtepB), from: "p2")
        XCTAssertEqual(dp.macs[VNIMAC(vni, mac)]?.ips, [v4a, v6].sorted())
    }

    /// A floating IP moves from VM A (behind vtepA) to VM B (behind vtepB): B's MAC/IP route
    /// takes the IP even while A's is not withdrawn yet, A's re-announcement of an older claim
    /// does not take it back, and A's withdrawal leaves B's entry alone.
    func testFloatingIPGoesToTheNewestMACIPRoute() {
        let rib = makeRIB()
        rib.setLocalVNIs([vni])
        let a = MACAddress("02:00:00:00:00:0a")!, b = MACAddress("02:00:00:00:00:0b")!, ip = IPAddress("10.1.1.50")!
        let rdA = RouteDistinguisher.as2(65002, 1), rdB = RouteDistinguisher.as2(65003, 1)
        rib.apply(update([type2(rdA, a), type2(rdA, a, ip: ip)], nextHop: vtepA), from: "p1")
        XCTAssertEqual(dp.macs[VNIMAC(vni, a)]?.ips, [ip])
        rib.apply(update([type2(rdB, b), type2(rdB, b, ip: ip)], nextHop: vtepB), from: "p2")
        XCTAssertEqual(dp.macs[VNIMAC(vni, b)]?.ips, [ip], "the new owner has the IP")
        XCTAssertEqual(dp.macs[VNIMAC(vni, a)]?.ips, [], "the old owner lost it (its route is still there)")
        // A's MAC-only route refreshed: no change for the IP.
        rib.apply(update([type2(rdA, a)], nextHop: vtepA), from: "p1")
        XCTAssertEqual(dp.macs[VNIMAC(vni, b)]?.ips, [ip])
        XCTAssertEqual(dp.macs[VNIMAC(vni, a)]?.ips, [])
        // A's MAC/IP withdrawn: B keeps it; B's withdrawn too: nobody has it.
        rib.apply(update([type2(rdA, a, ip: ip)], nextHop: vtepA, withdraw: true), from: "p1")
        XCTAssertEqual(dp.macs[VNIMAC(vni, b)]?.ips, [ip])
        rib.apply(update([type2(rdB, b, ip: ip)], nextHop: vtepB, withdraw: true), from: "p2")
        XCTAssertEqual(dp.macs[VNIMAC(vni, b)]?.ips, [])
        // A higher MAC mobility sequence wins over arrival order.
        rib.apply(update([type2(rdA, a, ip: ip)], nextHop: vtepA, seq: 4), from: "p1")
        rib.apply(update([type2(rdB, b, ip: ip)], nextHop: vtepB, seq: 1), from: "p2")
        XCTAssertEqual(dp.macs[VNIMAC(vni, a)]?.ips, [ip])
        XCTAssertEqual(dp.macs[VNIMAC(vni, b)]?.ips, [])
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

    /// The Adj-RIB-In reuses a withdrawn route's slot: the indexes (by MAC) must never keep it.
    /// One MAC behind two VTEPs, one withdrawn, its slot taken by another MAC's route.
    func testAFreedSlotIsReusedWithoutStaleIndexEntries() {
        let rib = makeRIB()
        rib.setLocalVNIs([vni])
        let other = MACAddress("02:00:00:00:00:02")!
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA), from: "p1")
        rib.apply(update([type2(.as2(65003, 1))], nextHop: vtepB), from: "p1")
        XCTAssertEqual(rib.installed[VNIMAC(vni, mac)]?.vtep, vtepA) // the lower VTEP at equal sequence
        rib.apply(update([type2(.as2(65002, 1))], nextHop: vtepA, withdraw: true), from: "p1")
        XCTAssertEqual(rib.installed[VNIMAC(vni, mac)]?.vtep, vtepB)
        rib.apply(update([type2(.as2(65002, 1), other)], nextHop: vtepA), from: "p1")
        XCTAssertEqual(rib.installed[VNIMAC(vni, other)]?.vtep, vtepA)
        XCTAssertEqual(rib.remoteCandidates(VNIMAC(vni, mac)).map(\.nextHop), [vtepB])
        rib.apply(update([type2(.as2(65003, 1))], nextHop: vtepB, withdraw: true), from: "p1")
        XCTAssertNil(rib.installed[VNIMAC(vni, mac)])
        XCTAssertEqual(rib.installed[VNIMAC(vni, other)]?.vtep, vtepA)
        XCTAssertEqual(rib.routeCount, 1)
        XCTAssertEqual(rib.adjIn["p1"]?.values.map(\.route), [type2(.as2(65002, 1), other)])
        rib.dropRoutes(of: "p1")
        XCTAssertEqual(rib.routeCount, 0)
        XCTAssertNil(rib.installed[VNIMAC(vni, other)])
    }

    /// `tableCapacity` (the switch's fdb.max-entries) sizes the per-MAC tables and a peer's
    /// route table when they are made, so they do not rehash while a full table streams in.
    func testATableCapacitySizesTheRIBTablesUpFront() {
        let rib = EVPNRIB(asn: 65001, routerID: IPAddress("10.0.0.1")!, vtep: IPAddress("10.0.0.1")!, tableCapacity: 4096) { 0 }
        XCTAssertGreaterThanOrEqual(rib.byMAC.capacity, 4096)
        XCTAssertGreaterThanOrEqual(rib.installed.capacity, 4096)
        XCTAssertEqual(rib.adjRIBIn.peerTableCapacity, 4096)
        let plain = EVPNRIB(asn: 65001, routerID: IPAddress("10.0.0.1")!, vtep: IPAddress("10.0.0.1")!) { 0 }
        XCTAssertLessThan(plain.installed.capacity, 4096)
    }
}
