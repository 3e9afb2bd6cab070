import XCTest
import VXCore
@testable import VXEVPN

/// Local VMs' IPs (ARP/ND) in the RIB (`EVPNRIB+LocalIPs.swift`): a MAC/IP route each, the
/// higher sequence over a remote claim (RFC 7432 §15), the IP leaving with its MAC or to
/// another one, per-IP duplicate detection and `show evpn arp-cache`.
final class LocalIPTests: XCTestCase {
    var clock = 1000.0
    var dp = RecordingDataplane()
    var exports: [(announce: [ExportedRoute], withdraw: [EVPNRoute])] = []
    let vni = VNI(100)!
    let vmMAC = MACAddress("02:00:00:00:00:01")!, otherVM = MACAddress("02:00:00:00:00:02")!
    let remoteMAC = MACAddress("02:00:00:00:00:99")!
    let ip = IPAddress("10.1.0.5")!
    let vtepA = IPAddress("198.19.1.1")!

    func makeRIB(dad: DuplicateAddressDetectionConfig = .init()) -> EVPNRIB {
        let rib = EVPNRIB(asn: 65001, routerID: IPAddress("10.0.0.1")!, vtep: IPAddress("10.0.0.1")!,
                          duplicateAddressDetection: dad) { [unowned self] in self.clock }
        rib.dataplane = dp
        rib.onExport = { [unowned self] a, w in self.exports.append((a, w)) }
        rib.setLocalVNIs([vni])
        return rib
    }

    func remoteClaim(_ rib: EVPNRIB, seq: UInt32, withdraw: Bool = false) {
        var a = PathAttributes()
        let r = EVPNRoute.macIP(EVPNMACIPRoute(rd: .as2(65002, 1), mac: remoteMAC, ip: ip, label1: 100))
        if withdraw { a.mpUnreach = MPUnreachNLRI(routes: [r]); return rib.apply(BGPUpdate(attributes: a), from: "p1") }
        a.origin = .igp; a.asPath = [ASPathSegment(.sequence, [65002])]
        a.extendedCommunities = [.routeTarget(.as2(65001, 100)), .vxlanEncapsulation, .macMobility(sticky: false, sequence: seq)]
        a.mpReach = MPReachNLRI(nextHop: vtepA, routes: [r])
        rib.apply(BGPUpdate(attributes: a), from: "p1")
    }

    /// Our exported MAC/IP route for `ip` (its MAC and sequence), if any.
    func ourRoute(_ rib: EVPNRIB) -> (mac: MACAddress, seq: UInt32)? {
        for e in rib.exported.values { if case .macIP(let m) = e.route, m.ip == ip { return (m.mac, e.extendedCommunities.macMobility.sequence) } }
        return nil
    }

    func testLearnedIPGetsAMACIPRouteBesideTheMACRoute() {
        let rib = makeRIB()
        rib.localMACLearned(vni: vni, mac: vmMAC, ip: nil)
        rib.localIPLearned(vni: vni, mac: vmMAC, ip: ip)
        rib.localIPLearned(vni: vni, mac: vmMAC, ip: IPAddress("fd00::5")!)
        let routes = rib.exported.values.compactMap { e -> EVPNMACIPRoute? in if case .macIP(let m) = e.route { return m } else { return nil } }
        XCTAssertEqual(Set(routes.map { $0.ip?.description ?? "-" }), ["-", "10.1.0.5", "fd00::5"], "several IPs per MAC")
        XCTAssertEqual(ourRoute(rib)?.seq, 0)
        // The IP moves to another local VM: the old MAC's route for it goes, the new one has sequence + 1.
        rib.localMACLearned(vni: vni, mac: otherVM, ip: nil)
        rib.localIPLearned(vni: vni, mac: otherVM, ip: ip)
        XCTAssertEqual(ourRoute(rib)?.mac, otherVM)
        XCTAssertEqual(ourRoute(rib)?.seq, 1)
        XCTAssertEqual(rib.exported.values.filter { if case .macIP(let m) = $0.route { return m.ip == ip } else { return false } }.count, 1)
        // The MAC ages out: its IP goes with it, neighbour entry too.
        rib.localMACRemoved(vni: vni, mac: otherVM)
        XCTAssertNil(ourRoute(rib))
        XCTAssertTrue(dp.events.contains("neighbor- 100 10.1.0.5 02:00:00:00:00:02"), "\(dp.events)")
    }

    func testLocalClaimOfARemoteIPHasTheHigherSequenceAndWins() {
        let rib = makeRIB()
        remoteClaim(rib, seq: 3)
        XCTAssertEqual(dp.macs[VNIMAC(vni, remoteMAC)]?.ips, [ip])
        XCTAssertEqual(rib.arpCache(vni).neighbors.map(\.type), ["remote"])
        rib.localMACLearned(vni: vni, mac: vmMAC, ip: nil)
        rib.localIPLearned(vni: vni, mac: vmMAC, ip: ip) // a gratuitous ARP of the floating IP here
        XCTAssertEqual(ourRoute(rib)?.seq, 4, "RFC 7432 §15: the remote's sequence + 1")
        XCTAssertEqual(dp.macs[VNIMAC(vni, remoteMAC)]?.ips, [], "the remote MAC no longer has the IP (suppression)")
        let cache = rib.arpCache(vni)
        XCTAssertEqual(cache.neighbors.map(\.type), ["local"])
        XCTAssertEqual(cache.neighbors.first?.localSequence, 4)
        XCTAssertEqual(cache.neighbors.first?.remoteSequence, 3)
        // The remote VTEP takes it back with a higher sequence: ours is withdrawn, theirs installed.
        remoteClaim(rib, seq: 5)
        XCTAssertNil(ourRoute(rib))
        XCTAssertEqual(dp.macs[VNIMAC(vni, remoteMAC)]?.ips, [ip])
        XCTAssertEqual(rib.arpCache(vni).neighbors.first?.type, "remote")
    }

    func testPerIPDuplicateDetectionWithTheSameCounting() {
        let rib = makeRIB(dad: .init(maxMoves: 3, seconds: 180, freeze: .permanent))
        rib.localMACLearned(vni: vni, mac: vmMAC, ip: nil)
        var seq: UInt32 = 0
        func here() { rib.localIPLearned(vni: vni, mac: vmMAC, ip: ip) }
        func away() { seq = (ourRoute(rib)?.seq ?? seq) + 1; remoteClaim(rib, seq: seq) }
        away(); here(); away(); here()          // moves 1 (window opens), 2, 3 → duplicate, frozen
        let key = VNIIP(vni, ip)
        XCTAssertTrue(rib.ipDetector.isDuplicate(key))
        XCTAssertTrue(dp.events.contains { $0.hasPrefix("duplicate-ip 100 10.1.0.5 3 local") }, "\(dp.events)")
        XCTAssertNil(ourRoute(rib), "frozen: not advertised")
        XCTAssertEqual(rib.arpCache(vni).neighbors.first?.isDuplicate, true)
        XCTAssertFalse(rib.detector.isDuplicate(VNIMAC(vni, vmMAC)), "the MAC itself did not move")
        XCTAssertEqual(rib.clearDuplicates(vni: vni), 1)
        XCTAssertNotNil(ourRoute(rib), "cleared: advertised again")
    }

    func testARPCacheJSONHasFRRsShape() throws {
        let rib = makeRIB()
        remoteClaim(rib, seq: 0)
        rib.localMACLearned(vni: vni, mac: vmMAC, ip: nil)
        rib.localIPLearned(vni: vni, mac: vmMAC, ip: IPAddress("10.1.0.6")!)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(rib.arpCache(vni))) as? [String: Any]
        XCTAssertEqual(json?["numArpNd"] as? Int, 2)
        let remote = json?["10.1.0.5"] as? [String: Any]
        XCTAssertEqual(Set(remote?.keys ?? [:].keys), ["type", "state", "mac", "remoteVtep", "localSequence", "remoteSequence",
                                                      "detectionCount", "isDuplicate"])
        XCTAssertEqual(remote?["remoteVtep"] as? String, "198.19.1.1")
        let decoded = try JSONDecoder().decode(EVPNARPCache.self, from: JSONEncoder().encode(rib.arpCache(vni)))
        XCTAssertEqual(decoded.neighbors.map(\.ip), ["10.1.0.5", "10.1.0.6"])
        let text = rib.arpCache(vni).formatted()
        XCTAssertTrue(text.hasPrefix("Number of ARPs (local and remote) known for this VNI: 2\n"), text)
        XCTAssertTrue(text.contains("10.1.0.6        local        active   02:00:00:00:00:01"), text)
    }
}
