import Foundation
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// Issue 12: several IPs per MAC reach the data plane, and a floating IP follows its newest
/// MAC/IP route. GoBGP advertises one MAC with two IPv4 addresses and an IPv6 address (a VM
/// behind VTEP 198.18.0.77); vxsw answers vm11's ARP requests for both IPv4s and its neighbour
/// solicitation for the IPv6 one with that MAC (ARP/ND suppression: nothing reaches the VTEP,
/// which does not even exist). Then the second IPv4 moves to another VM (a new MAC/IP route from
/// another MAC, the old one not withdrawn): vxsw answers with the new MAC, never the old.
///
/// ```
///  vm11 (VNI 1000) ── ARP / NS ──▶ vxsw hv1 198.18.0.1 ◀── iBGP ── gobgpd 198.18.0.200
///                                                                   MAC M: .91, .92, fd00:10::91
///                                                                   MAC N: .92 (later)
/// ```
final class EVPNSeveralIPsTests: XCTestCase {
    func testEveryIPOfAMACIsAnsweredAndAFloatingIPFollowsItsNewestRoute() throws {
        try requireEVPNFabric(frr: false, gobgp: true)
        let f = try makeFabric("ips")
        defer { f.close() }
        let gb = try f.addNode("gobgp", host: 200, kind: .gobgp)
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1000])
        let vm11 = try f.addVM("vm11", on: "hv1", vni: 1000, address: "198.19.10.11")
        try vm11.namespace.exec(["ip", "-6", "addr", "add", "fd00:10::11/64", "dev", "eth0", "nodad"])
        let gobgp = try f.startGoBGP("gobgp", neighbors: [.init(address: hv1.address, peerAS: EVPNFabric.asn, passive: false)])
        try f.startVxsw("hv1", peers: [gb.address])
        guard f.expect(30, "vxsw <-> gobgpd session Established", {
            f.vxswSessionsUp("hv1") && gobgp.neighborState(hv1.address) == "established"
        }) else { return }

        let vtep = "198.18.0.77", m = "02:00:00:0c:00:01", n = "02:00:00:0c:00:02"
        func advertise(_ mac: String, _ ip: String) throws {
            try gobgp.gobgp(["global", "rib", "-a", "evpn", "add", "macadv", mac, ip, "etag", "0", "label", "1000",
                             "rd", "\(gb.address):1", "rt", "65000:1000", "encap", "vxlan", "nexthop", vtep])
        }
        for ip in ["198.19.10.91", "198.19.10.92", "fd00:10::91"] { try advertise(m, ip) }
        func neighbors() -> Int { Int(((try? f.show("hv1", ["vni", "1000"]))?.arrayValue?.first?["neighbors"]?.intValue) ?? -1) }
        guard f.expect(10, "vxsw has 3 neighbour entries in VNI 1000 (has \(neighbors()))", { neighbors() == 3 }) else { return }
        let entry = f.vxswEVPNMAC("hv1", vni: 1000, mac: m)
        XCTAssertEqual(entry?["neighbors"]?["active"]?.arrayValue?.count, 3, "show evpn mac lists the MAC's IPs: \(entry?.jsonText ?? "-")")

        /// vm11 resolves `ip` (the VTEP is not there: only vxsw can answer); the MAC it got, or "".
        func resolve(_ ip: String) -> String {
            let six = ip.contains(":")
            _ = try? vm11.namespace.exec(["ip"] + (six ? ["-6"] : []) + ["neigh", "flush", "dev", "eth0"], check: false)
            _ = try? vm11.namespace.exec(["ping"] + (six ? ["-6"] : []) + ["-c", "1", "-W", "1", ip], check: false)
            let line = f.neighbour(vm11, ip)
            let words = line.split(separator: " ")
            return words.firstIndex(of: "lladdr").map { String(words[$0 + 1]) } ?? ""
        }
        for ip in ["198.19.10.91", "198.19.10.92", "fd00:10::91"] {
            XCTAssertEqual(resolve(ip), m, "vxsw answers for \(ip) with the MAC's address")
        }
        let counters = try f.show("hv1", ["vni", "1000"]).arrayValue?.first
        XCTAssertGreaterThanOrEqual(counters?["arpSuppressed"]?.intValue ?? 0, 2, "\(counters?.jsonText ?? "-")")
        XCTAssertGreaterThanOrEqual(counters?["ndSuppressed"]?.intValue ?? 0, 1, "\(counters?.jsonText ?? "-")")

        // .92 floats to another VM (MAC N): its route arrives while M's is still there.
        try advertise(n, "198.19.10.92")
        f.expect(10, "vxsw answers for 198.19.10.92 with the new MAC") { resolve("198.19.10.92") == n }
        XCTAssertEqual(resolve("198.19.10.91"), m, "M keeps its other IPs")
        XCTAssertEqual(f.stopVxsw("hv1"), 0, "vxsw exit status")
    }
}
