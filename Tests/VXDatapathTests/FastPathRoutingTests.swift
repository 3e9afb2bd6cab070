import VXCore
import VXLabKit
import XCTest

/// Issue 13 in the fast path: XDP routes an access frame to the anycast gateway MAC from a
/// host the engine learned to a host it resolves to one place — a local host in another
/// subnet, or a remote VTEP through the L3 VNI — with the engine's bytes (TTL − 1, RFC 1624
/// checksum, MACs rewritten, encapsulated in VNI 5000); what the engine must answer, resolve
/// or count is declined to it unchanged.
extension FastPathXDPTests {
    var gatewayMAC: MACAddress { MACAddress(0x00, 0x00, 0x5E, 0x00, 0x01, 0x01) }
    var routerMAC: MACAddress { MACAddress(0x02, 0x76, 0, 0, 0, 0x01) }
    var remoteRouterMAC: MACAddress { MACAddress(0x02, 0x76, 0, 0, 0, 0x02) }

    /// VRF 5000 with VNI 1000 (198.19.10.1/24, fd00:10::1/64) and VNI 2000 (198.19.20.1/24,
    /// fd00:20::1/64); hosts macA (198.19.10.11, fd00:10::11) and macC (198.19.20.31, fd00:20::31).
    func makeRouted() {
        XCTAssertTrue(pipeline.apply(.addVRF(VNI(5000)!, routerMAC: routerMAC)))
        for (vni, v4, v6) in [(1000, "198.19.10.1/24", "fd00:10::1/64"), (2000, "198.19.20.1/24", "fd00:20::1/64")] {
            XCTAssertTrue(pipeline.apply(.setGateway(VNI(UInt32(vni))!, Gateway(vrf: VNI(5000)!, mac: gatewayMAC,
                                                                               ipv4: InterfaceAddress(v4), ipv6: InterfaceAddress(v6)))))
        }
        for (vni, ip, mac) in [(1000, "198.19.10.11", macA), (1000, "fd00:10::11", macA), (2000, "198.19.20.31", macC),
                               (2000, "fd00:20::31", macC)] {
            XCTAssertTrue(pipeline.apply(.learnHost(VNI(UInt32(vni))!, IPAddress(ip)!, mac)))
        }
    }

    /// An IPv4 TCP frame to the gateway MAC from `src` / `from` to `to`, with a valid header checksum.
    func routed4(to: String, from: String = "198.19.10.11", src: MACAddress? = nil, ttl: UInt8 = 64, payload: Int = 100) -> [UInt8] {
        var f = ipv4Frame(dst: gatewayMAC, src: src ?? macA, payload: payload)
        f.replaceSubrange(26..<30, with: IPAddress(from)!.bytes)
        f.replaceSubrange(30..<34, with: IPAddress(to)!.bytes)
        f[22] = ttl
        f[24] = 0; f[25] = 0
        let c = f.withUnsafeBytes { Checksum.internet($0.baseAddress! + 14, count: 20) }
        f[24] = UInt8(c >> 8); f[25] = UInt8(c & 0xFF)
        return f
    }

    func routed6(to: String, hopLimit: UInt8 = 64, payload: Int = 200) -> [UInt8] {
        var f = ipv6Frame(dst: gatewayMAC, src: macA, payload: payload)
        f.replaceSubrange(38..<54, with: IPAddress(to)!.bytes)
        f[21] = hopLimit
        return f
    }

    func testRoutedToALocalHostInAnotherSubnetIdenticalBytes() throws {
        makeRouted()
        for payload in [0, 1, 31, 256, 1000, 1446] {
            try assertIdentical(routed4(to: "198.19.20.31", payload: payload), from: p1, counter: "fast_routed")
        }
        // Every TTL's checksum update (RFC 1624 edge cases included) matches the engine's.
        for ttl: UInt8 in [2, 3, 63, 64, 128, 255] {
            try assertIdentical(routed4(to: "198.19.20.31", ttl: ttl), from: p1, counter: "fast_routed")
        }
        for payload in [0, 100, 1400] {
            try assertIdentical(routed6(to: "fd00:20::31", payload: payload), from: p1, counter: "fast_routed")
        }
    }

    func testRoutedThroughTheL3VNIIdenticalBytes() throws {
        makeRouted()
        XCTAssertTrue(pipeline.apply(.installRoute(vrf: VNI(5000)!, IPPrefix("198.19.30.5/32")!, .remote(vtep: vtep4, routerMAC: remoteRouterMAC))))
        XCTAssertTrue(pipeline.apply(.installRoute(vrf: VNI(5000)!, IPPrefix("fd00:30::5/128")!, .remote(vtep: vtep6, routerMAC: remoteRouterMAC))))
        for payload in [0, 64, 1000] {
            try assertIdentical(routed4(to: "198.19.30.5", payload: payload), from: p1, counter: "fast_routed")
            try assertIdentical(routed6(to: "fd00:30::5", payload: payload), from: p1, counter: "fast_routed")
        }
        let xdp = try runXDP(routed4(to: "198.19.30.5"))
        XCTAssertEqual(Array(xdp.bytes[46..<49]), [0x00, 0x13, 0x88], "in L3 VNI 5000")
        XCTAssertEqual(Array(xdp.bytes[50..<62]), remoteRouterMAC.bytes + routerMAC.bytes, "to the remote router MAC from ours")
    }

    /// Decapsulated in L3 VNI 5000 to our router MAC, from a source that routes back to that
    /// very VTEP: routed to the local host (TTL − 1, MACs := host, gateway), outer headers gone.
    func testDecapsulatedOnTheL3VNIRoutedToALocalHostIdenticalBytes() throws {
        makeRouted()
        XCTAssertTrue(pipeline.apply(.installRoute(vrf: VNI(5000)!, IPPrefix("198.19.30.5/32")!, .remote(vtep: vtep4, routerMAC: remoteRouterMAC))))
        XCTAssertTrue(pipeline.apply(.installRoute(vrf: VNI(5000)!, IPPrefix("fd00:30::5/128")!, .remote(vtep: vtep6, routerMAC: remoteRouterMAC))))
        func inner4(_ payload: Int, from: String = "198.19.30.5", ttl: UInt8 = 64) -> [UInt8] {
            var f = routed4(to: "198.19.20.31", from: from, ttl: ttl, payload: payload)
            f.replaceSubrange(0..<12, with: routerMAC.bytes + remoteRouterMAC.bytes)
            return f
        }
        for payload in [40, 300, 1400] {
            try assertIdentical(vxlan(inner4(payload), vni: 5000), from: uplink, counter: "fast_routed")
            var v6 = routed6(to: "fd00:20::31", payload: payload)
            v6.replaceSubrange(0..<12, with: routerMAC.bytes + remoteRouterMAC.bytes)
            v6.replaceSubrange(22..<38, with: IPAddress("fd00:30::5")!.bytes)
            try assertIdentical(vxlan(v6, vni: 5000, from: vtep6), from: uplink, counter: "fast_routed")
        }
        // From a VTEP the source does not route back to, to another MAC, or expiring: the engine's.
        try assertDeclined(vxlan(inner4(100), vni: 5000, from: vtep6), from: uplink, "the source routes back to another VTEP")
        try assertDeclined(vxlan(inner4(100, from: "198.19.99.9"), vni: 5000), from: uplink, "a source with no route back")
        try assertDeclined(vxlan(inner4(100, ttl: 1), vni: 5000), from: uplink, "TTL 1")
        var other = inner4(100)
        other.replaceSubrange(0..<6, with: macC.bytes)
        try assertDeclined(vxlan(other, vni: 5000), from: uplink, "not to our router MAC")
    }

    func testWhatTheEngineMustDoIsDeclined() throws {
        makeRouted()
        XCTAssertTrue(pipeline.apply(.installRoute(vrf: VNI(5000)!, IPPrefix("198.19.40.0/24")!, .remote(vtep: vtep4, routerMAC: remoteRouterMAC))))
        var badChecksum = routed4(to: "198.19.20.31")
        badChecksum[25] ^= 0x01
        var options = routed4(to: "198.19.20.31")
        options[14] = 0x46
        for (frame, why) in [
            (routed4(to: "198.19.20.31", ttl: 1), "TTL 1: time exceeded"),
            (routed4(to: "198.19.10.1"), "the gateway's own address"),
            (routed4(to: "198.19.20.99"), "a host the gateway has not met: it asks"),
            (routed4(to: "198.19.40.7"), "a prefix route, not a host route: longest match in the engine"),
            (routed4(to: "192.168.1.1"), "no route: unreachable"),
            (routed4(to: "198.19.20.31", from: "198.19.10.12", src: macB), "a source host not learned: the engine learns it"),
            (routed4(to: "198.19.20.31", src: macB), "a learned source at another MAC"),
            (badChecksum, "a wrong header checksum"),
            (options, "IPv4 options"),
            (routed6(to: "fd00:20::31", hopLimit: 1), "hop limit 1"),
            (routed6(to: "fe80::31"), "link-local"),
        ] {
            try assertDeclined(frame, from: p1, why)
        }
        // Too big for the destination port: the engine sends fragmentation needed.
        pipeline.setPort(p3, PortConfig(kind: .access(VNI(2000)!), mtu: 500, completeChecksums: true))
        try assertDeclined(routed4(to: "198.19.20.31", payload: 600), from: p1, "too big for the destination port")
        // A host whose MAC is behind a VTEP in its L2 VNI: bridged there by the engine.
        pipeline.setPort(p3, PortConfig(kind: .access(VNI(2000)!), completeChecksums: true))
        let behind = MACAddress(0x02, 0, 0, 0, 0x44, 0x44)
        pipeline.addStaticMAC(vni: VNI(2000)!, behind, vtep: vtep4)
        XCTAssertTrue(pipeline.apply(.learnHost(VNI(2000)!, IPAddress("198.19.20.44")!, behind)))
        try assertDeclined(routed4(to: "198.19.20.44"), from: p1, "a host behind a VTEP in its L2 VNI")
    }
}
