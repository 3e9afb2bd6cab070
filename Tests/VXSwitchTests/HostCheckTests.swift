import Foundation
@testable import VXConfig
import VXCore
import VXLabKit
import XCTest

@testable import VXSwitch

/// The host checks of `vxsw run` on fake hosts (no root), and `vxsw run --check` for real in a
/// network namespace this test creates.
final class HostCheckTests: XCTestCase {
    private let yaml = """
        vtep: { ipv4: 198.18.0.1 }
        uplink: { interface: ul0 }
        vnis: [{ vni: 1000 }]
        ports:
          - { name: tap1, vni: 1000 }
          - { name: tap2, vni: 1000 }
        datapath: { workers: [1] }

        """

    /// A host where `yaml` is right: ul0 (MTU 1550), the VTEP on it, tap1 (1500), CPUs 0-1.
    private let good = HostFacts(
        interfaces: ["lo": 65536, "ul0": 1550, "tap1": 1500], addresses: [IPAddress("198.18.0.1")!],
        onlineCPUs: [0, 1], allowedCPUs: [0, 1])

    private func report(_ host: HostFacts) throws -> HostCheckReport { try report(yaml, host) }

    private func report(_ yaml: String, _ host: HostFacts) throws -> HostCheckReport {
        try SwitchConfig.parse(yaml: yaml).checkHost(host)
    }

    func testGoodHostHasOnlyTheNoteAboutAMissingPort() throws {
        let r = try report(good)
        XCTAssertEqual(r.errors, [])
        XCTAssertEqual(r.warnings, [])
        XCTAssertEqual(r.notes.map(\.description), ["ports[1].name: tap2 does not exist yet; vxsw attaches it when it appears (its MTU is not checked)"])
    }

    func testMissingUplinkIsAnError() throws {
        var host = good
        host.interfaces["ul0"] = nil
        XCTAssertEqual(try report(host).errors.map(\.description), ["uplink.interface: ul0 does not exist in this network namespace"])
    }

    func testVTEPAddressNotOnTheHostIsAnError() throws {
        var host = good
        host.addresses = [IPAddress("198.18.0.9")!]
        XCTAssertEqual(
            try report(host).errors.map(\.description),
            ["vtep.ipv4: 198.18.0.1 is not configured on any interface of this host (ip addr add 198.18.0.1/32 dev lo, or fix the field)"])
        let v6 = try report("vtep: { ipv6: \"fd00:18::1\" }\n", good)
        XCTAssertEqual(
            v6.errors.map(\.description),
            ["vtep.ipv6: fd00:18::1 is not configured on any interface of this host (ip addr add fd00:18::1/128 dev lo, or fix the field)"])
    }

    func testWorkerCPUsMustExistAndBeAllowed() throws {
        let two = try report(yaml.replacingOccurrences(of: "workers: [1]", with: "workers: [0, 7]"), good)
        XCTAssertEqual(two.errors.map(\.description), ["datapath.workers[1]: CPU 7 does not exist (this host has CPUs 0-1)"])
        var pinned = good
        pinned.allowedCPUs = [0]
        let r = try report(pinned)
        XCTAssertEqual(r.errors.count, 1)
        XCTAssertTrue(
            r.errors[0].description.hasPrefix("datapath.workers[0]: CPU 1 is not in this process's CPU affinity (allowed: 0;"),
            r.errors[0].description)
        // Unreadable CPU facts check nothing rather than guess.
        var unknown = good
        unknown.onlineCPUs = nil
        unknown.allowedCPUs = nil
        XCTAssertEqual(try report(unknown).errors, [])
    }

    func testMoreWorkersThanUplinkQueuesIsAWarningNamingTheFix() throws {
        var host = good
        host.rxQueues = ["ul0": 1]
        let two = yaml.replacingOccurrences(of: "workers: [1]", with: "workers: [0, 1]")
        let r = try report(two, host)
        XCTAssertEqual(r.errors, [])
        XCTAssertEqual(r.warnings.map(\.path), ["datapath.workers"])
        XCTAssertTrue(r.warnings.first?.problem.contains("ethtool -L ul0 combined 2") == true, "\(r.warnings)")
        host.rxQueues = ["ul0": 2]
        XCTAssertEqual(try report(two, host).warnings, [], "a queue per worker")
        XCTAssertEqual(try report(host).warnings, [], "one worker needs no more")
    }

    func testMTUChainIsAWarningWithAutoAndAnErrorWhenSetTooSmall() throws {
        var host = good
        host.interfaces["ul0"] = 1500
        let auto = try report(host)
        XCTAssertEqual(auto.errors, [])
        XCTAssertEqual(
            auto.warnings.map(\.description),
            ["uplink.mtu: ul0 has MTU 1500 but port tap1 (ports[0]) has MTU 1500, which needs 1550 with an IPv4 underlay (+50); "
                + "its frames over 1450 bytes are dropped (ip link set ul0 mtu 1550, or lower the port's MTU)"])
        let fixed = try report(yaml.replacingOccurrences(of: "{ interface: ul0 }", with: "{ interface: ul0, mtu: 1549 }"), good)
        XCTAssertEqual(
            fixed.errors.map(\.description),
            ["uplink.mtu: 1549 is too small: port tap1 (ports[0]) has MTU 1500, which needs 1550 with an IPv4 underlay (+50)"])
        // An IPv6 VTEP counts 70 bytes of outer headers.
        var v6 = good
        v6.addresses.insert(IPAddress("fd00:18::1")!)
        v6.interfaces["ul0"] = 1550
        let both = try report(yaml.replacingOccurrences(of: "{ ipv4: 198.18.0.1 }", with: "{ ipv4: 198.18.0.1, ipv6: \"fd00:18::1\" }"), v6)
        XCTAssertEqual(both.warnings.count, 1)
        XCTAssertTrue(both.warnings[0].description.contains("needs 1570 with an IPv6 underlay (+70)"), both.warnings[0].description)
    }

    func testReportLinesSayWhatEachIs() throws {
        var host = good
        host.interfaces["ul0"] = nil
        XCTAssertEqual(try report(host).lines.map { String($0.prefix(while: { $0 != ":" })) }, ["error", "note"])
    }

    func testLiveHostSeesLoopback() {
        let host = HostFacts.live()
        XCTAssertNotNil(host.interfaces["lo"])
        XCTAssertTrue(host.addresses.contains(IPAddress("127.0.0.1")!), "\(host.addresses)")
        XCTAssertFalse(host.onlineCPUs?.isEmpty ?? true)
        XCTAssertFalse(host.allowedCPUs?.isEmpty ?? true)
    }

    /// The real binary's `--check` in a namespace: a missing uplink, a VTEP address not on the
    /// host, then a good config (with the MTU warning and a not-yet-existing port's note).
    func testCheckInANamespace() throws {
        try XCTSkipUnless(isRoot, "needs root: creates a network namespace")
        let binary = try vxswBinary()
        let ns = try NetworkNamespace("vxhc-\(labTag)")
        defer { ns.remove() }
        let path = NSTemporaryDirectory() + "vxsw-hostcheck-\(labTag).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        func check(_ text: String) throws -> CommandResult {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return try ns.exec([binary, "run", "--check", "--config", path], check: false)
        }
        let config = """
            vtep: { ipv4: 198.18.0.1 }
            uplink: { interface: ul0 }
            vnis: [{ vni: 1000 }]
            ports: [{ name: tap1, vni: 1000 }, { name: tap2, vni: 1000 }]

            """
        try addVeth("tap1", in: ns, "tap1p", in: ns)
        let missing = try check(config)
        XCTAssertFalse(missing.succeeded)
        XCTAssertTrue(missing.error.contains("uplink.interface: ul0 does not exist in this network namespace"), missing.error)
        XCTAssertTrue(missing.error.contains("vtep.ipv4: 198.18.0.1 is not configured on any interface"), missing.error)

        try addVeth("ul0", in: ns, "ul0p", in: ns)
        let notLocal = try check(config)
        XCTAssertFalse(notLocal.succeeded)
        XCTAssertFalse(notLocal.error.contains("uplink.interface"), notLocal.error)
        XCTAssertTrue(notLocal.error.contains("vtep.ipv4: 198.18.0.1 is not configured on any interface"), notLocal.error)

        try ns.exec(["ip", "addr", "add", "198.18.0.1/24", "dev", "ul0"])
        let good = try check(config)
        XCTAssertTrue(good.succeeded, good.error)
        XCTAssertTrue(good.output.contains("configuration is valid (with warnings)"), good.output)
        XCTAssertTrue(good.error.contains("warning: uplink.mtu: ul0 has MTU 1500 but port tap1 (ports[0]) has MTU 1500"), good.error)
        XCTAssertTrue(good.error.contains("note: ports[1].name: tap2 does not exist yet"), good.error)

        try ns.exec(["ip", "link", "set", "ul0", "mtu", "1550"])
        let clean = try check(config)
        XCTAssertTrue(clean.succeeded, clean.error)
        XCTAssertFalse(clean.error.contains("warning"), clean.error)
    }
}
