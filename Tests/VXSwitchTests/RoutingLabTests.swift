import Foundation
import VXConfig
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// Routing on the host against real Linux hosts: vxsw in a namespace with two VMs (namespaces
/// on veths) in two subnets — two L2 VNIs of one VRF, each VM's default route via the anycast
/// gateway. Ping both ways over IPv4 and IPv6, TCP both ways, `show ip route vrf` lists both.
final class RoutingLabTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
    }

    static let config = """
        vtep: { ipv4: 198.18.0.1 }
        vnis:
          - vni: 1000
            gateway: { ipv4: 10.1.0.1/24, ipv6: "fd00:1::1/64" }
          - vni: 2000
            gateway: { ipv4: 10.2.0.1/24, ipv6: "fd00:2::1/64" }
        vrfs:
          - { name: tenant1, l3-vni: 5000, vnis: [1000, 2000] }
        ports:
          - { name: tap1, vni: 1000 }
          - { name: tap2, vni: 2000 }
        control: { socket: SOCKET, metrics: off, state-file: off }

        """

    /// The hypervisor namespace and two VMs on veths (tap1, tap2) in 10.1.0.0/24 and 10.2.0.0/24
    /// (fd00:1::/64, fd00:2::/64), default routes via the .1 gateways; all removed after the test.
    func twoSubnets(_ tag: String) throws -> (workDir: String, hv: NetworkNamespace, vm1: NetworkNamespace, vm2: NetworkNamespace) {
        let workDir = NSTemporaryDirectory() + "vxsw-routing-\(tag)-\(labTag)"
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: workDir) }
        var made: [NetworkNamespace] = []
        addTeardownBlock { for ns in made.reversed() { ns.remove() } }
        for name in ["hv", "vm1", "vm2"] { made.append(try NetworkNamespace("vx\(tag)\(labTag)-\(name)")) }
        let (hv, vm1, vm2) = (made[0], made[1], made[2])
        try hv.exec(["ip", "addr", "add", "198.18.0.1/32", "dev", "lo"])
        for (vm, tap, v4, v6, gw4, gw6) in [(vm1, "tap1", "10.1.0.10/24", "fd00:1::10/64", "10.1.0.1", "fd00:1::1"),
                                            (vm2, "tap2", "10.2.0.20/24", "fd00:2::20/64", "10.2.0.1", "fd00:2::1")] {
            try addVeth("eth0", in: vm, tap, in: hv)
            try vm.exec(["ip", "addr", "add", v4, "dev", "eth0"])
            try vm.exec(["ip", "-6", "addr", "add", v6, "dev", "eth0", "nodad"])
            try vm.exec(["ip", "route", "add", "default", "via", gw4])
            try vm.exec(["ip", "-6", "route", "add", "default", "via", gw6])
        }
        return (workDir, hv, vm1, vm2)
    }

    func testVMsInTwoSubnetsAreRoutedOnTheHost() throws {
        let (workDir, hv, vm1, vm2) = try twoSubnets("r")

        let socket = workDir + "/vxsw.sock"
        let path = workDir + "/vxsw.yaml"
        try Self.config.replacingOccurrences(of: "SOCKET", with: socket).write(toFile: path, atomically: true, encoding: .utf8)
        let binary = try vxswBinary()
        let child = try startSwitchProcess(binary: binary, config: path, socket: socket, in: hv, logPath: workDir + "/vxsw.log")
        defer { child.stop() }
        func log() -> String { String(child.log.suffix(2000)) }

        // The first packet toward a host the gateway has not met yet is dropped while it asks
        // (neighbor_unresolved); after that every one goes through.
        func ping(_ vm: NetworkNamespace, _ to: String) throws -> String? {
            _ = try vm.exec(["ping", "-c", "2", "-i", "0.2", "-W", "1", to], check: false)
            let r = try vm.exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", to], check: false)
            return r.succeeded ? nil : "ping \(to): \(r.output.suffix(300)) \(r.error)\n\(log())"
        }
        for (vm, to) in [(vm1, "10.1.0.1"), (vm1, "10.2.0.20"), (vm2, "10.1.0.10"), (vm1, "fd00:1::1"),
                         (vm1, "fd00:2::20"), (vm2, "fd00:1::10")] {
            if let problem = try ping(vm, to) { XCTFail(problem) }
        }
        // TTL as a router leaves it: one hop less.
        let ttl = try vm1.exec(["ping", "-c", "1", "-W", "2", "10.2.0.20"], check: false).output
        XCTAssertTrue(ttl.contains("ttl=63"), "routed once: \(ttl)")

        // TCP both ways, IPv4 and IPv6.
        for (server, address, reverse) in [("10.2.0.20", "10.2.0.20", false), ("10.2.0.20", "10.2.0.20", true),
                                           ("fd00:2::20", "fd00:2::20", false)] {
            let iperf = try vm2.spawn(["iperf3", "-s", "-1", "-B", server], logPath: workDir + "/iperf3.log")
            defer { iperf.stop(grace: 2) }
            _ = waitUntil(timeout: 5) { (try? vm2.exec(["ss", "-ltn", "sport = :5201"]).output.contains("5201")) == true }
            let r = try vm1.exec(["iperf3", "-c", address, "-t", "2", "-J", "--connect-timeout", "3000"] + (reverse ? ["-R"] : []),
                                 check: false)
            let json = try? JSONDecoder().decode(JSONValue.self, from: Data(r.output.utf8))
            let bytes = json?["end"]?["sum_received"]?["bytes"]?.numberValue ?? 0
            XCTAssertGreaterThan(bytes, 1_000_000, "TCP \(address)\(reverse ? " reverse" : ""): \(r.output.suffix(400))\n\(log())")
        }

        // show ip route vrf: both subnets and both hosts, learned behind their ports.
        let show = try VXLabKit.run([binary, "show", "ip", "route", "vrf", "tenant1", "--json", "--socket", socket]).output
        let table = try JSONDecoder().decode(RouteTableView.self, from: Data(show.utf8))
        XCTAssertEqual(table.l3VNI, 5000)
        let routes = Dictionary(uniqueKeysWithValues: table.routes.map { ($0.prefix, $0) })
        XCTAssertEqual(routes["10.1.0.0/24"]?.type, "connected")
        XCTAssertEqual(routes["10.2.0.0/24"]?.type, "connected")
        XCTAssertEqual(routes["10.1.0.10/32"]?.port, "tap1", show)
        XCTAssertEqual(routes["10.2.0.20/32"]?.port, "tap2", show)
        let text = try VXLabKit.run([binary, "show", "ip", "route", "vrf", "tenant1", "--socket", socket]).output
        XCTAssertTrue(text.contains("L>* 10.2.0.20/32 via"), text)
        let show6 = try VXLabKit.run([binary, "show", "ipv6", "route", "vrf", "tenant1", "--json", "--socket", socket]).output
        let table6 = try JSONDecoder().decode(RouteTableView.self, from: Data(show6.utf8))
        XCTAssertEqual(Set(table6.routes.map(\.prefix)), ["fd00:1::/64", "fd00:1::10/128", "fd00:2::/64", "fd00:2::20/128"], show6)
        let unknown = try VXLabKit.run([binary, "show", "ip", "route", "vrf", "nope", "--socket", socket], check: false)
        XCTAssertTrue(unknown.error.contains("no VRF named 'nope'"), unknown.error)

        // Counted: routed packets on both VNIs; no route → ICMP unreachable back to the VM.
        let out = try vm1.exec(["ping", "-c", "1", "-W", "2", "192.168.99.1"], check: false).output
        XCTAssertTrue(out.contains("Unreachable") || out.contains("unreachable"), out)
        let vnis: [VNIView] = try JSONDecoder().decode([VNIView].self, from: Data(
            try VXLabKit.run([binary, "show", "vni", "--json", "--socket", socket]).output.utf8))
        XCTAssertGreaterThan(vnis.first { $0.vni == 1000 }?.drops["no_route"] ?? 0, 0)
        XCTAssertTrue(child.isRunning, log())
    }

    /// `vxsw reload` adds a tenant (a VRF and the gateways of two VNIs) to a switch that only
    /// bridged them, moves a gateway address, and takes the tenant away again, while the
    /// switch runs: routing starts, follows and stops; bridging in each VNI never stops.
    func testVRFAndGatewaysChangeByReload() throws {
        let (workDir, hv, vm1, vm2) = try twoSubnets("q")
        let socket = workDir + "/vxsw.sock", path = workDir + "/vxsw.yaml"
        let bridged = """
            vtep: { ipv4: 198.18.0.1 }
            vnis:
              - vni: 1000
              - vni: 2000
            ports:
              - { name: tap1, vni: 1000 }
              - { name: tap2, vni: 2000 }
            control: { socket: \(socket), metrics: off, state-file: off }

            """
        let routed = Self.config.replacingOccurrences(of: "SOCKET", with: socket)
        try bridged.write(toFile: path, atomically: true, encoding: .utf8)
        let binary = try vxswBinary()
        let child = try startSwitchProcess(binary: binary, config: path, socket: socket, in: hv, logPath: workDir + "/vxsw.log")
        defer { child.stop() }
        func reload(_ yaml: String) throws -> String {
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try VXLabKit.run([binary, "reload", "--socket", socket], check: false)
            XCTAssertTrue(r.succeeded, "reload: \(r.output) \(r.error)\n\(child.log.suffix(1500))")
            return r.output
        }
        func reaches(_ vm: NetworkNamespace, _ to: String) -> Bool {
            waitUntil(timeout: 5) { (try? vm.exec(["ping", "-c", "1", "-W", "1", to], check: false).succeeded) ?? false }
        }
        XCTAssertFalse(reaches(vm1, "10.2.0.20"), "no gateway yet: nothing routes")

        let added = try reload(routed)
        XCTAssertTrue(added.contains("VRF tenant1 (L3 VNI 5000): set") && added.contains("VNI 2000: gateway set"), added)
        XCTAssertTrue(reaches(vm1, "10.1.0.1") && reaches(vm2, "10.2.0.1"), "the gateways answer after the reload\n\(child.log.suffix(1500))")
        XCTAssertTrue(reaches(vm1, "10.2.0.20"), "vm1 -> vm2 routed after the reload\n\(child.log.suffix(1500))")

        // VNI 2000's gateway moves to .254: the old address no longer answers, the new one does.
        try vm2.exec(["ip", "route", "replace", "default", "via", "10.2.0.254"])
        let moved = try reload(routed.replacingOccurrences(of: "10.2.0.1/24", with: "10.2.0.254/24"))
        XCTAssertTrue(moved.contains("VNI 2000: gateway set"), moved)
        XCTAssertTrue(reaches(vm2, "10.2.0.254"), "the moved gateway answers")
        XCTAssertTrue(reaches(vm2, "10.1.0.10"), "vm2 -> vm1 routed through the moved gateway\n\(child.log.suffix(1500))")
        XCTAssertFalse(reaches(vm2, "10.2.0.1"), "the old gateway address is gone")

        let removed = try reload(bridged)
        XCTAssertTrue(removed.contains("VRF with L3 VNI 5000: removed"), removed)
        XCTAssertFalse(reaches(vm1, "10.2.0.20"), "the tenant is gone: nothing routes")
        let routes = try VXLabKit.run([binary, "show", "ip", "route", "vrf", "tenant1", "--socket", socket], check: false)
        XCTAssertTrue(routes.error.contains("no VRF named 'tenant1'"), routes.error)
        XCTAssertTrue(child.isRunning, String(child.log.suffix(2000)))
    }
}
