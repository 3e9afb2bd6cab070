import Foundation
import Logging
import VXCore
import XCTest
@testable import VXEVPN

/// vxsw's speaker against a real gobgpd (eBGP) in a namespace the test creates.
final class GoBGPPeerTests: XCTestCase {
    func testType2AndType3BothWaysWithWithdrawals() async throws {
        guard Lab.tool("gobgpd") != nil, Lab.tool("gobgp") != nil else { throw XCTSkip("gobgpd/gobgp not installed") }
        let lab = try Lab("vxg")
        defer { lab.tearDown() }
        let ns = try lab.namespace("p")
        try lab.veth(to: ns, rootHost: 1, nsHost: 2)
        let us = lab.address(1), them = lab.address(2)
        let cfg = try lab.write("gobgpd.toml", """
            [global.config]
              as = 65010
              router-id = "\(them)"
              port = 179
            [[neighbors]]
              [neighbors.config]
                neighbor-address = "\(us)"
                peer-as = 65020
              [neighbors.transport.config]
                passive-mode = true
              [neighbors.timers.config]
                hold-time = 9
                keepalive-interval = 3
              [[neighbors.afi-safis]]
                [neighbors.afi-safis.config]
                  afi-safi-name = "l2vpn-evpn"
            """)
        try lab.spawn(in: ns, ["gobgpd", "-f", cfg, "--api-hosts=127.0.0.1:50051", "-l", "info"], log: "gobgpd.log")
        func gobgp(_ args: String...) throws -> String {
            try lab.sh(["ip", "netns", "exec", ns, "gobgp", "-p", "50051"] + args)
        }
        try await Lab.wait(10, "gobgpd API") { (try? gobgp("global")) != nil }

        let dp = RecordingDataplane()
        var config = EVPNConfig(asn: 65020, routerID: us, vtep: us, peers: [PeerConfig(address: them, remoteAS: 65010)])
        config.connectRetrySeconds = 1
        let speaker = EVPNSpeaker(config: config, dataplane: dp)
        let vni = VNI(100)!
        speaker.setLocalVNIs([vni])
        let localMAC = MACAddress("02:00:00:0a:00:01")!
        speaker.localMACLearned(vni: vni, mac: localMAC, ip: IPAddress("10.0.0.1"))
        try await speaker.start()
        do {
            try await Lab.wait(20, "session Established") { try await speaker.summary().peers.first?.state == .established }

            // GoBGP → vxsw: type-2 with IP and type-3 (RT = our auto RT, 65020:100, as FRR's auto RT uses the local AS).
            let vtep = IPAddress("198.19.250.9")!
            try gobgp("global", "rib", "-a", "evpn", "add", "macadv", "02:00:00:0b:00:01", "10.0.0.2", "etag", "0", "label", "100",
                      "rd", "\(them):100", "rt", "65020:100", "encap", "vxlan", "nexthop", "\(vtep)")
            try gobgp("global", "rib", "-a", "evpn", "add", "multicast", "\(vtep)", "etag", "0", "rd", "\(them):100", "rt", "65020:100",
                      "encap", "vxlan", "pmsi", "ingress-repl", "100", "\(vtep)", "nexthop", "\(vtep)")
            // A route for a VNI we do not have (other RT) must not be imported.
            try gobgp("global", "rib", "-a", "evpn", "add", "macadv", "02:00:00:0b:00:02", "0.0.0.0", "etag", "0", "label", "200",
                      "rd", "\(them):200", "rt", "65020:200", "encap", "vxlan", "nexthop", "\(vtep)")
            let remoteMAC = VNIMAC(vni, MACAddress("02:00:00:0b:00:01")!)
            try await Lab.wait(10, "remote MAC installed") { dp.macs[remoteMAC] != nil && dp.flood[vni] == [vtep] }
            XCTAssertEqual(dp.macs[remoteMAC]?.vtep, vtep)
            XCTAssertEqual(dp.macs[remoteMAC]?.ip, IPAddress("10.0.0.2"))
            XCTAssertEqual(dp.macs.count, 1, "route with RT 65020:200 imported: \(dp.events)")

            // vxsw → GoBGP: our type-2 (MAC and MAC/IP) and type-3 with RD, RT, encapsulation, label and PMSI.
            try await Lab.wait(10, "our routes at GoBGP") {
                (try gobgp("neighbor", "\(us)", "adj-in", "-a", "evpn")).contains("02:00:00:0a:00:01")
            }
            let adjIn = try gobgp("neighbor", "\(us)", "adj-in", "-a", "evpn")
            XCTAssertTrue(adjIn.contains("[type:macadv][rd:\(us):1][etag:0][mac:02:00:00:0a:00:01][ip:10.0.0.1]"), adjIn)
            XCTAssertTrue(adjIn.contains("[type:multicast][rd:\(us):1][etag:0][ip:\(us)]"), adjIn)
            XCTAssertTrue(adjIn.contains("Pmsi: type: ingress-repl, label: 100, tunnel-id: \(us)"), adjIn)
            XCTAssertTrue(adjIn.contains("65020:100"), adjIn)
            XCTAssertTrue(adjIn.contains("[VXLAN]"), adjIn)
            XCTAssertTrue(adjIn.contains("[100]"), adjIn) // label = VNI

            // Withdrawals, GoBGP side.
            try gobgp("global", "rib", "-a", "evpn", "del", "macadv", "02:00:00:0b:00:01", "10.0.0.2", "etag", "0", "label", "100",
                      "rd", "\(them):100")
            try gobgp("global", "rib", "-a", "evpn", "del", "multicast", "\(vtep)", "etag", "0", "rd", "\(them):100")
            try await Lab.wait(10, "remote MAC and flood entry withdrawn") { dp.macs[remoteMAC] == nil && (dp.flood[vni] ?? []).isEmpty }

            // Withdrawals, our side.
            speaker.localMACRemoved(vni: vni, mac: localMAC)
            try await Lab.wait(10, "our MAC withdrawn at GoBGP") {
                !(try gobgp("neighbor", "\(us)", "adj-in", "-a", "evpn")).contains("02:00:00:0a:00:01")
            }
            let summary = try await speaker.summary()
            print(summary.formatted())
            print(try await speaker.evpnRoutes().formatted())
        } catch {
            print("gobgpd log:\n" + lab.log("gobgpd.log"))
            await speaker.stop()
            throw error
        }
        await speaker.stop()
    }
}
