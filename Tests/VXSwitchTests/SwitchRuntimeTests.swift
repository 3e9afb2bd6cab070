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
        let vm13 = try env.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        defer { vm13.remove() }

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
        XCTAssertTrue(again.succeeded, "deleting an absent port is not an error (hooks run twice)")
        XCTAssertTrue(again.output.contains("tap13") && again.output.contains("not attached"), again.output)
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
        let vm13 = try env.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        defer { vm13.remove() }
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

    /// A trunk port: 802.1Q VLAN 100 of a VM is VNI 1000. (This kernel has no 8021q module,
    /// so the VM's tagged frames are crafted: an ARP request for vm21 tagged 100.)
    func testTrunkPortMapsVLANsToVNIs() throws {
        let env = try RunningLab(tag: "t")
        defer { env.close() }
        let vm14 = try env.addVM("vm14", tap: "tap14", address: nil)
        defer { vm14.remove() }
        let add = try env.vxsw(["port", "add", "tap14", "--trunk", "100=1000"])
        XCTAssertTrue(add.succeeded, add.error)
        let capture = try vm14.spawn(["tcpdump", "-i", "eth0", "-Q", "in", "-c", "1", "-nn", "-e", "-l", "vlan 100 and arp"],
                                     logPath: env.workDir + "/tcpdump.log")
        defer { capture.stop(grace: 1) }
        _ = waitUntil(timeout: 3) { capture.log.contains("listening") }
        let mac: [UInt8] = [0x02, 0x14, 0, 0, 0, 0x14]
        var arp: [UInt8] = [UInt8](repeating: 0xFF, count: 6) + mac + [0x81, 0x00, 0x00, 100, 0x08, 0x06]
        arp += [0, 1, 8, 0, 6, 4, 0, 1] + mac + [198, 19, 10, 14] + [0, 0, 0, 0, 0, 0] + [198, 19, 10, 21]
        arp += [UInt8](repeating: 0, count: 18)
        try injectFrames([arp], from: vm14, interface: "eth0")
        XCTAssertTrue(waitUntil(timeout: 3) {
            (try? env.macs().contains { $0.mac == "02:14:00:00:00:14" && $0.port == "tap14" && $0.vni == 1000 }) == true
        }, "the tagged frame was learned in VNI 1000")
        XCTAssertTrue(waitUntil(timeout: 5) { capture.log.contains("Reply 198.19.10.21 is-at") },
                      "vm21's ARP reply came back tagged with VLAN 100 (tcpdump running: \(capture.isRunning), status \(String(describing: capture.exitStatus))):\n\(capture.log)")
    }

    /// Frames that would not fit the underlay MTU once encapsulated are dropped and counted.
    func testFramesTooBigForTheUnderlayAreCounted() throws {
        let env = try RunningLab(tag: "g")
        defer { env.close() }
        let vm11 = env.lab.vm("vm11").namespace
        try vm11.exec(["ip", "link", "set", "eth0", "mtu", "1600"])
        try env.lab.hv1.exec(["ip", "link", "set", "tap11", "mtu", "1600"])
        XCTAssertTrue(try env.scenario.ping(vm11, "198.19.10.21").0)
        let before = try env.stats().drops["too_big"] ?? 0
        // 1572 bytes of IP + 14 Ethernet + 50 of VXLAN/UDP/IPv4 exceeds the 1600-byte underlay.
        _ = try vm11.exec(["ping", "-c", "2", "-W", "1", "-M", "do", "-s", "1544", "198.19.10.21"], check: false)
        XCTAssertTrue(waitUntil(timeout: 3) { ((try? env.stats().drops["too_big"]) ?? 0) >= before + 2 })
        XCTAssertTrue(env.scenario.isSwitchRunning)
    }

    /// A crash (SIGKILL) leaves no XDP program behind: every attachment is a bpf_link.
    func testKilledSwitchLeavesNoXDPProgram() throws {
        let env = try RunningLab(tag: "k")
        defer { env.close() }
        XCTAssertTrue(try env.xdpAttached("ul0"))
        let pid = try XCTUnwrap(env.scenario.switchPID)
        kill(pid, SIGKILL)
        XCTAssertTrue(waitUntil(timeout: 5) { !env.scenario.isSwitchRunning })
        XCTAssertTrue(waitUntil(timeout: 5) {
            ["ul0", "tap11", "tap12"].allSatisfy { (try? env.xdpAttached($0)) == false }
        }, "XDP still attached after the switch was killed")
    }

    /// `datapath.workers: [0, 1]`: two worker threads, each pinned to its CPU, switch together.
    func testTwoWorkerThreadsPinnedToTheirCPUs() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.activeProcessorCount >= 2, "needs 2 CPUs")
        let env = try RunningLab(tag: "w", fastPath: "false", workers: "[0, 1]")
        defer { env.close() }
        let pid = try XCTUnwrap(env.scenario.switchPID)
        var pinned: [String: String] = [:]
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
            let name = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard name.hasPrefix("vxsw-worker") else { continue }
            let status = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)) ?? ""
            pinned[name] = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list") }?
                .split(separator: "\t").last.map(String.init)
        }
        XCTAssertEqual(pinned, ["vxsw-worker-0": "0", "vxsw-worker-1": "1"])
        for (from, to) in [("vm11", "vm21"), ("vm21", "vm11"), ("vm12", "vm22")] {
            XCTAssertTrue(try env.scenario.ping(env.lab.vm(from).namespace, env.lab.vm(to).address).0, "\(from) -> \(to)")
        }
        let tcp = try env.lab.vm("vm21").namespace.spawn(["iperf3", "-s", "-1", "-B", "198.19.10.21"], logPath: env.workDir + "/iperf.log")
        defer { tcp.stop(grace: 1) }
        _ = waitUntil(timeout: 3) { (try? env.lab.vm("vm21").namespace.exec(["ss", "-ltn", "sport = :5201"]).output.contains("5201")) == true }
        let r = try env.lab.vm("vm11").namespace.exec(["iperf3", "-c", "198.19.10.21", "-t", "2", "--connect-timeout", "3000"], check: false)
        XCTAssertTrue(r.succeeded, r.output + r.error)
        XCTAssertTrue(env.scenario.isSwitchRunning)
    }

    func testPrometheusMetrics() throws {
        let env = try RunningLab(tag: "m", metrics: "127.0.0.1:9469")
        defer { env.close() }
        XCTAssertTrue(try env.scenario.ping(env.lab.vm("vm11").namespace, "198.19.10.21").0)
        let page = try metricsPage(in: env.lab.hv1)
        XCTAssertTrue(page.contains("text/plain; version=0.0.4"), page)
        XCTAssertTrue(page.contains(#"vxsw_port_rx_packets_total{port="tap11",kind="access"}"#), page)
        XCTAssertTrue(page.contains(#"vxsw_vtep_resolved{vtep="198.18.0.2"} 1"#), page)
    }
}

func MACAddressBytes(_ text: String) -> [UInt8]? {
    let parts = text.split(separator: ":").compactMap { UInt8($0, radix: 16) }
    return parts.count == 6 ? parts : nil
}
