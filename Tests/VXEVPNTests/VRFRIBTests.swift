import XCTest
import VXCore
@testable import VXEVPN

/// Symmetric IRB in the RIB (RFC 9135/9136 type 2): local hosts → MAC/IP routes with Label2,
/// the VRF's RTs and the Router's MAC; remote ones → host routes in the VRF.
final class VRFRIBTests: XCTestCase {
    var dp = RecordingDataplane()
    var exports: [(announce: [ExportedRoute], withdraw: [EVPNRoute])] = []
    let l2 = VNI(1001)!, l3 = VNI(5000)!
    let mac = MACAddress("52:54:00:00:01:01")!, rmac = MACAddress("02:00:0a:00:00:01")!
    let remoteRMAC = MACAddress("02:00:0a:00:00:02")!
    let host = IPAddress("10.10.1.10")!, remoteHost = IPAddress("10.10.2.10")!
    let vtepA = IPAddress("198.19.1.2")!, vtepB = IPAddress("198.19.1.3")!

    func makeRIB() -> EVPNRIB {
        let rib = EVPNRIB(asn: 65001, routerID: IPAddress("10.0.0.1")!, vtep: IPAddress("10.0.0.1")!,
                          vrfs: [VRFConfig(l3VNI: 5000, routerMAC: rmac, vnis: [1001])]) { 0 }
        rib.dataplane = dp
        rib.onExport = { [unowned self] a, w in self.exports.append((a, w)) }
        rib.setLocalVNIs([l2])
        return rib
    }

    /// A remote VTEP's MAC/IP route for `ip` in VNI 1002 with L3 VNI 5000 (or no Label2 / Rmac).
    func remote(_ ip: IPAddress, from vtep: IPAddress, label2: UInt32? = 5000, rmac: MACAddress?,
                rt: RouteTarget = .as2(65001, 5000), seq: UInt32 = 0, withdraw: Bool = false) -> BGPUpdate {
        let r = EVPNRoute.macIP(EVPNMACIPRoute(rd: .ipv4(vtep.v4, 1), mac: MACAddress("52:54:00:00:02:01")!, ip: ip,
                                               label1: 1002, label2: label2))
        var a = PathAttributes()
        if withdraw { a.mpUnreach = MPUnreachNLRI(routes: [r]); return BGPUpdate(attributes: a) }
        a.origin = .igp; a.asPath = []
        a.extendedCommunities = [.routeTarget(.as2(65001, 1002)), .routeTarget(rt), .vxlanEncapsulation]
        if let rmac { a.extendedCommunities.append(.routerMAC(rmac)) }
        if seq > 0 { a.extendedCommunities.append(.macMobility(sticky: false, sequence: seq)) }
        a.mpReach = MPReachNLRI(nextHop: vtep, routes: [r])
        return BGPUpdate(attributes: a)
    }

    func testLocalHostIsAdvertisedWithBothLabelsVRFTargetAndRouterMAC() throws {
        let rib = makeRIB()
        XCTAssertEqual(rib.vrfs[l3]?.importRTs, [.as2(65001, 5000)])
        rib.localMACLearned(vni: l2, mac: mac, ip: nil)
        rib.localHostLearned(vni: l2, mac: mac, ip: host)
        let macIP = try XCTUnwrap(rib.exported.values.first { if case .macIP(let m) = $0.route { m.ip == host } else { false } })
        guard case .macIP(let m) = macIP.route else { return XCTFail() }
        XCTAssertEqual(m.label1, 1001)
        XCTAssertEqual(m.label2, 5000)
        XCTAssertEqual(macIP.extendedCommunities.routeTargets, [.as2(65001, 1001), .as2(65001, 5000)])
        XCTAssertEqual(macIP.extendedCommunities.routerMAC, rmac)
        XCTAssertTrue(macIP.extendedCommunities.contains(.vxlanEncapsulation))
        XCTAssertEqual(macIP.route.labelText, "1001/5000")
        // The MAC-only route stays a plain L2 route.
        let macOnly = try XCTUnwrap(rib.exported.values.first { if case .macIP(let m) = $0.route { m.ip == nil } else { false } })
        guard case .macIP(let mo) = macOnly.route else { return XCTFail() }
        XCTAssertNil(mo.label2)
        XCTAssertNil(macOnly.extendedCommunities.routerMAC)
        XCTAssertEqual(macOnly.extendedCommunities.routeTargets, [.as2(65001, 1001)])
        // Forgetting the host withdraws its MAC/IP route only.
        rib.localHostRemoved(vni: l2, ip: host)
        XCTAssertEqual(exports.last?.withdraw, [macIP.route])
        XCTAssertEqual(rib.exported.values.filter { $0.route.routeType == 2 }.count, 1)
    }

    func testHostIsAdvertisedOnlyWhileItsMACIsLocal() {
        let rib = makeRIB()
        rib.localHostLearned(vni: l2, mac: mac, ip: host)
        XCTAssertTrue(rib.exported.values.allSatisfy { $0.route.routeType == 3 })
        rib.localMACLearned(vni: l2, mac: mac, ip: nil)
        XCTAssertEqual(rib.exported.values.filter { $0.route.routeType == 2 }.count, 2)
        rib.localMACRemoved(vni: l2, mac: mac)
        XCTAssertEqual(rib.exported.values.filter { $0.route.routeType == 2 }.count, 0)
        // Learned again (the gateway does not report a host it still has): the host route comes back.
        rib.localMACLearned(vni: l2, mac: mac, ip: nil)
        XCTAssertEqual(rib.exported.values.filter { $0.route.routeType == 2 }.count, 2)
    }

    func testRemoteHostRouteInstalledReplacedWithdrawnAndDroppedWithTheSession() {
        let rib = makeRIB()
        rib.apply(remote(remoteHost, from: vtepB, rmac: remoteRMAC), from: "rr")
        XCTAssertEqual(dp.events.last, "route 5000 10.10.2.10 198.19.1.3 02:00:0a:00:00:02")
        XCTAssertEqual(rib.installedHosts[VRFHost(l3, remoteHost)], InstalledHostRoute(vtep: vtepB, routerMAC: remoteRMAC))
        // VNI 1002 is not local here: the route counts as accepted for the VRF alone.
        XCTAssertEqual(rib.importedRouteCount(from: "rr"), 1)
        // A lower VTEP with the same sequence is better; a higher sequence (the VM moved) beats it.
        rib.apply(remote(remoteHost, from: vtepA, rmac: rmac), from: "rr2")
        XCTAssertEqual(dp.events.last, "route 5000 10.10.2.10 198.19.1.2 02:00:0a:00:00:01")
        rib.apply(remote(remoteHost, from: vtepB, rmac: remoteRMAC, seq: 1), from: "rr")
        XCTAssertEqual(dp.events.last, "route 5000 10.10.2.10 198.19.1.3 02:00:0a:00:00:02")
        rib.apply(remote(remoteHost, from: vtepB, rmac: remoteRMAC, withdraw: true), from: "rr")
        XCTAssertEqual(dp.events.last, "route 5000 10.10.2.10 198.19.1.2 02:00:0a:00:00:01")
        rib.dropRoutes(of: "rr2")
        XCTAssertEqual(dp.events.last, "unroute 5000 10.10.2.10")
        XCTAssertTrue(rib.installedHosts.isEmpty)
    }

    func testRemoteRoutesWithoutL3PartOrForeignTargetInstallNoHostRoute() {
        let rib = makeRIB()
        rib.apply(remote(remoteHost, from: vtepB, label2: nil, rmac: remoteRMAC), from: "rr")
        rib.apply(remote(IPAddress("10.10.2.11")!, from: vtepB, rmac: nil), from: "rr")
        rib.apply(remote(IPAddress("10.10.2.12")!, from: vtepB, rmac: remoteRMAC, rt: .as2(65001, 6000)), from: "rr")
        // Our own route reflected back is not imported either.
        rib.apply(remote(IPAddress("10.10.2.13")!, from: IPAddress("10.0.0.1")!, rmac: rmac), from: "rr")
        XCTAssertFalse(dp.events.contains { $0.hasPrefix("route") })
        XCTAssertTrue(rib.installedHosts.isEmpty)
        XCTAssertEqual(rib.importedRouteCount(from: "rr"), 0)
    }

    func testRouterMACCommunityBytes() throws {
        let c = ExtendedCommunity.routerMAC(MACAddress("02:aa:bb:cc:dd:ee")!)
        XCTAssertEqual(c.raw, 0x0603_02aa_bbcc_ddee)
        XCTAssertEqual(ExtendedCommunity(raw: 0x0603_02aa_bbcc_ddee), c)
        XCTAssertEqual(c.description, "Rmac:02:aa:bb:cc:dd:ee")
        // On the wire, inside EXTENDED_COMMUNITIES (type 16): 06 03 and the six MAC bytes.
        var a = PathAttributes()
        a.origin = .igp; a.asPath = []
        a.extendedCommunities = [c]
        a.mpReach = MPReachNLRI(nextHop: vtepA, routes: [.macIP(EVPNMACIPRoute(rd: .ipv4(vtepA.v4, 1), mac: mac, ip: host,
                                                                                label1: 1001, label2: 5000))])
        let bytes = BGPMessage.update(BGPUpdate(attributes: a)).encode()
        let wire: [UInt8] = [0xC0, 16, 8, 0x06, 0x03, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]
        XCTAssertNotNil(Array(bytes).firstRange(of: wire), "Router's MAC community on the wire")
        // Label1 then Label2 end the NLRI, the VNIs in 24 bits each (RFC 8365): 1001 and 5000.
        XCTAssertNotNil(Array(bytes).firstRange(of: [0x00, 0x03, 0xE9, 0x00, 0x13, 0x88]), "both labels")
        guard case .update(let u) = try BGPMessage.decode(bytes) else { return XCTFail() }
        XCTAssertEqual(u.attributes.extendedCommunities.routerMAC, MACAddress("02:aa:bb:cc:dd:ee")!)
    }
}
