import Foundation
import VXEVPN
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// Issue 13, phase 2: two vxsw hypervisors route between two subnets of one tenant VRF through
/// an FRR route reflector (symmetric IRB, RFC 9135), IPv4 and IPv6: each advertises its VM as a MAC/IP route
/// with Label2 = L3 VNI 5000 and its router MAC; the other installs a host route to it.
///
/// ```
///  vm1 10.10.1.10 (VNI 1001, gw .1)          vm2 10.10.2.10 (VNI 1002, gw .1)
///   hv1: vxsw 198.18.0.1, VRF L3 VNI 5000     hv2: vxsw 198.18.0.2, VRF L3 VNI 5000
///        \___________ underlay 198.18.0.0/24 — rr: FRR route reflector .254 ___________/
/// ```
final class EVPNSymmetricIRBTests: XCTestCase {
    func testTwoVxswRouteBetweenSubnetsThroughARouteReflector() throws {
        try requireEVPNFabric()
        let f = try makeFabric("irb")
        defer { f.close() }
        let rr = try f.addNode("rr", host: 254, kind: .routeReflector)
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1001])
        let hv2 = try f.addNode("hv2", host: 2, kind: .vxsw, vnis: [1002])
        let vm1 = try f.addVM("vm1", on: "hv1", vni: 1001, address: "10.10.1.10")
        let vm2 = try f.addVM("vm2", on: "hv2", vni: 1002, address: "10.10.2.10")
        for (vm, n) in [(vm1, 1), (vm2, 2)] {
            try vm.namespace.exec(["ip", "route", "add", "default", "via", "10.10.\(n).1"])
            try vm.namespace.exec(["ip", "addr", "add", "fd00:\(n)::10/64", "dev", "eth0", "nodad"])
            try vm.namespace.exec(["ip", "-6", "route", "add", "default", "via", "fd00:\(n)::1"])
        }

        try f.startFRR("rr", bgpdConfig: f.frrRouteReflectorConfig(rr, clients: [hv1.address, hv2.address]))
        for (hv, vni) in [("hv1", UInt32(1001)), ("hv2", 1002)] {
            let subnet = vni - 1000
            try f.startVxsw(hv, peers: [rr.address], gateways: [vni: "{ ipv4: 10.10.\(subnet).1/24, ipv6: \"fd00:\(subnet)::1/64\" }"],
                            vrfs: "  - { name: tenant1, l3-vni: 5000, router-mac: auto, vnis: [\(vni)], advertise-subnets: true }")
        }
        f.expect(30, "RR sessions to hv1 and hv2 Established") { f.routeReflectorSessionsUp(rr, [hv1, hv2]) }

        // Each VM meets its gateway (the gateway learns the host), which advertises it.
        for (vm, gw) in [(vm1, "10.10.1.1"), (vm2, "10.10.2.1"), (vm1, "fd00:1::1"), (vm2, "fd00:2::1")] {
            let (ok, summary) = try f.ping(vm.namespace, gw)
            XCTAssertTrue(ok, "\(vm.name) -> its gateway \(gw): \(summary)\n\(f.logs())")
        }
        func macIP(_ on: String, _ ip: String) -> EVPNRouteEntry? {
            let table: EVPNRouteTable? = try? f.show(on, ["bgp", "l2vpn", "evpn", "route", "type", "macip"]).decode()
            return table?.routes.first { !$0.local && $0.prefix.hasSuffix(":[\(ip.contains(":") ? 128 : 32)]:[\(ip)]") }
        }
        // hv1 has hv2's MAC/IP route with both labels, the VRF's RT and hv2's router MAC (02:76 + 198.18.0.2).
        let got1 = f.expect(20, "hv1 receives vm2's MAC/IP route") { macIP("hv1", vm2.address) != nil }
        let got2 = f.expect(20, "hv2 receives vm1's MAC/IP route") { macIP("hv2", vm1.address) != nil }
        let got6 = f.expect(20, "hv1 and hv2 receive each other's IPv6 MAC/IP routes") {
            macIP("hv1", "fd00:2::10")?.label == "1002/5000" && macIP("hv2", "fd00:1::10")?.label == "1001/5000"
        }
        guard got1 && got2 && got6 else { return }
        let r = try XCTUnwrap(macIP("hv1", vm2.address))
        XCTAssertEqual(r.label, "1002/5000")
        XCTAssertTrue(r.best, "in use as hv1's host route")
        XCTAssertEqual(r.nextHop, hv2.address)
        XCTAssertTrue(r.extendedCommunities.contains("Rmac:02:76:c6:12:00:02"), "\(r.extendedCommunities)")
        XCTAssertTrue(r.extendedCommunities.contains("RT:\(EVPNFabric.asn):5000"), "\(r.extendedCommunities)")
        XCTAssertTrue(r.extendedCommunities.contains("RT:\(EVPNFabric.asn):1002"), "\(r.extendedCommunities)")

        // hv1's VRF: vm2's host routes toward hv2's router MAC.
        for (family, prefix) in [("ip", "10.10.2.10/32"), ("ipv6", "fd00:2::10/128")] {
            let table: RouteTableView = try f.show("hv1", [family, "route", "vrf", "tenant1"]).decode()
            let route = table.routes.first { $0.prefix == prefix }
            XCTAssertEqual(route?.type, "remote", "\(table.routes)")
            XCTAssertEqual(route?.vtep, hv2.address)
            XCTAssertEqual(route?.mac, "02:76:c6:12:00:02")
        }

        // Routed both ways across the hosts, IPv4 and IPv6: TTL (hop limit) 62, one less on each hypervisor.
        for (a, b, to) in [(vm1, vm2, vm2.address), (vm2, vm1, vm1.address), (vm1, vm2, "fd00:2::10"), (vm2, vm1, "fd00:1::10")] {
            var out = ""
            let ok = waitUntil(timeout: 10) {
                out = (try? a.namespace.exec(["ping", "-c", "1", "-W", "1", to], check: false).output) ?? ""
                return out.contains("1 received")
            }
            XCTAssertTrue(ok, "\(a.name) -> \(b.name) (\(to)) routed through the L3 VNI: \(out)\n\(f.logs())")
            XCTAssertTrue(out.contains("ttl=62"), "\(a.name) -> \(b.name) (\(to)) routed on both hypervisors: \(out)")
        }

        // Type 5 through FRR: each advertises its subnet; hv1 routes to a host of hv2's subnet that no
        // MAC/IP route names (silent: an address vm2 has but never used) through hv2's prefix route;
        // hv2's gateway resolves it (the first packet is dropped, neighbor_unresolved).
        f.expect(20, "hv1 has hv2's subnet 10.10.2.0/24 as a type-5 route through FRR") {
            let table: RouteTableView? = try? f.show("hv1", ["ip", "route", "vrf", "tenant1"]).decode()
            return table?.routes.contains { $0.prefix == "10.10.2.0/24" && $0.type == "remote" && $0.vtep == hv2.address } ?? false
        }
        let rrPrefixes = (try? rr.frr?.vtysh("show bgp l2vpn evpn route type prefix")) ?? ""
        XCTAssertTrue(rrPrefixes.contains("10.10.1.0") && rrPrefixes.contains("10.10.2.0"), "FRR RR has both type-5 routes:\n\(rrPrefixes)")
        let local: RouteTableView = try f.show("hv1", ["ip", "route", "vrf", "tenant1"]).decode()
        XCTAssertEqual(local.routes.first { $0.prefix == "10.10.1.0/24" }?.type, "connected", "hv1's own subnet stays connected: \(local.routes)")
        try vm2.namespace.exec(["ip", "addr", "add", "10.10.2.20/24", "dev", "eth0"])
        var silent = ""
        XCTAssertTrue(waitUntil(timeout: 10) {
            silent = (try? vm1.namespace.exec(["ping", "-c", "1", "-W", "1", "10.10.2.20"], check: false).output) ?? ""
            return silent.contains("1 received")
        }, "vm1 -> silent host 10.10.2.20 through hv2's type-5 route: \(silent)\n\(f.logs())")

        // A control-plane restart on hv2 re-advertises the hosts its gateway has (it reports each
        // once): FRR's RR is no GR helper for EVPN, so hv1 loses vm2's route and gets it back.
        let r2 = try f.control("hv2", ["bgp", "restart"])
        XCTAssertTrue(r2.succeeded, r2.error)
        f.expect(30, "hv2's restart completes") { f.node("hv2").vxsw?.log.contains("restart complete") ?? false }
        f.expect(20, "hv1 has vm2's MAC/IP routes with the L3 VNI again") {
            macIP("hv1", vm2.address)?.label == "1002/5000" && macIP("hv1", "fd00:2::10")?.label == "1002/5000"
        }
        XCTAssertTrue(waitUntil(timeout: 10) {
            (try? vm1.namespace.exec(["ping", "-c", "1", "-W", "1", vm2.address], check: false).succeeded) ?? false
        }, "vm1 -> vm2 routed after hv2's control-plane restart\n\(f.logs())")
    }
}
