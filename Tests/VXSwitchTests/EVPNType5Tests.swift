import Foundation
import VXEVPN
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// Issue 13, type-5: a VM on vxsw reaches a network behind an EVPN IP prefix route (RFC 9136)
/// and a host behind a MAC/IP route with an L3 VNI, both injected by GoBGP for an exit router
/// that is the kernel's own vxlan device routing L3 VNI 5000 in a namespace (the way FRR's
/// zebra programs one: an onlink route via the VTEP, its neighbour at the router MAC, the
/// router MAC in the vxlan FDB). GoBGP sees vxsw's own subnet back as a type-5 route.
///
/// ```
///  vm1 10.10.1.10, fd00:1::10 (VNI 1001, gw .1)                       ext 10.99.0.10, fd00:99::10
///   hv1: vxsw 198.18.0.1, VRF L3 VNI 5000           exit 198.18.0.50: vx5000 (rmac 02:00:00:00:50:50)
///        \____ underlay 198.18.0.0/24 ____ gobgp .200 (injects the exit's routes) ____/   lo: 10.20.0.5
/// ```
final class EVPNType5Tests: XCTestCase {
    let exitRMAC = "02:00:00:00:50:50", hv1RMAC = "02:76:c6:12:00:01"

    func testVMReachesType5PrefixAndType2HostBehindAKernelExitRouter() throws {
        try requireEVPNFabric(frr: false, gobgp: true)
        let f = try makeFabric("t5")
        defer { f.close() }
        let gb = try f.addNode("gobgp", host: 200, kind: .gobgp)
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1001])
        let exit = try f.addNode("exit", host: 50, kind: .router)
        let vm1 = try f.addVM("vm1", on: "hv1", vni: 1001, address: "10.10.1.10")
        let ext = try f.addVM("ext", on: "exit", vni: 0, address: "10.99.0.10", tap: "ext0")
        try vm1.namespace.exec(["ip", "route", "add", "default", "via", "10.10.1.1"])
        try vm1.namespace.exec(["ip", "addr", "add", "fd00:1::10/64", "dev", "eth0", "nodad"])
        try vm1.namespace.exec(["ip", "-6", "route", "add", "default", "via", "fd00:1::1"])
        try ext.namespace.exec(["ip", "route", "add", "default", "via", "10.99.0.1"])
        try ext.namespace.exec(["ip", "addr", "add", "fd00:99::10/64", "dev", "eth0", "nodad"])
        try ext.namespace.exec(["ip", "-6", "route", "add", "default", "via", "fd00:99::1"])
        try buildExitRouter(exit.namespace)

        let gobgp = try f.startGoBGP("gobgp", neighbors: [.init(address: hv1.address, peerAS: EVPNFabric.asn, passive: false)])
        try f.startVxsw("hv1", peers: [gb.address], gateways: [1001: "{ ipv4: 10.10.1.1/24, ipv6: \"fd00:1::1/64\" }"],
                        vrfs: "  - { name: tenant1, l3-vni: 5000, router-mac: auto, vnis: [1001], advertise-subnets: true, advertise-prefixes: [10.10.0.0/16] }")
        guard f.expect(30, "vxsw <-> gobgpd session Established", {
            f.vxswSessionsUp("hv1") && gobgp.neighborState(hv1.address) == "established"
        }) else { return }

        // GoBGP seen back: vxsw's subnets as interface-less type-5 routes, label 5000, RT 65000:5000, its router MAC.
        func gobgpPrefixes() -> String {
            guard let table = try? gobgp.gobgpJSON(["global", "rib", "-a", "evpn", "prefix"]) else { return "" }
            return String(describing: table)
        }
        f.expect(20, "GoBGP has vxsw's type-5 routes for 10.10.1.0/24, fd00:1::/64 and the aggregate 10.10.0.0/16") {
            let t = gobgpPrefixes()
            return t.contains("10.10.1.0") && t.contains("fd00:1::") && t.contains("10.10.0.0") && t.contains(hv1RMAC)
        }
        let seen = gobgpPrefixes()
        XCTAssertTrue(seen.contains("5000"), "label/RT 5000 in \(seen)")

        // GoBGP injects, for the exit router: 10.99.0.0/24 and fd00:99::/64 as type-5, and 10.20.0.5 as a MAC/IP route with L3 VNI 5000.
        let common = ["rt", "65000:5000", "encap", "vxlan", "router-mac", exitRMAC, "nexthop", exit.address]
        for (prefix, n) in [("10.99.0.0/24", 5), ("fd00:99::/64", 6)] {
            try gobgp.gobgp(["global", "rib", "-a", "evpn", "add", "prefix", prefix, "etag", "0", "label", "5000",
                             "rd", "\(exit.address):\(n)"] + common)
        }
        try gobgp.gobgp(["global", "rib", "-a", "evpn", "add", "macadv", exitRMAC, "10.20.0.5", "etag", "0", "label", "1002,5000",
                         "rd", "\(exit.address):2"] + common)
        func route(_ family: String, _ prefix: String) -> RouteView? {
            let table: RouteTableView? = try? f.show("hv1", [family, "route", "vrf", "tenant1"]).decode()
            return table?.routes.first { $0.prefix == prefix }
        }
        f.expect(20, "hv1's VRF has 10.99.0.0/24, fd00:99::/64 and 10.20.0.5/32 toward the exit router") {
            route("ip", "10.99.0.0/24")?.vtep == exit.address && route("ipv6", "fd00:99::/64")?.vtep == exit.address
                && route("ip", "10.20.0.5/32")?.vtep == exit.address
        }
        XCTAssertEqual(route("ip", "10.99.0.0/24")?.mac, exitRMAC)
        XCTAssertEqual(route("ip", "10.99.0.0/24")?.type, "remote")
        let table: EVPNRouteTable = try f.show("hv1", ["bgp", "l2vpn", "evpn", "route", "type", "prefix"]).decode()
        let received = table.routes.first { !$0.local && $0.prefix == "[5]:[0]:[24]:[10.99.0.0]" }
        XCTAssertEqual(received?.label, "5000", "\(table.routes)")
        XCTAssertEqual(received?.best, true)
        XCTAssertTrue(received?.extendedCommunities.contains("Rmac:\(exitRMAC)") ?? false)
        XCTAssertTrue(table.routes.contains { $0.local && $0.prefix == "[5]:[0]:[24]:[10.10.1.0]" && $0.label == "5000" }, "\(table.routes)")

        // `show evpn vni` lists the L3 VNI beside the L2 one, both in tenant1 (FRR's columns).
        let vnis = (try f.show("hv1", ["evpn", "vni"]).decode() as EVPNVNIList).objects
        XCTAssertEqual(vnis.map { "\($0.vni) \($0.type) \($0.tenantVRF)" }, ["1001 L2 tenant1", "5000 L3 tenant1"])
        XCTAssertEqual(vnis.last?.remoteMACs, 1, "one remote router MAC in use: the exit's")

        // vm1 meets its gateway, then reaches what is behind the exit router: routed by vxsw into
        // the L3 VNI and by the exit's kernel (TTL 64 - 2), IPv4 and IPv6; TCP too.
        for gw in ["10.10.1.1", "fd00:1::1"] {
            let (ok, summary) = try f.ping(vm1.namespace, gw)
            XCTAssertTrue(ok, "vm1 -> its gateway \(gw): \(summary)\n\(f.logs())")
        }
        for to in ["10.99.0.10", "fd00:99::10", "10.20.0.5"] {
            var out = ""
            let ok = waitUntil(timeout: 10) {
                out = (try? vm1.namespace.exec(["ping", "-c", "1", "-W", "1", to], check: false).output) ?? ""
                return out.contains("1 received")
            }
            XCTAssertTrue(ok, "vm1 -> \(to) through the L3 VNI: \(out)\n\(f.logs())")
            XCTAssertTrue(out.contains("ttl=62") || out.contains("hlim=62") || (to == "10.20.0.5" && out.contains("ttl=63")),
                          "vm1 -> \(to) routed by vxsw and the exit router: \(out)")
        }
        let server = try ext.namespace.spawn(["iperf3", "-s", "-1", "-B", "10.99.0.10"], logPath: f.workDir + "/iperf3-server.log")
        defer { server.stop(grace: 1) }
        _ = waitUntil(timeout: 5) { (try? ext.namespace.exec(["ss", "-ltn"]).output.contains(":5201")) ?? false }
        let client = try vm1.namespace.exec(["iperf3", "-c", "10.99.0.10", "-t", "2", "-J"], check: false)
        XCTAssertTrue(client.succeeded && client.output.contains("\"sum_received\""), "TCP vm1 -> ext through the type-5 route: \(client.error)")

        // Withdrawn in GoBGP: the prefix leaves hv1's VRF and ext is unreachable (no route: ICMP unreachable from the gateway).
        try gobgp.gobgp(["global", "rib", "-a", "evpn", "del", "prefix", "10.99.0.0/24", "etag", "0", "label", "5000",
                         "rd", "\(exit.address):5"])
        f.expect(20, "10.99.0.0/24 leaves hv1's VRF") { route("ip", "10.99.0.0/24") == nil }
        let after = try vm1.namespace.exec(["ping", "-c", "1", "-W", "1", "10.99.0.10"], check: false)
        XCTAssertFalse(after.output.contains("1 received"), "no route to 10.99.0.10 after the withdrawal: \(after.output)")
        XCTAssertNotNil(route("ipv6", "fd00:99::/64"), "the IPv6 prefix stays")
    }

    /// The exit router: vx5000 with its router MAC; ext0 (10.99.0.1, fd00:99::1) toward ext;
    /// 10.20.0.5 on lo; routes back to hv1's subnet through hv1's router MAC, as zebra installs
    /// them for a symmetric IRB route (onlink via the VTEP / a link-local next hop).
    func buildExitRouter(_ ns: NetworkNamespace) throws {
        for cmd in [
            ["sysctl", "-qw", "net.ipv4.ip_forward=1"], ["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"],
            ["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0"], ["sysctl", "-qw", "net.ipv4.conf.default.rp_filter=0"],
            ["ip", "link", "add", "vx5000", "type", "vxlan", "id", "5000", "local", "198.18.0.50", "dstport", "4789", "dev", "ul0", "nolearning"],
            ["ip", "link", "set", "vx5000", "address", exitRMAC, "mtu", "1500", "up"],
            ["ip", "addr", "add", "10.99.0.1/24", "dev", "ext0"], ["ip", "addr", "add", "fd00:99::1/64", "dev", "ext0", "nodad"],
            ["ip", "addr", "add", "10.20.0.5/32", "dev", "lo"],
            ["bridge", "fdb", "append", hv1RMAC, "dev", "vx5000", "dst", "198.18.0.1"],
            ["ip", "neigh", "replace", "198.18.0.1", "lladdr", hv1RMAC, "dev", "vx5000", "nud", "permanent"],
            ["ip", "route", "add", "10.10.1.0/24", "via", "198.18.0.1", "dev", "vx5000", "onlink"],
            ["ip", "-6", "neigh", "replace", "fe80::1", "lladdr", hv1RMAC, "dev", "vx5000", "nud", "permanent"],
            ["ip", "-6", "route", "add", "fd00:1::/64", "via", "fe80::1", "dev", "vx5000"],
        ] { try ns.exec(cmd) }
    }
}
