import Foundation
import Logging
import VXCore
import XCTest
@testable import VXEVPN

/// vxsw's speaker against FRR 8.4 (zebra + bgpd, `advertise-all-vni` over a kernel bridge +
/// vxlan) in a namespace the test creates; iBGP, so both sides' auto RTs (AS:VNI) match.
final class FRRPeerTests: XCTestCase {
    func testFRRVTEPExchangesRoutesAndFollowsAMACMove() async throws {
        guard Lab.tool("bgpd") != nil, Lab.tool("zebra") != nil, Lab.tool("vtysh") != nil else { throw XCTSkip("FRR not installed") }
        let lab = try Lab("vxf")
        defer { lab.tearDown() }
        let ns = try lab.namespace("p")
        try lab.veth(to: ns, rootHost: 1, nsHost: 2)
        let us = lab.address(1), them = lab.address(2)
        // The FRR hypervisor: br100 with vxlan100 (VNI 100) and one VM port with a static MAC.
        for cmd in [["link", "add", "br100", "type", "bridge"], ["link", "set", "br100", "up"],
                    ["link", "add", "vxlan100", "type", "vxlan", "id", "100", "local", "\(them)", "dstport", "4789", "nolearning"],
                    ["link", "set", "vxlan100", "master", "br100"], ["link", "set", "vxlan100", "type", "bridge_slave", "learning", "off"],
                    ["link", "set", "vxlan100", "up"], ["link", "add", "vm1", "type", "veth", "peer", "name", "vm1p"],
                    ["link", "set", "vm1", "master", "br100"], ["link", "set", "vm1", "up"], ["link", "set", "vm1p", "up"]] {
            try lab.sh(["ip", "-n", ns] + cmd)
        }
        let frrMAC = "02:00:00:0c:00:01"
        try lab.sh(["ip", "netns", "exec", ns, "bridge", "fdb", "add", frrMAC, "dev", "vm1", "master", "static"])

        let d = lab.dir.path
        try lab.sh(["chown", "-R", "frr:frr", d])
        let zebraConf = try lab.write("zebra.conf", "hostname vxf-zebra\n")
        let bgpdConf = try lab.write("bgpd.conf", """
            hostname vxf-bgpd
            log file \(d)/bgpd.log
            router bgp 65030
             bgp router-id \(them)
             no bgp default ipv4-unicast
             neighbor \(us) remote-as 65030
             neighbor \(us) passive
             neighbor \(us) timers 3 9
             address-family l2vpn evpn
              neighbor \(us) activate
              advertise-all-vni
             exit-address-family
            """)
        try lab.sh(["chown", "-R", "frr:frr", d])
        // In the foreground (no -d): the test holds their PIDs and stops exactly those.
        let common = ["-z", "\(d)/zserv.api", "--vty_socket", d, "-u", "frr", "-g", "frr"]
        try lab.spawn(in: ns, [Lab.tool("zebra")!, "-i", "\(d)/zebra.pid", "-f", zebraConf] + common, log: "zebra.out")
        try await Lab.wait(10, "zebra socket") { FileManager.default.fileExists(atPath: "\(d)/zserv.api") }
        try lab.spawn(in: ns, [Lab.tool("bgpd")!, "-i", "\(d)/bgpd.pid", "-f", bgpdConf, "-p", "179"] + common, log: "bgpd.out")
        func vtysh(_ cmd: String) throws -> String { try lab.sh(["vtysh", "--vty_socket", d, "-c", cmd]) }

        let dp = RecordingDataplane()
        var config = EVPNConfig(asn: 65030, routerID: us, vtep: us, peers: [PeerConfig(address: them, remoteAS: 65030)])
        config.connectRetrySeconds = 1
        let speaker = EVPNSpeaker(config: config, dataplane: dp)
        let vni = VNI(100)!
        speaker.setLocalVNIs([vni])
        let ourMAC = MACAddress("02:00:00:0a:00:01")!, movingMAC = MACAddress("02:00:00:0a:00:02")!
        speaker.localMACLearned(vni: vni, mac: ourMAC, ip: IPAddress("10.0.0.1"))
        speaker.localMACLearned(vni: vni, mac: movingMAC)
        try await speaker.start()
        do {
            try await Lab.wait(30, "session Established") { try await speaker.summary().peers.first?.state == .established }

            // FRR → vxsw: its VNI's type-3 (flood list) and its static MAC.
            let frrKey = VNIMAC(vni, MACAddress(frrMAC)!)
            try await Lab.wait(15, "FRR's routes installed") { dp.macs[frrKey]?.vtep == them && dp.flood[vni] == [them] }

            // vxsw → FRR: zebra puts our MAC into the kernel FDB of vxlan100 with our VTEP.
            try await Lab.wait(15, "our MAC in FRR's EVPN MAC table") {
                let t = try vtysh("show evpn mac vni 100")
                return t.contains("\(ourMAC)") && t.contains("\(movingMAC)")
            }
            let frrMACs = try vtysh("show evpn mac vni 100")
            XCTAssertTrue(frrMACs.split(separator: "\n").contains { $0.contains("\(ourMAC)") && $0.contains("remote") && $0.contains("\(us)") }, frrMACs)
            let fdb = try lab.sh(["ip", "netns", "exec", ns, "bridge", "fdb", "show", "dev", "vxlan100"])
            XCTAssertTrue(fdb.contains("\(ourMAC) dst \(us)"), fdb)
            XCTAssertTrue(try vtysh("show evpn vni 100").contains("\(us)"), "FRR's VNI 100 lacks our VTEP in its flood list")

            // The VM with movingMAC moves to the FRR hypervisor: FRR advertises it with sequence 1,
            // vxsw installs it toward FRR's VTEP and withdraws its own route.
            try lab.sh(["ip", "netns", "exec", ns, "bridge", "fdb", "replace", "\(movingMAC)", "dev", "vm1", "master", "static"])
            let movedKey = VNIMAC(vni, movingMAC)
            try await Lab.wait(15, "moved MAC installed toward FRR") { dp.macs[movedKey]?.vtep == them }
            XCTAssertEqual(dp.macs[movedKey]?.seq, 1)
            try await Lab.wait(10, "our route for the moved MAC withdrawn") {
                !(try vtysh("show bgp l2vpn evpn route type macip")).contains("\(movingMAC)]\n                    \(us)")
            }
            let ours = try await speaker.macs(vni: vni)
            XCTAssertEqual(ours.macs.first { $0.mac == "\(movingMAC)" }?.type, "remote")
            print(ours.formatted())
            print(EVPNVNIInfo.formatted(try await speaker.vnis()))
            print(try vtysh("show bgp l2vpn evpn"))

            // Withdrawal from FRR: the static MAC goes away.
            try lab.sh(["ip", "netns", "exec", ns, "bridge", "fdb", "del", frrMAC, "dev", "vm1", "master", "static"])
            try await Lab.wait(15, "FRR's MAC withdrawn") { dp.macs[frrKey] == nil }
            print(try await speaker.summary().formatted(), try await speaker.summary().peers.first?.lastError ?? "")
            print(lab.log("bgpd.log"))
        } catch {
            print("bgpd log:\n" + lab.log("bgpd.log"))
            await speaker.stop()
            throw error
        }
        await speaker.stop()
    }
}
