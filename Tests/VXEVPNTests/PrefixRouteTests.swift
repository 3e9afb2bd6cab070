import XCTest
import VXCore
@testable import VXEVPN

/// Type-5 IP prefix routes (RFC 9136): the NLRI against hand-made bytes, our VRF's subnets
/// advertised, received prefixes imported by RT into the VRF and withdrawn again.
final class PrefixRouteTests: XCTestCase {
    var dp = RecordingDataplane()
    var exports: [(announce: [ExportedRoute], withdraw: [EVPNRoute])] = []
    let l3 = VNI(5000)!, rmac = MACAddress("02:00:0a:00:00:01")!, remoteRMAC = MACAddress("02:00:0a:00:00:02")!
    let vtepA = IPAddress("198.19.1.2")!, vtepB = IPAddress("198.19.1.3")!
    let net = IPPrefix("10.99.0.0/24")!

    /// RD 198.18.0.2:5, ESI 0, tag 0, 10.99.0.0/24, gateway 0.0.0.0, label 5000 (RFC 9136 §3.1: 34 bytes).
    let ipv4NLRI = "05" + "22" + "0001c61200020005" + "00000000000000000000" + "00000000" + "18" + "0a630000" + "00000000" + "001388"

    func decode(_ hex: String, announced: Bool = true) throws -> [EVPNRoute] {
        var r = ByteReader(bytesFromHex(hex)!)
        return try EVPNRoute.decodeAll(&r, announced: announced)
    }

    func testIPv4AndIPv6NLRIDecodeEncodeAndKey() throws {
        let routes = try decode(ipv4NLRI)
        guard case .prefix(let p)? = routes.first else { return XCTFail("\(routes)") }
        XCTAssertEqual(p.rd.description, "198.18.0.2:5")
        XCTAssertEqual(p.prefix, net)
        XCTAssertNil(p.gateway)
        XCTAssertEqual(p.vni, l3)
        XCTAssertTrue(p.isInterfaceless)
        XCTAssertEqual(routes[0].description, "[5]:[0]:[24]:[10.99.0.0]")
        var out: [UInt8] = []
        routes[0].encode(into: &out)
        XCTAssertEqual(hexString(out), ipv4NLRI)

        let v6 = EVPNRoute.prefix(EVPNPrefixRoute(rd: .ipv4(0xC612_0002, 5), prefix: IPPrefix("fd00:99::/64")!, label: 5000))
        var b: [UInt8] = []
        v6.encode(into: &b)
        XCTAssertEqual(b.count, 2 + 58)
        XCTAssertEqual(try decode(hexString(b)), [v6])
        XCTAssertEqual(v6.description, "[5]:[0]:[64]:[fd00:99::]")
        // The label is not part of the key (a withdrawal may carry another).
        let other = EVPNRoute.prefix(EVPNPrefixRoute(rd: .ipv4(0xC612_0002, 5), prefix: IPPrefix("fd00:99::/64")!, label: 0))
        XCTAssertEqual(v6.key, other.key)
    }

    func testMalformedNLRIsAreErrorsNotGuesses() {
        // 33 bytes; a prefix length of 33 for IPv4.
        let short = "05" + "21" + "0001c61200020005" + "00000000000000000000" + "00000000" + "18" + "0a630000" + "00000000" + "0013"
        let tooLong = ipv4NLRI.replacingOccurrences(of: "00000000" + "18" + "0a630000", with: "00000000" + "21" + "0a630000")
        for hex in [short, tooLong] {
            XCTAssertThrowsError(try decode(hex), hex)
        }
    }

    func makeRIB(advertise: [IPPrefix] = []) -> EVPNRIB {
        let rib = EVPNRIB(asn: 65001, routerID: IPAddress("10.0.0.1")!, vtep: IPAddress("10.0.0.1")!,
                          vrfs: [VRFConfig(l3VNI: 5000, routerMAC: rmac, vnis: [1001], advertisedPrefixes: advertise)]) { 0 }
        rib.dataplane = dp
        rib.onExport = { [unowned self] a, w in self.exports.append((a, w)) }
        rib.setLocalVNIs([VNI(1001)!])
        return rib
    }

    func update(_ prefix: IPPrefix, from vtep: IPAddress, label: UInt32 = 5000, rmac: MACAddress?, rt: RouteTarget = .as2(65001, 5000),
                gateway: IPAddress? = nil, withdraw: Bool = false) -> BGPUpdate {
        let r = EVPNRoute.prefix(EVPNPrefixRoute(rd: .ipv4(vtep.v4, 7), prefix: prefix, gateway: gateway, label: label))
        var a = PathAttributes()
        if withdraw { a.mpUnreach = MPUnreachNLRI(routes: [r]); return BGPUpdate(attributes: a) }
        a.origin = .igp; a.asPath = []
        a.extendedCommunities = [.routeTarget(rt), .vxlanEncapsulation]
        if let rmac { a.extendedCommunities.append(.routerMAC(rmac)) }
        a.mpReach = MPReachNLRI(nextHop: vtep, routes: [r])
        return BGPUpdate(attributes: a)
    }

    func testVRFSubnetsAreAdvertisedInterfacelessWithRouterMACAndVRFTargets() throws {
        let v6 = IPPrefix("fd00:1::/64")!
        let rib = makeRIB(advertise: [IPPrefix("10.10.1.0/24")!, v6])
        let type5 = rib.exported.values.filter { $0.route.routeType == 5 }.sorted { $0.route.key < $1.route.key }
        XCTAssertEqual(type5.count, 2)
        for e in type5 {
            guard case .prefix(let p) = e.route else { return XCTFail() }
            XCTAssertEqual(p.label, 5000)
            XCTAssertTrue(p.isInterfaceless)
            XCTAssertEqual(p.rd.description.hasPrefix("10.0.0.1:"), true)
            XCTAssertEqual(e.extendedCommunities.routerMAC, rmac)
            XCTAssertEqual(e.extendedCommunities.routeTargets, [.as2(65001, 5000)])
            XCTAssertTrue(e.extendedCommunities.contains(.vxlanEncapsulation))
            XCTAssertEqual(e.vni, l3)
        }
        // The VRF's RD is not one of the L2 VNIs'.
        guard case .prefix(let p) = type5[0].route else { return XCTFail() }
        XCTAssertNotEqual(p.rd, rib.vnis[VNI(1001)!]?.rd)
        // Setting the VNIs again changes nothing.
        let before = exports.count
        rib.setLocalVNIs([VNI(1001)!])
        XCTAssertEqual(exports.count, before)
    }

    func testReceivedPrefixImportedByTargetBestVTEPAndWithdrawn() {
        let rib = makeRIB()
        rib.apply(update(net, from: vtepB, rmac: remoteRMAC), from: "rr")
        XCTAssertEqual(dp.events.last, "prefix 5000 10.99.0.0/24 \(vtepB) \(remoteRMAC)")
        // A second VTEP with a lower address is preferred; when it goes, the first comes back.
        rib.apply(update(net, from: vtepA, rmac: rmac), from: "rr")
        XCTAssertEqual(dp.events.last, "prefix 5000 10.99.0.0/24 \(vtepA) \(rmac)")
        rib.apply(update(net, from: vtepA, rmac: rmac, withdraw: true), from: "rr")
        XCTAssertEqual(dp.events.last, "prefix 5000 10.99.0.0/24 \(vtepB) \(remoteRMAC)")
        XCTAssertEqual(rib.installedPrefixes[VRFPrefix(l3, net)]?.vtep, vtepB)
        rib.dropRoutes(of: "rr")
        XCTAssertEqual(dp.events.last, "unprefix 5000 10.99.0.0/24")
        XCTAssertTrue(rib.installedPrefixes.isEmpty)
    }

    func testRoutesAVRFMustNotTakeAreIgnored() {
        let rib = makeRIB()
        let cases: [(String, BGPUpdate)] = [
            ("another VRF's target", update(net, from: vtepB, rmac: remoteRMAC, rt: .as2(65001, 6000))),
            ("no router MAC", update(net, from: vtepB, rmac: nil)),
            ("a gateway IP (overlay index, not interface-less)", update(net, from: vtepB, rmac: remoteRMAC, gateway: IPAddress("10.99.0.254")!)),
            ("another L3 VNI in the label", update(net, from: vtepB, label: 6000, rmac: remoteRMAC)),
            ("our own route reflected back", update(net, from: IPAddress("10.0.0.1")!, rmac: rmac)),
        ]
        for (why, u) in cases {
            rib.apply(u, from: "rr")
            XCTAssertFalse(dp.events.contains { $0.hasPrefix("prefix") }, why)
            rib.dropRoutes(of: "rr")
        }
        XCTAssertEqual(rib.routeCount, 0)
    }

    func testHostRouteFromType2WinsOverTheSameType5HostPrefixAndGivesItBack() {
        let rib = makeRIB()
        let ip = IPAddress("10.10.2.10")!, host = IPPrefix(ip, length: 32)!
        rib.apply(update(host, from: vtepB, rmac: remoteRMAC), from: "rr")
        XCTAssertEqual(dp.events.last, "prefix 5000 10.10.2.10/32 \(vtepB) \(remoteRMAC)")
        // A MAC/IP route for the same host takes the entry; its withdrawal gives it back to type 5.
        let r = EVPNRoute.macIP(EVPNMACIPRoute(rd: .ipv4(vtepA.v4, 1), mac: MACAddress("52:54:00:00:02:01")!, ip: ip, label1: 1002, label2: 5000))
        var a = PathAttributes()
        a.origin = .igp; a.asPath = []
        a.extendedCommunities = [.routeTarget(.as2(65001, 5000)), .vxlanEncapsulation, .routerMAC(rmac)]
        a.mpReach = MPReachNLRI(nextHop: vtepA, routes: [r])
        rib.apply(BGPUpdate(attributes: a), from: "rr2")
        XCTAssertEqual(dp.events.last, "route 5000 \(ip) \(vtepA) \(rmac)")
        XCTAssertNil(rib.installedPrefixes[VRFPrefix(l3, host)])
        rib.dropRoutes(of: "rr2")
        XCTAssertEqual(Array(dp.events.suffix(2)), ["unroute 5000 \(ip)", "prefix 5000 10.10.2.10/32 \(vtepB) \(remoteRMAC)"])
    }
}
