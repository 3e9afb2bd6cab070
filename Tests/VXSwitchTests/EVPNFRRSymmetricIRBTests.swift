import Foundation
import VXEVPN
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// Issue 13: vxsw routes symmetric IRB with an FRR VTEP that routes it itself. This kernel has no
/// VRF device, so the FRR VTEP uses FRR's network-namespace VRF backend (`zebra -n`): VRF
/// tenant1 is a namespace holding the L2 VNI's bridge (anycast gateway SVI 10.10.2.1) and the L3
/// VNI's bridge and vxlan device (the vxlan sockets stay in the VTEP's namespace). zebra
/// advertises vm2 as a MAC/IP route with L3 VNI 5000 and its subnet as a type-5 route, and
/// installs vxsw's hosts and subnet into the VRF namespace's kernel table.
///
/// ```
///  vm1 10.10.1.10 (VNI 1001, gw .1)                  vm2 10.10.2.10 (VNI 1002, gw .1)
///   hv1: vxsw 198.18.0.1, VRF L3 VNI 5000             hv2: FRR 8.4, zebra -n: netns VRF tenant1
///        \______________ underlay 198.18.0.0/24, iBGP hv1 <-> hv2 ______________/   br1002, br5000
/// ```
final class EVPNFRRSymmetricIRBTests: XCTestCase {
    let frrRMAC = "02:00:00:00:02:02"

    func testVxswAndAnFRRVTEPRouteBetweenSubnetsThroughL3VNI() throws {
        try requireEVPNFabric()
        let f = try makeFabric("fi")
        defer { f.close() }
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1001])
        let hv2 = try f.addNode("hv2", host: 2, kind: .router)
        let vrf = try f.addNamespace("t1"), vm2 = try f.addNamespace("vm2")
        let vm1 = try f.addVM("vm1", on: "hv1", vni: 1001, address: "10.10.1.10")
        try vm1.namespace.exec(["ip", "route", "add", "default", "via", "10.10.1.1"])
        try buildFRRVTEP(hv2.namespace, vrf: vrf, vm2: vm2)

        try f.startFRR("hv2", bgpdConfig: """
            hostname hv2
            log file \(hv2.directory)/frr/bgpd.log
            router bgp \(EVPNFabric.asn)
             bgp router-id \(hv2.address)
             no bgp default ipv4-unicast
             neighbor \(hv1.address) remote-as \(EVPNFabric.asn)
             neighbor \(hv1.address) timers 3 9
             address-family l2vpn evpn
              neighbor \(hv1.address) activate
              advertise-all-vni
             exit-address-family
            !
            router bgp \(EVPNFabric.asn) vrf tenant1
             address-family ipv4 unicast
              redistribute connected
             exit-address-family
             address-family l2vpn evpn
              advertise ipv4 unicast
             exit-address-family
            """, zebraConfig: "vrf tenant1\n vni 5000\nexit-vrf\n", vrfs: ["tenant1": vrf])
        try f.startVxsw("hv1", peers: [hv2.address], gateways: [1001: "{ ipv4: 10.10.1.1/24 }"],
                        vrfs: "  - { name: tenant1, l3-vni: 5000, router-mac: auto, vnis: [1001], advertise-subnets: true }")
        guard f.expect(30, "hv1 <-> FRR session Established", { f.vxswSessionsUp("hv1") }) else { return }
        let l3 = try hv2.frr?.vtysh("show evpn vni 5000") ?? ""
        XCTAssertTrue(l3.contains("Type: L3") && l3.contains("State: Up") && l3.contains(frrRMAC), "FRR's L3 VNI:\n\(l3)")

        // Each VM meets its gateway: vxsw and zebra learn the hosts and advertise them with the L3 VNI.
        for (ns, gw) in [(vm1.namespace, "10.10.1.1"), (vm2, "10.10.2.1")] {
            let (ok, summary) = try f.ping(ns, gw)
            XCTAssertTrue(ok, "-> \(gw): \(summary)\n\(f.logs())")
        }
        func route(_ prefix: String) -> RouteView? {
            let table: RouteTableView? = try? f.show("hv1", ["ip", "route", "vrf", "tenant1"]).decode()
            return table?.routes.first { $0.prefix == prefix }
        }
        f.expect(30, "hv1's VRF has vm2's host route (type 2) and FRR's subnet (type 5) toward FRR's router MAC") {
            route("10.10.2.10/32")?.mac == frrRMAC && route("10.10.2.0/24")?.mac == frrRMAC
        }
        XCTAssertEqual(route("10.10.2.10/32")?.vtep, hv2.address)
        // FRR put vxsw's host and subnet into the VRF namespace's kernel table, through hv1's router MAC.
        f.expect(30, "the FRR VRF's kernel table routes 10.10.1.10 and 10.10.1.0/24 toward hv1") {
            let routes = (try? vrf.exec(["ip", "route", "show"]).output) ?? ""
            return routes.contains("10.10.1.10 via \(hv1.address)") && routes.contains("10.10.1.0/24 via \(hv1.address)")
        }
        let neigh = (try? vrf.exec(["ip", "neigh", "show", hv1.address]).output) ?? ""
        XCTAssertTrue(neigh.contains("02:76:c6:12:00:01"), "FRR's neighbour for hv1 is hv1's router MAC: \(neigh)")

        // Routed both ways: by vxsw on hv1 and by the kernel in FRR's VRF (TTL 62).
        for (from, to) in [(vm1.namespace, "10.10.2.10"), (vm2, "10.10.1.10")] {
            var out = ""
            let ok = waitUntil(timeout: 10) {
                out = (try? from.exec(["ping", "-c", "1", "-W", "1", to], check: false).output) ?? ""
                return out.contains("1 received")
            }
            XCTAssertTrue(ok, "-> \(to) through L3 VNI 5000: \(out)\n\(f.logs())")
            XCTAssertTrue(out.contains("ttl=62"), "-> \(to) routed by vxsw and by FRR's VRF: \(out)")
        }
        let server = try vm2.spawn(["iperf3", "-s", "-1", "-B", "10.10.2.10"], logPath: f.workDir + "/iperf3-server.log")
        defer { server.stop(grace: 1) }
        _ = waitUntil(timeout: 5) { (try? vm2.exec(["ss", "-ltn"]).output.contains(":5201")) ?? false }
        let client = try vm1.namespace.exec(["iperf3", "-c", "10.10.2.10", "-t", "2", "-J"], check: false)
        XCTAssertTrue(client.succeeded && client.output.contains("\"sum_received\""), "TCP vm1 -> vm2 through FRR's VRF: \(client.error)")
    }

    /// hv2 the way FRR's EVPN documentation builds a symmetric-IRB VTEP, with a namespace for the
    /// VRF: vx1002 and vx5000 created on ul0 in hv2 and moved into it, each in its bridge; the
    /// anycast gateway 10.10.2.1 on br1002; br5000's MAC is the router MAC; vm2 on br1002.
    func buildFRRVTEP(_ hv2: NetworkNamespace, vrf: NetworkNamespace, vm2: NetworkNamespace) throws {
        for v in ["1002", "5000"] {
            try hv2.exec(["ip", "link", "add", "vx\(v)", "type", "vxlan", "id", v, "local", "198.18.0.2", "dstport", "4789",
                          "dev", "ul0", "nolearning"])
            try hv2.exec(["ip", "link", "set", "vx\(v)", "netns", vrf.name])
            try vrf.exec(["ip", "link", "add", "br\(v)", "type", "bridge"])
            try vrf.exec(["ip", "link", "set", "vx\(v)", "master", "br\(v)"])
            try vrf.exec(["ip", "link", "set", "vx\(v)", "mtu", "1500", "up"])
            try vrf.exec(["ip", "link", "set", "vx\(v)", "type", "bridge_slave", "learning", "off", "neigh_suppress", "on"])
        }
        try vrf.exec(["ip", "link", "set", "br5000", "address", frrRMAC])
        try vrf.exec(["ip", "link", "set", "br1002", "address", "00:00:5e:00:01:01"])
        try vrf.exec(["ip", "addr", "add", "10.10.2.1/24", "dev", "br1002"])
        for br in ["br1002", "br5000"] { try vrf.exec(["ip", "link", "set", br, "up"]) }
        try vrf.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        try addVeth("eth0", in: vm2, "tap2", in: vrf)
        try vrf.exec(["ip", "link", "set", "tap2", "master", "br1002", "up"])
        try vm2.exec(["ip", "addr", "add", "10.10.2.10/24", "dev", "eth0"])
        try vm2.exec(["ip", "link", "set", "eth0", "up"])
        try vm2.exec(["ip", "route", "add", "default", "via", "10.10.2.1"])
    }
}
