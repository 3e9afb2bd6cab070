import XCTest
@testable import VXCore

let gatewayMAC = MACAddress(0x00, 0x00, 0x5E, 0x00, 0x01, 0x01)
let routerMAC = MACAddress(0x02, 0x76, 0, 0, 0, 0x01)
let remoteRouterMAC = MACAddress(0x02, 0x76, 0, 0, 0, 0x02)
let l3VNI = VNI(unchecked: 5000), l3VNI2 = VNI(unchecked: 6000), vniC = VNI(unchecked: 300)
let p5 = PortID(5)

/// Routed test frames: IPv4/IPv6 UDP between any addresses, ARP, NS.
enum R {
    static func v4(_ s: String) -> [UInt8] { IPAddress(s)!.bytes }

    /// Ethernet + IPv4 (valid header checksum) + UDP with `payload` bytes.
    static func ipv4(dst: MACAddress = gatewayMAC, src: MACAddress = macA, from: String = "10.1.0.10",
                     to: String = "10.2.0.30", ttl: UInt8 = 64, df: Bool = true, payload: Int = 18) -> [UInt8] {
        let udp = be16(1234) + be16(5678) + be16(8 + payload) + [0, 0] + [UInt8](repeating: 0x5A, count: payload)
        var ip: [UInt8] = [0x45, 0] + be16(20 + udp.count) + be16(0x1234) + (df ? [0x40, 0] : [0, 0])
        ip += [ttl, 17, 0, 0] + v4(from) + v4(to)
        let c = referenceChecksum(ip)
        ip[10] = UInt8(c >> 8); ip[11] = UInt8(c & 0xFF)
        return Build.ethernet(dst: dst, src: src, type: 0x0800) + ip + udp
    }

    static func ipv6(dst: MACAddress = gatewayMAC, src: MACAddress = macA, from: String = "fd00:1::10",
                     to: String = "fd00:2::30", hopLimit: UInt8 = 64, payload: Int = 18) -> [UInt8] {
        let udp = be16(1234) + be16(5678) + be16(8 + payload) + [0, 0] + [UInt8](repeating: 0x5A, count: payload)
        let ip: [UInt8] = [0x60, 0, 0, 0] + be16(udp.count) + [17, hopLimit] + IPAddress(from)!.bytes + IPAddress(to)!.bytes
        var f = Build.ethernet(dst: dst, src: src, type: 0x86DD) + ip + udp
        referenceFillL4Checksum(&f, l3: 14, field: 6)
        return f
    }

    /// An ARP request (broadcast unless `dst`) from `src` at `sender` for `target`, or a reply (op 2).
    static func arp(src: MACAddress = macA, sender: String = "10.1.0.10", target: String = "10.1.0.1",
                    op: Int = 1, dst: MACAddress = .broadcast, targetMAC: MACAddress = MACAddress(raw: 0)) -> [UInt8] {
        var b = Build.ethernet(dst: dst, src: src, type: 0x0806)
        b += hex("0001 0800 06 04") + be16(op) + src.bytes + v4(sender) + targetMAC.bytes + v4(target)
        return b + [UInt8](repeating: 0, count: 60 - b.count)
    }

    /// A neighbour solicitation from `src` / `source` for `target`, multicast to its solicited-node group.
    static func ns(src: MACAddress = macA, source: String = "fd00:1::10", target: String = "fd00:1::1") -> [UInt8] {
        let s = IPAddress(source)!.bytes, t = IPAddress(target)!.bytes
        let group = hex("ff02 0000 0000 0000 0000 0001 ff") + t[13...]
        var icmp: [UInt8] = [135, 0, 0, 0, 0, 0, 0, 0] + t + [1, 1] + src.bytes
        let c = referenceChecksum(s + group + [0, 0] + be16(icmp.count) + [0, 0, 0, 58] + icmp)
        icmp[2] = UInt8(c >> 8); icmp[3] = UInt8(c & 0xFF)
        let ip: [UInt8] = [0x60, 0, 0, 0] + be16(icmp.count) + [58, 255] + s + group
        return Build.ethernet(dst: MACAddress(0x33, 0x33, 0xFF, t[13], t[14], t[15]), src: src, type: 0x86DD) + ip + icmp
    }

    /// The IPv4 header at 14 with its checksum recomputed from scratch (the reference for RFC 1624 updates).
    static func rechecksummed(_ f: [UInt8]) -> [UInt8] {
        var g = f
        g[24] = 0; g[25] = 0
        let c = referenceChecksum(Array(g[14..<34]))
        g[24] = UInt8(c >> 8); g[25] = UInt8(c & 0xFF)
        return g
    }
}

final class RoutingTests: XCTestCase {
    /// makeSwitch() plus VRF 5000 (router MAC 02:76::01) holding VNI A (10.1.0.1/24, fd00:1::1/64)
    /// and VNI B (10.2.0.1/24, fd00:2::1/64), and hosts macA (p1, 10.1.0.10, fd00:1::10) and
    /// macC (p3, 10.2.0.30, fd00:2::30) known through their ARP/NS for the gateway.
    func makeRouter(learnHosts: Bool = true) -> (SwitchPipeline, SyntheticFrameIO) {
        var (sw, io) = makeSwitch(frames: 512)
        XCTAssertTrue(sw.apply(.addVRF(l3VNI, routerMAC: routerMAC)))
        XCTAssertTrue(sw.apply(.setGateway(vniA, Gateway(vrf: l3VNI, mac: gatewayMAC, ipv4: InterfaceAddress("10.1.0.1/24"),
                                                         ipv6: InterfaceAddress("fd00:1::1/64")))))
        XCTAssertTrue(sw.apply(.setGateway(vniB, Gateway(vrf: l3VNI, mac: gatewayMAC, ipv4: InterfaceAddress("10.2.0.1/24"),
                                                         ipv6: InterfaceAddress("fd00:2::1/64")))))
        if learnHosts {
            _ = pass(&sw, &io, from: p1, [R.arp(), R.ns()])
            _ = pass(&sw, &io, from: p3, [R.arp(src: macC, sender: "10.2.0.30", target: "10.2.0.1"),
                                          R.ns(src: macC, source: "fd00:2::30", target: "fd00:2::1")])
        }
        return (sw, io)
    }

    // MARK: the gateway's own ARP and ND

    func testGatewayAnswersARPAndLearnsTheHost() {
        var (sw, io) = makeRouter(learnHosts: false)
        let out = pass(&sw, &io, from: p1, [R.arp()])
        XCTAssertEqual(out.map(\.port), [p1], "answered on the ingress port, not flooded")
        XCTAssertEqual(out.first?.bytes, hex("""
            02000000000a 00005e000101 0806 0001 0800 06 04 0002 00005e000101 0a010001 02000000000a 0a01000a
            000000000000000000000000000000000000
            """))
        XCTAssertEqual(sw.routing.hosts.lookup(bd: 0, ip: IPAddress("10.1.0.10")!), macA)
        XCTAssertEqual(sw.counters.vnis[0].floods, 0)
        XCTAssertEqual(io.freeCount, io.frameCount)
        // An ARP request for another host is not the gateway's: flooded as before.
        XCTAssertEqual(Set(pass(&sw, &io, from: p1, [R.arp(target: "10.1.0.11")]).map(\.port)), [p2, trunk, uplink])
        // A unicast ARP request to the gateway MAC (a host confirming its entry) is answered too.
        XCTAssertEqual(pass(&sw, &io, from: p1, [R.arp(dst: gatewayMAC)]).map(\.port), [p1])
    }

    func testGatewayAnswersNeighborSolicitationAsARouter() throws {
        var (sw, io) = makeRouter(learnHosts: false)
        let out = pass(&sw, &io, from: p1, [R.ns()])
        XCTAssertEqual(out.map(\.port), [p1])
        let na = try XCTUnwrap(out.first?.bytes)
        XCTAssertEqual(Array(na[0..<12]), macA.bytes + gatewayMAC.bytes)
        XCTAssertEqual(Array(na[22..<38]), IPAddress("fd00:1::1")!.bytes, "from the target address")
        XCTAssertEqual(Array(na[38..<54]), IPAddress("fd00:1::10")!.bytes)
        XCTAssertEqual(na[54], 136)
        XCTAssertEqual(na[58], 0xE0, "router, solicited, override")
        XCTAssertEqual(Array(na[78..<86]), [2, 1] + gatewayMAC.bytes)
        XCTAssertTrue(referenceL4Valid(na))
        XCTAssertEqual(sw.routing.hosts.lookup(bd: 0, ip: IPAddress("fd00:1::10")!), macA)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testEchoToTheGatewayIsAnswered() throws {
        var (sw, io) = makeRouter()
        var ping = R.ipv4(to: "10.1.0.1")
        ping[23] = 1 // ICMP
        ping[34] = 8; ping[35] = 0; ping[36] = 0; ping[37] = 0
        ping = R.rechecksummed(ping)
        let c = referenceChecksum(Array(ping[34...]))
        ping[36] = UInt8(c >> 8); ping[37] = UInt8(c & 0xFF)
        let out = pass(&sw, &io, from: p1, [ping])
        XCTAssertEqual(out.map(\.port), [p1])
        let reply = try XCTUnwrap(out.first?.bytes)
        XCTAssertEqual(reply[34], 0)
        XCTAssertEqual(referenceChecksum(Array(reply[34...])), 0, "ICMP checksum")
        XCTAssertEqual(referenceChecksum(Array(reply[14..<34])), 0, "IP checksum")
        XCTAssertEqual(Array(reply[26..<34]), R.v4("10.1.0.1") + R.v4("10.1.0.10"))
    }

    // MARK: routing between local hosts

    func testRoutedIPv4BetweenLocalSubnets() throws {
        var (sw, io) = makeRouter()
        let frame = R.ipv4()
        let out = pass(&sw, &io, from: p1, [frame])
        XCTAssertEqual(out.map(\.port), [p3])
        var expected = frame
        expected.replaceSubrange(0..<12, with: macC.bytes + gatewayMAC.bytes)
        expected[22] = 63
        expected = R.rechecksummed(expected)
        XCTAssertEqual(out.first?.bytes, expected, "MACs rewritten, TTL − 1, checksum as if recomputed, nothing else")
        XCTAssertEqual(sw.counters.vnis[0].routed, 1)
        XCTAssertEqual(io.freeCount, io.frameCount)
        // And back.
        let back = pass(&sw, &io, from: p3, [R.ipv4(src: macC, from: "10.2.0.30", to: "10.1.0.10", ttl: 2)])
        XCTAssertEqual(back.map(\.port), [p1])
        XCTAssertEqual(back.first.map { Array($0.bytes[0..<12]) }, macA.bytes + gatewayMAC.bytes)
        XCTAssertEqual(back.first?.bytes[22], 1)
    }

    func testIncrementalChecksumMatchesAFullOneForEveryTTL() {
        var (sw, io) = makeRouter()
        for ttl in UInt8(2)...255 {
            let out = pass(&sw, &io, from: p1, [R.ipv4(ttl: ttl)])
            XCTAssertEqual(out.count, 1)
            guard let b = out.first?.bytes else { continue }
            XCTAssertEqual(referenceChecksum(Array(b[14..<34])), 0, "TTL \(ttl)")
        }
    }

    func testRoutedIPv6BetweenLocalSubnets() throws {
        var (sw, io) = makeRouter()
        let frame = R.ipv6()
        let out = pass(&sw, &io, from: p1, [frame])
        XCTAssertEqual(out.map(\.port), [p3])
        var expected = frame
        expected.replaceSubrange(0..<12, with: macC.bytes + gatewayMAC.bytes)
        expected[21] = 63
        XCTAssertEqual(out.first?.bytes, expected)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testRoutedToATrunkMemberIsTagged() throws {
        var (sw, io) = makeRouter()
        _ = pass(&sw, &io, from: trunk, [Build.ethernet(dst: .broadcast, src: macD, type: 0x0806, vlan: 20)
                                            + Array(R.arp(src: macD, sender: "10.2.0.40", target: "10.2.0.1")[14...])])
        let out = pass(&sw, &io, from: p1, [R.ipv4(to: "10.2.0.40")])
        XCTAssertEqual(out.map(\.port), [trunk])
        XCTAssertEqual(out.first.map { Array($0.bytes[12..<16]) }, [0x81, 0x00, 0x00, 20])
    }

    func testBridgedFramesAreNotRouted() {
        var (sw, io) = makeRouter()
        // macA → macB in the same VNI: bridged (flooded, unknown), TTL untouched.
        let frame = R.ipv4(dst: macB, to: "10.1.0.11")
        let out = pass(&sw, &io, from: p1, [frame])
        XCTAssertFalse(out.contains { $0.port == p3 })
        XCTAssertEqual(out.first(where: { $0.port == p2 })?.bytes, frame)
        XCTAssertEqual(sw.counters.vnis[0].routed, 0)
    }

    // MARK: ICMP errors

    func testTTLExpiryGetsTimeExceeded() throws {
        var (sw, io) = makeRouter()
        let frame = R.ipv4(ttl: 1)
        let out = pass(&sw, &io, from: p1, [frame])
        XCTAssertEqual(out.map(\.port), [p1])
        let icmp = try XCTUnwrap(out.first?.bytes)
        XCTAssertEqual(Array(icmp[0..<14]), macA.bytes + gatewayMAC.bytes + [0x08, 0x00])
        XCTAssertEqual(icmp[23], 1)
        XCTAssertEqual(Array(icmp[26..<34]), R.v4("10.1.0.1") + R.v4("10.1.0.10"))
        XCTAssertEqual(referenceChecksum(Array(icmp[14..<34])), 0)
        XCTAssertEqual(Array(icmp[34..<38]).prefix(2), [11, 0])
        XCTAssertEqual(referenceChecksum(Array(icmp[34...])), 0, "ICMP checksum")
        XCTAssertEqual(Array(icmp[42...]), Array(frame[14...]), "the whole offending packet quoted")
        XCTAssertEqual(sw.counters.drops(.ttlExceeded), 1)
        XCTAssertEqual(sw.counters.vnis[0].icmpErrors, 1)
        XCTAssertEqual(io.freeCount, io.frameCount)

        let out6 = pass(&sw, &io, from: p1, [R.ipv6(hopLimit: 1)])
        let icmp6 = try XCTUnwrap(out6.first?.bytes)
        XCTAssertEqual(icmp6[20], 58)
        XCTAssertEqual(Array(icmp6[22..<38]), IPAddress("fd00:1::1")!.bytes)
        XCTAssertEqual(icmp6[54], 3, "time exceeded")
        XCTAssertTrue(referenceL4Valid(icmp6))
    }

    func testNoRouteGetsUnreachable() throws {
        var (sw, io) = makeRouter()
        let out = pass(&sw, &io, from: p1, [R.ipv4(to: "192.168.9.9")])
        let icmp = try XCTUnwrap(out.first?.bytes)
        XCTAssertEqual(out.map(\.port), [p1])
        XCTAssertEqual(Array(icmp[34..<36]), [3, 0], "net unreachable")
        XCTAssertEqual(sw.counters.drops(.noRoute), 1)
        let out6 = pass(&sw, &io, from: p1, [R.ipv6(to: "fd00:99::1")])
        XCTAssertEqual(out6.first?.bytes[54], 1, "destination unreachable, no route")
        XCTAssertTrue(out6.first.map { referenceL4Valid($0.bytes) } ?? false)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testNoICMPErrorAboutAnICMPError() {
        var (sw, io) = makeRouter()
        var frame = R.ipv4(ttl: 1)
        frame[23] = 1; frame[34] = 11 // an ICMP time exceeded itself
        frame = R.rechecksummed(frame)
        XCTAssertEqual(pass(&sw, &io, from: p1, [frame]).count, 0)
        XCTAssertEqual(sw.counters.drops(.ttlExceeded), 1)
    }

    func testICMPErrorsAreRateLimitedPerVRF() {
        var (sw, io) = makeRouter()
        var sent = 0
        for _ in 0..<15 { sent += pass(&sw, &io, from: p1, [[UInt8]](repeating: R.ipv4(ttl: 1), count: 10), now: 7).count }
        XCTAssertEqual(sent, Int(RoutingTables.icmpPerSecond))
        XCTAssertEqual(sw.counters.drops(.ttlExceeded), 150)
        XCTAssertEqual(sw.counters.drops(.icmpRateLimited), 50)
        XCTAssertEqual(pass(&sw, &io, from: p1, [R.ipv4(ttl: 1)], now: 8).count, 1, "refilled the next second")
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testTooBigGetsFragmentationNeededOrPacketTooBig() throws {
        var (sw, io) = makeRouter()
        sw.setPort(p3, PortConfig(kind: .access(vniB), mtu: 1400))
        _ = pass(&sw, &io, from: p3, [R.arp(src: macC, sender: "10.2.0.30", target: "10.2.0.1")]) // relearn after the port change
        let big = R.ipv4(payload: 1500 - 28)
        let out = pass(&sw, &io, from: p1, [big])
        XCTAssertEqual(out.map(\.port), [p1])
        let icmp = try XCTUnwrap(out.first?.bytes)
        XCTAssertEqual(Array(icmp[34..<36]), [3, 4], "fragmentation needed")
        XCTAssertEqual(be16(icmp, 40), 1400, "next-hop MTU")
        XCTAssertEqual(icmp.count, 14 + 576, "at most 576 bytes of IP")
        XCTAssertEqual(referenceChecksum(Array(icmp[34...])), 0)
        XCTAssertEqual(pass(&sw, &io, from: p1, [R.ipv4(df: false, payload: 1500 - 28)]).count, 0, "never fragmented")
        XCTAssertEqual(sw.counters.drops(.tooBig), 2)
        XCTAssertEqual(pass(&sw, &io, from: p1, [R.ipv4(payload: 1400 - 28)]).map(\.port), [p3], "exactly the MTU passes")

        _ = pass(&sw, &io, from: p3, [R.ns(src: macC, source: "fd00:2::30", target: "fd00:2::1")])
        let out6 = pass(&sw, &io, from: p1, [R.ipv6(payload: 1500 - 48)])
        let ptb = try XCTUnwrap(out6.first?.bytes)
        XCTAssertEqual(ptb[54], 2, "packet too big")
        XCTAssertEqual(Array(ptb[58..<62]), [0, 0, 0x05, 0x78])
        XCTAssertTrue(referenceL4Valid(ptb))
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    // MARK: hosts the gateway does not know yet

    func testUnknownHostIsResolvedByARPAndTheAnswerLearned() throws {
        var (sw, io) = makeRouter()
        let out = pass(&sw, &io, from: p1, [R.ipv4(to: "10.2.0.99")])
        XCTAssertEqual(sw.counters.drops(.neighborUnresolved), 1)
        XCTAssertEqual(Set(out.map(\.port)), [p3, trunk], "an ARP request to local members of B only")
        let request = try XCTUnwrap(out.first { $0.port == p3 }?.bytes)
        XCTAssertEqual(request, R.arp(src: gatewayMAC, sender: "10.2.0.1", target: "10.2.0.99"))
        let reply = R.arp(src: macD, sender: "10.2.0.99", target: "10.2.0.1", op: 2, dst: gatewayMAC, targetMAC: gatewayMAC)
        XCTAssertEqual(pass(&sw, &io, from: p3, [reply]).count, 0)
        XCTAssertEqual(sw.counters.drops(.forGateway), 1)
        XCTAssertEqual(pass(&sw, &io, from: p1, [R.ipv4(to: "10.2.0.99")]).map(\.port), [p3])

        let out6 = pass(&sw, &io, from: p1, [R.ipv6(to: "fd00:2::99")])
        let ns = try XCTUnwrap(out6.first { $0.port == p3 }?.bytes)
        XCTAssertEqual(Array(ns[0..<6]), [0x33, 0x33, 0xFF, 0, 0, 0x99])
        XCTAssertEqual(ns[54], 135)
        XCTAssertTrue(referenceL4Valid(ns))
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testLearnedHostsAreReportedToTheOwner() {
        var (sw, io) = makeRouter(learnHosts: false)
        _ = pass(&sw, &io, from: p1, [R.arp()])
        let ring = SPSCRing<DataplaneReport>(capacity: 64)
        sw.publishReports(into: ring)
        var hosts: [LearnedHost] = []
        while let r = ring.pop() { if case .hostLearned(let h) = r { hosts.append(h) } }
        XCTAssertEqual(hosts, [LearnedHost(vni: vniA, ip: IPAddress("10.1.0.10")!, mac: macA)])
        XCTAssertEqual(sw.absorb(.hostLearned(hosts[0])), .learnHost(vniA, IPAddress("10.1.0.10")!, macA))
        // A host outside the gateway's subnet is not learned.
        XCTAssertFalse(sw.apply(.learnHost(vniA, IPAddress("10.9.0.1")!, macA)))
    }

    // MARK: VRF isolation

    func testNothingCrossesVRFs() {
        var (sw, io) = makeSwitch(frames: 512)
        sw.addVNI(vniC)
        sw.setPort(p5, PortConfig(kind: .access(vniC)))
        XCTAssertTrue(sw.apply(.addVRF(l3VNI, routerMAC: routerMAC)))
        XCTAssertTrue(sw.apply(.addVRF(l3VNI2, routerMAC: routerMAC)))
        // VRF 1: A = 10.1.0.0/24. VRF 2: B = 10.2.0.0/24 and C = 10.1.0.0/24 (the same prefix as A).
        XCTAssertTrue(sw.apply(.setGateway(vniA, Gateway(vrf: l3VNI, mac: gatewayMAC, ipv4: InterfaceAddress("10.1.0.1/24")))))
        XCTAssertTrue(sw.apply(.setGateway(vniB, Gateway(vrf: l3VNI2, mac: gatewayMAC, ipv4: InterfaceAddress("10.2.0.1/24")))))
        XCTAssertTrue(sw.apply(.setGateway(vniC, Gateway(vrf: l3VNI2, mac: gatewayMAC, ipv4: InterfaceAddress("10.1.0.1/24")))))
        _ = pass(&sw, &io, from: p1, [R.arp()])
        _ = pass(&sw, &io, from: p3, [R.arp(src: macC, sender: "10.2.0.30", target: "10.2.0.1")])
        _ = pass(&sw, &io, from: p5, [R.arp(src: macD, sender: "10.1.0.10", target: "10.1.0.1")])

        // A (VRF 1) → 10.2.0.30: no such route in VRF 1; only the ICMP error comes back.
        XCTAssertEqual(pass(&sw, &io, from: p1, [R.ipv4()]).map(\.port), [p1])
        XCTAssertEqual(sw.counters.drops(.noRoute), 1)
        // B (VRF 2) → 10.1.0.10: VRF 2's 10.1.0.0/24 is C's; the host there is macD on p5, never macA on p1.
        let out = pass(&sw, &io, from: p3, [R.ipv4(src: macC, from: "10.2.0.30", to: "10.1.0.10")])
        XCTAssertEqual(out.map(\.port), [p5])
        XCTAssertEqual(out.first.map { Array($0.bytes[0..<6]) }, macD.bytes)
        // A route of one VRF cannot name another VRF's VNI.
        XCTAssertFalse(sw.apply(.installRoute(vrf: l3VNI, IPPrefix("10.2.0.0/24")!, .connected(vniB))))
        XCTAssertFalse(sw.apply(.installRoute(vrf: l3VNI, IPPrefix("10.2.0.30/32")!, .host(vniB, macC))))
        XCTAssertEqual(sw.lookupRoute(vrf: l3VNI, IPAddress("10.2.0.30")!), nil)
        XCTAssertEqual(sw.lookupRoute(vrf: l3VNI2, IPAddress("10.1.0.10")!), .connected(vniC))
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    // MARK: symmetric IRB through the L3 VNI

    func testRoutedToARemoteVTEPThroughTheL3VNI() throws {
        var (sw, io) = makeRouter()
        XCTAssertTrue(sw.apply(.installRoute(vrf: l3VNI, IPPrefix("10.9.0.0/24")!, .remote(vtep: remote4, routerMAC: remoteRouterMAC))))
        let frame = R.ipv4(to: "10.9.0.5")
        let out = pass(&sw, &io, from: p1, [frame])
        XCTAssertEqual(out.map(\.port), [uplink])
        let outer = try XCTUnwrap(out.first?.bytes)
        XCTAssertEqual(Array(outer[0..<6]), nextHopMAC.bytes)
        XCTAssertEqual(Array(outer[30..<34]), remote4.bytes)
        XCTAssertEqual(Array(outer[46..<49]), [0x00, 0x13, 0x88], "VNI 5000")
        var inner = frame
        inner.replaceSubrange(0..<12, with: remoteRouterMAC.bytes + routerMAC.bytes)
        inner[22] = 63
        XCTAssertEqual(Array(outer[50...]), R.rechecksummed(inner), "inner: remote router MAC ← our router MAC, TTL − 1")
        // The longest match wins: a host route inside the remote /24 goes to a local host instead.
        XCTAssertTrue(sw.apply(.installRoute(vrf: l3VNI, IPPrefix("10.9.0.5/32")!, .host(vniB, macC))))
        XCTAssertEqual(pass(&sw, &io, from: p1, [frame]).map(\.port), [p3])
        XCTAssertTrue(sw.apply(.removeRoute(vrf: l3VNI, IPPrefix("10.9.0.5/32")!)))
        XCTAssertEqual(pass(&sw, &io, from: p1, [frame]).map(\.port), [uplink])
        // Removing the VTEP removes its routes.
        sw.removeVTEP(remote4)
        XCTAssertNil(sw.lookupRoute(vrf: l3VNI, IPAddress("10.9.0.5")!))
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testDecapsulatedOnTheL3VNIIsRoutedToALocalHost() throws {
        var (sw, io) = makeRouter()
        let inner = R.ipv4(dst: routerMAC, src: remoteRouterMAC, from: "10.9.0.5", to: "10.1.0.10")
        let out = pass(&sw, &io, from: uplink, [encap(inner, vni: 5000, remote: local4, underlay: remoteUnderlay())])
        XCTAssertEqual(out.map(\.port), [p1])
        var expected = inner
        expected.replaceSubrange(0..<12, with: macA.bytes + gatewayMAC.bytes)
        expected[22] = 63
        XCTAssertEqual(out.first?.bytes, R.rechecksummed(expected))
        // Not to our router MAC, or toward the overlay again: dropped.
        let other = R.ipv4(dst: macB, src: remoteRouterMAC, from: "10.9.0.5", to: "10.1.0.10")
        XCTAssertEqual(pass(&sw, &io, from: uplink, [encap(other, vni: 5000, remote: local4, underlay: remoteUnderlay())]).count, 0)
        XCTAssertEqual(sw.counters.drops(.notRoutable), 1)
        XCTAssertTrue(sw.apply(.installRoute(vrf: l3VNI, IPPrefix("10.8.0.0/16")!, .remote(vtep: remote4b, routerMAC: remoteRouterMAC))))
        let back = R.ipv4(dst: routerMAC, src: remoteRouterMAC, from: "10.9.0.5", to: "10.8.0.1")
        XCTAssertEqual(pass(&sw, &io, from: uplink, [encap(back, vni: 5000, remote: local4, underlay: remoteUnderlay())]).count, 0)
        XCTAssertEqual(sw.counters.drops(.splitHorizon), 1)
        let expired = R.ipv4(dst: routerMAC, src: remoteRouterMAC, from: "10.9.0.5", to: "10.1.0.10", ttl: 1)
        XCTAssertEqual(pass(&sw, &io, from: uplink, [encap(expired, vni: 5000, remote: local4, underlay: remoteUnderlay())]).count, 0)
        XCTAssertEqual(sw.counters.drops(.ttlExceeded), 1)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    /// An error about a packet that came over the L3 VNI goes back through it: to the sender's
    /// VTEP and router MAC (from its route), from our router MAC and the VRF's first gateway address.
    func testErrorsAboutPacketsFromTheL3VNIGoBackThroughIt() throws {
        var (sw, io) = makeRouter()
        XCTAssertTrue(sw.apply(.installRoute(vrf: l3VNI, IPPrefix("10.9.0.0/24")!, .remote(vtep: remote4, routerMAC: remoteRouterMAC))))
        XCTAssertTrue(sw.apply(.installRoute(vrf: l3VNI, IPPrefix("fd00:9::/64")!, .remote(vtep: remote4, routerMAC: remoteRouterMAC))))
        func answer(_ inner: [UInt8]) throws -> [UInt8] {
            let out = pass(&sw, &io, from: uplink, [encap(inner, vni: 5000, remote: local4, underlay: remoteUnderlay())])
            XCTAssertEqual(out.map(\.port), [uplink])
            let outer = try XCTUnwrap(out.first?.bytes)
            XCTAssertEqual(Array(outer[30..<34]), remote4.bytes, "to the sender's VTEP")
            XCTAssertEqual(Array(outer[46..<49]), [0x00, 0x13, 0x88], "in VNI 5000")
            let icmp = Array(outer[50...])
            XCTAssertEqual(Array(icmp[0..<12]), remoteRouterMAC.bytes + routerMAC.bytes)
            return icmp
        }
        let expired = R.ipv4(dst: routerMAC, src: remoteRouterMAC, from: "10.9.0.5", to: "10.1.0.10", ttl: 1)
        let te = try answer(expired)
        XCTAssertEqual(Array(te[26..<34]), R.v4("10.1.0.1") + R.v4("10.9.0.5"))
        XCTAssertEqual(Array(te[34..<36]), [11, 0], "time exceeded")
        XCTAssertEqual(referenceChecksum(Array(te[14..<34])), 0)
        XCTAssertEqual(referenceChecksum(Array(te[34...])), 0)
        XCTAssertEqual(Array(te[42...]), Array(expired[14...]), "the offending packet quoted")
        let unreachable = try answer(R.ipv4(dst: routerMAC, src: remoteRouterMAC, from: "10.9.0.5", to: "192.168.9.9"))
        XCTAssertEqual(Array(unreachable[34..<36]), [3, 0], "net unreachable")
        let te6 = try answer(R.ipv6(dst: routerMAC, src: remoteRouterMAC, from: "fd00:9::5", to: "fd00:1::10", hopLimit: 1))
        XCTAssertEqual(Array(te6[22..<38]), IPAddress("fd00:1::1")!.bytes)
        XCTAssertEqual(te6[54], 3, "time exceeded")
        XCTAssertTrue(referenceL4Valid(te6))
        XCTAssertEqual(sw.counters.drops(.ttlExceeded), 2)
        XCTAssertEqual(sw.counters.drops(.noRoute), 1)
        // A sender the VRF has no way back to gets nothing (dropped and counted all the same).
        let stranger = R.ipv4(dst: routerMAC, src: remoteRouterMAC, from: "10.7.0.5", to: "10.1.0.10", ttl: 1)
        XCTAssertEqual(pass(&sw, &io, from: uplink, [encap(stranger, vni: 5000, remote: local4, underlay: remoteUnderlay())]).count, 0)
        XCTAssertEqual(sw.counters.drops(.ttlExceeded), 3)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func remoteUnderlay() -> UnderlayConfig { var u = testUnderlay(); u.localV4 = remote4; return u }

    // MARK: tables

    func testLongestPrefixMatch() {
        var t = RouteTable(capacity: 64, vrfs: 2)
        let h = { (i: UInt16) in RouteTable.Hop(kind: .host, index: i, mac: macA) }
        XCTAssertTrue(t.set(vrf: 0, IPPrefix("0.0.0.0/0")!, h(0)))
        XCTAssertTrue(t.set(vrf: 0, IPPrefix("10.0.0.0/8")!, h(8)))
        XCTAssertTrue(t.set(vrf: 0, IPPrefix("10.1.0.0/16")!, h(16)))
        XCTAssertTrue(t.set(vrf: 0, IPPrefix("10.1.2.3/32")!, h(32)))
        XCTAssertTrue(t.set(vrf: 1, IPPrefix("10.1.2.0/24")!, h(124)))
        XCTAssertTrue(t.set(vrf: 0, IPPrefix("fd00::/8")!, h(608)))
        XCTAssertTrue(t.set(vrf: 0, IPPrefix("fd00:1::/64")!, h(664)))
        XCTAssertTrue(t.set(vrf: 0, IPPrefix("fd00:1::1/128")!, h(6128)))
        XCTAssertTrue(t.set(vrf: 0, IPPrefix("fd00:1:0:0:8000::/65")!, h(665)))
        func l(_ s: String, vrf: UInt8 = 0) -> UInt16? { t.lookup(vrf: vrf, IPAddress(s)!)?.index }
        XCTAssertEqual(l("10.1.2.3"), 32)
        XCTAssertEqual(l("10.1.2.4"), 16)
        XCTAssertEqual(l("10.2.0.1"), 8)
        XCTAssertEqual(l("192.168.0.1"), 0)
        XCTAssertEqual(l("10.1.2.3", vrf: 1), 124)
        XCTAssertNil(l("10.1.3.3", vrf: 1))
        XCTAssertNil(l("fd00::1", vrf: 1))
        XCTAssertEqual(l("fd00:1::1"), 6128)
        XCTAssertEqual(l("fd00:1::2"), 664)
        XCTAssertEqual(l("fd00:1::8000:0:0:1"), 665)
        XCTAssertEqual(l("fd00:2::1"), 608)
        XCTAssertNil(l("fe80::1"), "IPv4 0/0 does not match IPv6")
        XCTAssertNil(l("::1"))
        XCTAssertEqual(t.remove(vrf: 0, IPPrefix("10.1.2.3/32")!)?.index, 32)
        XCTAssertEqual(l("10.1.2.3"), 16)
        XCTAssertEqual(t.remove(vrf: 0, IPPrefix("10.1.0.0/16")!)?.index, 16)
        XCTAssertEqual(t.lengths4[0], 1 << 0 | 1 << 8, "lengths no route uses are not probed")
        XCTAssertEqual(IPPrefix("10.1.2.3/24")?.description, "10.1.2.0/24")
        XCTAssertEqual(IPPrefix("fd00:1::ff/120")?.description, "fd00:1::/120")
        XCTAssertNil(IPPrefix("10.0.0.0/33"))
    }

    func testRouteRowsAndRemovingAVRF() {
        var (sw, _) = makeRouter()
        XCTAssertTrue(sw.apply(.installRoute(vrf: l3VNI, IPPrefix("10.9.0.0/24")!, .remote(vtep: remote4, routerMAC: remoteRouterMAC))))
        let rows = sw.routeRows(vrf: l3VNI)
        XCTAssertEqual(rows.map(\.prefix.description), [
            "10.1.0.0/24", "10.1.0.10/32", "10.2.0.0/24", "10.2.0.30/32", "10.9.0.0/24",
            "fd00:1::/64", "fd00:1::10/128", "fd00:2::/64", "fd00:2::30/128",
        ])
        XCTAssertEqual(rows[1], RouteRow(prefix: IPPrefix("10.1.0.10/32")!, source: .learned, vni: vniA, mac: macA, port: p1))
        XCTAssertEqual(rows[4], RouteRow(prefix: IPPrefix("10.9.0.0/24")!, source: .remote, mac: remoteRouterMAC, vtep: remote4))
        XCTAssertTrue(sw.apply(.removeVRF(l3VNI)))
        XCTAssertEqual(sw.routing.routes.count, 0)
        XCTAssertEqual(sw.routing.hosts.count, 0)
        XCTAssertNil(sw.gateway(vni: vniA))
        XCTAssertNil(sw.bridgeDomains.index(of: l3VNI))
        XCTAssertFalse(sw.apply(.addVRF(vniA, routerMAC: routerMAC)), "an L2 VNI cannot be an L3 VNI")
    }
}
