import Foundation
import VXLabKit
import VXSwitch
import XCTest

/// vxsw in the lab, beyond the main scenario: ports at run time, flooding, aging, metrics.
final class SwitchRuntimeTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
    }

    /// A third VM on hv1, attached and detached while vxsw runs (what a libvirt hook does).
    func testPortAddAndRemoveAtRunTime() throws {
        let env = try RunningLab(tag: "p")
        defer { env.close() }
        let vm13 = try NetworkNamespace("vxt\(labTag)p-vm13")
        defer { vm13.remove() }
        try addVeth("eth0", in: vm13, "tap13", in: env.lab.hv1)
        try vm13.exec(["ip", "addr", "add", "198.19.10.13/24", "dev", "eth0"])

        let add = try env.vxsw(["port", "add", "tap13", "--vni", "1000"])
        XCTAssertTrue(add.succeeded, add.error)
        XCTAssertTrue(try env.xdpAttached("tap13"))
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.21").0, "vm13 -> vm21 across VXLAN")
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.11").0, "vm13 -> vm11, two AF_XDP ports on one switch")
        let ports: [PortView] = try env.show(["ports"]).decode()
        XCTAssertEqual(ports.first { $0.name == "tap13" }?.vnis, [1000])

        let del = try env.vxsw(["port", "del", "tap13"])
        XCTAssertTrue(del.succeeded, del.error)
        XCTAssertFalse(try env.xdpAttached("tap13"), "XDP program detached from the removed port")
        XCTAssertFalse(try env.scenario.ping(vm13, "198.19.10.21", count: 2).0, "a removed port no longer switches")
        let after: [PortView] = try env.show(["ports"]).decode()
        XCTAssertNil(after.first { $0.name == "tap13" })
        XCTAssertFalse(try env.macs().contains { $0.port == "tap13" }, "the removed port's MACs are flushed")

        let again = try env.vxsw(["port", "del", "tap13"])
        XCTAssertFalse(again.succeeded)
        XCTAssertTrue(again.error.contains("tap13"), again.error)
        let unknownVNI = try env.vxsw(["port", "add", "tap13", "--vni", "4242"])
        XCTAssertFalse(unknownVNI.succeeded)
        XCTAssertTrue(unknownVNI.error.contains("4242"), unknownVNI.error)
        XCTAssertTrue(env.scenario.isSwitchRunning)
    }

    /// Broadcast reaches every VM of the VNI — local port and remote VTEP (head-end
    /// replication) — and nothing in the other VNI, where an address of the same subnet waits.
    func testBroadcastFloodsWithinTheVNIOnly() throws {
        let env = try RunningLab(tag: "b")
        defer { env.close() }
        let vm13 = try NetworkNamespace("vxt\(labTag)b-vm13")
        defer { vm13.remove() }
        try addVeth("eth0", in: vm13, "tap13", in: env.lab.hv1)
        try vm13.exec(["ip", "addr", "add", "198.19.10.13/24", "dev", "eth0"])
        XCTAssertTrue(try env.vxsw(["port", "add", "tap13", "--vni", "1000"]).succeeded)
        for vm in [env.lab.vm("vm21").namespace, vm13, env.lab.vm("vm12").namespace, env.lab.vm("vm22").namespace] {
            try vm.exec(["sysctl", "-qw", "net.ipv4.icmp_echo_ignore_broadcasts=0"])
        }
        let out = try env.lab.vm("vm11").namespace.exec(["ping", "-b", "-c", "3", "-i", "0.3", "-W", "2", "198.19.10.255"], check: false).output
        XCTAssertTrue(out.contains("from 198.19.10.21"), "remote VM in VNI 1000 got the broadcast:\n\(out)")
        XCTAssertTrue(out.contains("from 198.19.10.13"), "local VM in VNI 1000 got the broadcast:\n\(out)")
        XCTAssertFalse(out.contains("from 198.19.10.12"), "LEAK: VNI 2000 answered a VNI 1000 broadcast:\n\(out)")
        let vnis: [VNIView] = try env.show(["vni"]).decode()
        XCTAssertGreaterThan(vnis.first { $0.vni == 1000 }?.floods ?? 0, 0)
    }

    /// A MAC seen once is learned on its port and forgotten after the aging time.
    func testLearningAndAging() throws {
        let env = try RunningLab(tag: "a", agingTime: 2)
        defer { env.close() }
        let ghost = "02:aa:00:00:00:01"
        var frame = [UInt8](repeating: 0xFF, count: 6) + (MACAddressBytes(ghost) ?? []) + [0x88, 0xB5]
        frame += [UInt8](repeating: 0, count: 46)
        try injectFrames([frame], from: env.lab.vm("vm11").namespace, interface: "eth0")
        XCTAssertTrue(waitUntil(timeout: 3) { (try? env.macs().contains { $0.mac == ghost && $0.port == "tap11" && $0.type == "local" }) == true },
                      "learned on tap11")
        XCTAssertTrue(waitUntil(timeout: 15) { (try? env.macs().contains { $0.mac == ghost }) == false },
                      "aged out after 2 s")
    }

    func testPrometheusMetrics() throws {
        let env = try RunningLab(tag: "m", metrics: "127.0.0.1:9469")
        defer { env.close() }
        XCTAssertTrue(try env.scenario.ping(env.lab.vm("vm11").namespace, "198.19.10.21").0)
        let page = try env.lab.hv1.exec(["bash", "-c",
            #"exec 3<>/dev/tcp/127.0.0.1/9469; printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3; cat <&3"#]).output
        XCTAssertTrue(page.contains("text/plain; version=0.0.4"), page)
        XCTAssertTrue(page.contains(#"vxsw_port_rx_packets_total{port="tap11",kind="access"}"#), page)
        XCTAssertTrue(page.contains(#"vxsw_vtep_resolved{vtep="198.18.0.2"} 1"#), page)
    }
}

func MACAddressBytes(_ text: String) -> [UInt8]? {
    let parts = text.split(separator: ":").compactMap { UInt8($0, radix: 16) }
    return parts.count == 6 ? parts : nil
}
