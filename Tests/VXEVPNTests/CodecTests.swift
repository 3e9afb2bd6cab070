import XCTest
import VXCore
@testable import VXEVPN

final class CodecTests: XCTestCase {
    func corpus(_ name: String) throws -> [UInt8] {
        try XCTUnwrap(CapturedCorpus.bytes.first { $0.name == name }?.bytes, name)
    }
    func update(_ name: String, context: BGPDecodeContext = BGPDecodeContext()) throws -> BGPUpdate {
        guard case .update(let u) = try BGPMessage.decode(try corpus(name), context: context) else {
            XCTFail("\(name) is not an UPDATE"); return BGPUpdate()
        }
        return u
    }

    func testEveryCapturedMessageDecodesCleanlyAndRoundTrips() throws {
        for (name, bytes) in CapturedCorpus.bytes {
            let m = try BGPMessage.decode(bytes)
            if case .update(let u) = m { XCTAssertEqual(u.problems, [], name) }
            XCTAssertEqual(try BGPMessage.decode(m.encode()), m, name)
        }
    }

    func testGoBGPOpen() throws {
        guard case .open(let o) = try BGPMessage.decode(try corpus("gobgp-open-1")) else { return XCTFail() }
        XCTAssertEqual(o.asn, 65001)
        XCTAssertEqual(o.holdTime, 90)
        XCTAssertEqual(IPAddress(v4: o.routerID).description, "198.18.0.1")
        XCTAssertEqual(o.families, [.l2vpnEVPN])
        XCTAssertTrue(o.supportsRouteRefresh)
        XCTAssertTrue(o.supportsFourOctetAS)
    }

    func testFRROpenHasGracefulRestartAndEVPN() throws {
        guard case .open(let o) = try BGPMessage.decode(try corpus("frr-open-1")) else { return XCTFail() }
        XCTAssertEqual(o.asn, 65002)
        XCTAssertEqual(o.holdTime, 9)
        XCTAssertEqual(o.families, [.l2vpnEVPN])
        XCTAssertTrue(o.supportsRouteRefresh)
        XCTAssertNotNil(o.gracefulRestart)
    }

    func testGoBGPType2WithIPv4() throws {
        let u = try update("gobgp-update-1")
        XCTAssertEqual(u.attributes.mpReach?.nextHop, IPAddress("198.18.0.1"))
        guard case .macIP(let r)? = u.evpnAnnounced.first else { return XCTFail() }
        XCTAssertEqual(r.rd.description, "198.18.0.1:100")
        XCTAssertEqual(r.mac, MACAddress("02:00:00:00:01:01"))
        XCTAssertEqual(r.ip, IPAddress("198.18.10.1"))
        XCTAssertEqual(r.vni, VNI(100))
        XCTAssertEqual(u.attributes.extendedCommunities.routeTargets, [RouteTarget("65001:100")!])
        XCTAssertEqual(u.attributes.extendedCommunities.tunnelTypes, [8])
        XCTAssertEqual(u.attributes.firstAS, 65001)
    }

    func testFRRType3WithPMSIIngressReplication() throws {
        let all = try CapturedCorpus.bytes.filter { $0.name.hasPrefix("frr-update") }.map { try BGPMessage.decode($0.bytes) }
        let imet = all.compactMap { m -> (EVPNIMETRoute, PathAttributes)? in
            guard case .update(let u) = m, case .imet(let r)? = u.evpnAnnounced.first else { return nil }
            return (r, u.attributes)
        }.first { $0.0.originator == IPAddress("198.18.0.2") }
        let (route, attrs) = try XCTUnwrap(imet)
        XCTAssertEqual(route.rd.description, "198.18.0.2:2")
        XCTAssertEqual(attrs.pmsiTunnel?.tunnelType, 6)
        XCTAssertEqual(attrs.pmsiTunnel?.label, 100)
        XCTAssertEqual(attrs.pmsiTunnel?.ingressReplicationEndpoint, IPAddress("198.18.0.2"))
        XCTAssertEqual(attrs.extendedCommunities.routeTargets.map(\.description), ["65002:100"])
    }

    func testWithdrawalsKeyMatchesAnnouncement() throws {
        let announce = try update("gobgp-update-2").evpnAnnounced
        let withdraw = try update("gobgp-update-6").evpnWithdrawn
        XCTAssertEqual(announce.map(\.key), withdraw.map(\.key))
        XCTAssertEqual(withdraw.first?.description, "[2]:[0]:[48]:[02:00:00:00:01:02]")
    }

    func testType2RoundTripIPv6Label2MobilityAndEncodingOfOwnRoutes() throws {
        var a = PathAttributes()
        a.origin = .igp
        a.asPath = [ASPathSegment(.sequence, [4_200_000_001, 65001])]
        a.extendedCommunities = [.routeTarget(.as2(65001, 1000)), .routeTarget(.as4(4_200_000_001, 7)),
                                 .vxlanEncapsulation, .macMobility(sticky: true, sequence: 7),
                                 .routerMAC(MACAddress("02:aa:bb:cc:dd:ee")!), .other(0x4300_0000_0000_0001)]
        let rt2 = EVPNRoute.macIP(EVPNMACIPRoute(rd: .ipv4(0xC612_0001, 3), esi: ESI(high: 0x0001, low: 42), ethernetTag: 0,
                                                 mac: MACAddress("52:54:00:12:34:56")!, ip: IPAddress("2001:db8::1"),
                                                 label1: 1000, label2: 5000))
        let rt3 = EVPNRoute.imet(EVPNIMETRoute(rd: .as4(4_200_000_001, 9), originator: IPAddress("2001:db8::fe")!))
        a.mpReach = MPReachNLRI(nextHop: IPAddress("2001:db8::fe")!, routes: [rt2, rt3])
        a.pmsiTunnel = .ingressReplication(vni: VNI(1000)!, vtep: IPAddress("2001:db8::fe")!)
        let m = BGPMessage.update(BGPUpdate(attributes: a))
        let back = try BGPMessage.decode(m.encode())
        XCTAssertEqual(back, m)
        guard case .update(let u) = back else { return XCTFail() }
        XCTAssertEqual(u.attributes.extendedCommunities.macMobility.sequence, 7)
        XCTAssertTrue(u.attributes.extendedCommunities.macMobility.sticky)
        XCTAssertEqual(u.attributes.extendedCommunities.routeTargets.map(\.description), ["65001:1000", "4200000001:7"])
        XCTAssertEqual(rt2.description, "[2]:[0]:[48]:[52:54:00:12:34:56]:[128]:[2001:db8::1]")
    }

    func testOpenWithLargeASUsesASTrans() throws {
        let o = BGPOpen(asn: 4_200_000_001, holdTime: 90, routerID: 0x0A00_0001,
                        capabilities: [.multiprotocol(.l2vpnEVPN), .routeRefresh,
                                       .gracefulRestart(GracefulRestartCapability(restarting: true, restartTime: 120,
                                                                                  families: [(.l2vpnEVPN, true)]))])
        XCTAssertEqual(o.myAS16, 23456)
        guard case .open(let back) = try BGPMessage.decode(BGPMessage.open(o).encode()) else { return XCTFail() }
        XCTAssertEqual(back, o)
        XCTAssertEqual(back.asn, 4_200_000_001)
        XCTAssertEqual(back.gracefulRestart?.restartTime, 120)
        XCTAssertEqual(back.gracefulRestart?.restarting, true)
    }

    func testGoldenKeepaliveNotificationEndOfRIB() throws {
        XCTAssertEqual(hexString(BGPMessage.keepalive.encode()), String(repeating: "f", count: 32) + "001304")
        XCTAssertEqual(BGPMessage.notification(.cease(.administrativeReset)).encode(), try corpus("gobgp-notification-1"))
        let eor = BGPMessage.update(.endOfRIB(.l2vpnEVPN)).encode()
        XCTAssertEqual(hexString(eor), String(repeating: "f", count: 32) + "001e0200000007900f0003001946")
        guard case .update(let u) = try BGPMessage.decode(eor) else { return XCTFail() }
        XCTAssertEqual(u.endOfRIB, .l2vpnEVPN)
        XCTAssertNil(try update("gobgp-update-6").endOfRIB)
    }

    func testRouteDistinguisherAndTargetText() {
        XCTAssertEqual(RouteDistinguisher("198.18.0.1:100"), .ipv4(0xC612_0001, 100))
        XCTAssertEqual(RouteDistinguisher("65001:100"), .as2(65001, 100))
        XCTAssertEqual(RouteDistinguisher("4200000001:100"), .as4(4_200_000_001, 100))
        XCTAssertEqual(RouteDistinguisher("4200000001:100")?.description, "4200000001:100")
        XCTAssertEqual(RouteTarget("65001:10100"), .as2(65001, 10100))
        XCTAssertNil(RouteTarget("abc"))
    }
}
