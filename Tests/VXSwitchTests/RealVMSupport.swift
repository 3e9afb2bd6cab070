import Foundation
import VXLabKit
import XCTest

/// Two hypervisor namespaces joined by an underlay veth, for tests with real qemu guests.
///
///     [guest1]          hv1                       hv2          [guest2]
///     eth0 ── tap ── (caller's choice) ── ul0 ══ ul0 ── br0 + vx1000 ── tap ── eth0
///
/// The rig boots guests on taps it leaves unattached; a test plugs each tap into a Linux
/// bridge (`addBridgeVXLAN` + `attach`) or into whatever it tests instead.
/// `teardown()` (idempotent; call it in a `defer`) stops the guests by PID and then
/// deletes the namespaces with everything in them.
final class RealVMRig {
    static let vni = 1000
    static let underlayMTU = 1600
    let hv1: NetworkNamespace
    let hv2: NetworkNamespace
    let hv1Underlay = "198.18.77.1"
    let hv2Underlay = "198.18.77.2"
    private(set) var guests: [QemuGuest] = []

    /// Skips (never silently passes) when this host cannot run real guests.
    static func skipUnlessAvailable() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and taps for qemu guests")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/net/tun"), "needs /dev/net/tun for the guests' taps")
        let qemu = try run(["sh", "-c", "command -v qemu-system-x86_64"], check: false)
        try XCTSkipUnless(qemu.succeeded, "needs qemu-system-x86_64 (tools/install-deps installs qemu-system-x86)")
    }

    /// Namespaces `vxvm-<pid><tag>-hv1/hv2` (unique on this machine) and the underlay veth.
    init(tag: String) throws {
        let prefix = "vxvm-\(labTag)\(tag)"
        hv1 = try NetworkNamespace("\(prefix)-hv1")
        do {
            hv2 = try NetworkNamespace("\(prefix)-hv2")
        } catch { hv1.remove(); throw error }
        do {
            try addVeth("ul0", in: hv1, "ul0", in: hv2, mtu: Self.underlayMTU)
            for (ns, address) in [(hv1, hv1Underlay), (hv2, hv2Underlay)] {
                try ns.exec(["ip", "addr", "add", "\(address)/24", "dev", "ul0"])
                try ns.exec(["ethtool", "-K", "ul0", "gro", "on"])
            }
        } catch { teardown(); throw error }
    }

    /// A Linux bridge `br0` with a kernel vxlan `vx1000` flooding to `remote` (hv2's way).
    func addBridgeVXLAN(in ns: NetworkNamespace, local: String, remote: String) throws {
        try ns.exec(["ip", "link", "add", "br0", "type", "bridge"])
        try ns.exec(["ip", "link", "add", "vx\(Self.vni)", "type", "vxlan", "id", String(Self.vni),
                     "local", local, "dstport", "4789", "dev", "ul0"])
        try ns.exec(["ip", "link", "set", "vx\(Self.vni)", "master", "br0", "up"])
        try ns.exec(["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vx\(Self.vni)", "dst", remote])
        try ns.exec(["ip", "link", "set", "br0", "up"])
    }

    /// Boots a guest whose tap `tap` appears in `ns` unattached and down; returns once the tap
    /// exists (not once the guest has booted: call `waitUntilBooted` on it, so guests boot in parallel).
    func startGuest(_ name: String, in ns: NetworkNamespace, tap: String, mac: String, ipv4CIDR: String) throws -> QemuGuest {
        let guest = try QemuGuest(name: "\(labTag)-\(name)", namespace: ns, tap: tap, mac: mac, ipv4CIDR: ipv4CIDR)
        guests.append(guest)
        try guest.waitForTap()
        return guest
    }

    /// Plugs a guest's tap into a bridge in its namespace.
    func attach(_ guest: QemuGuest, toBridge bridge: String = "br0") throws {
        try guest.namespace.exec(["ip", "link", "set", guest.tap, "master", bridge, "up"])
    }

    func teardown() {
        for guest in guests { guest.stop() }
        guests.removeAll()
        hv1.remove()
        hv2.remove()
    }

    deinit { teardown() }
}

extension QemuGuest {
    /// Checks the guest offers TSO on eth0 (the default a real guest runs with).
    func assertTSOOn(file: StaticString = #filePath, line: UInt = #line) throws {
        let features = try run("ethtool -k eth0")
        XCTAssertTrue(features.contains("tcp-segmentation-offload: on"),
                      "guest \(name) runs without TSO:\n\(features)", file: file, line: line)
    }

    /// Pings `address` from the guest; passes when a reply comes (ARP and flooding settle first).
    func assertPings(_ address: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let reply = try run("ping -c 3 -W 2 \(address)", timeout: 30, check: false)
        XCTAssertNotNil(reply.range(of: #" [1-9][0-9]* packets received"#, options: .regularExpression),
                        "guest \(name) cannot ping \(address):\n\(reply)", file: file, line: line)
    }

    /// TCP for `seconds` from this guest to `server` (which runs `iperf3 -s`); returns bytes
    /// the receiver got and the rate it saw.
    func tcpThroughput(to server: QemuGuest, serverAddress: String, seconds: Int = 5) throws -> (bytes: Int, gbps: Double) {
        try server.run("iperf3 -s -D -1 -I /tmp/iperf3.pid; n=0; "
                       + "while ! netstat -ltn | grep -q ':5201 ' && [ $n -lt 50 ]; do sleep 0.2; n=$((n+1)); done")
        defer { _ = try? server.run("[ -f /tmp/iperf3.pid ] && kill $(cat /tmp/iperf3.pid); rm -f /tmp/iperf3.pid", check: false) }
        let json = try run("iperf3 -c \(serverAddress) -t \(seconds) -i 0 -J", timeout: Double(seconds) + 60)
        guard let data = json.data(using: .utf8),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let end = object["end"] as? [String: Any],
              let received = end["sum_received"] as? [String: Any],
              let bytes = received["bytes"] as? NSNumber,
              let bits = received["bits_per_second"] as? NSNumber else {
            throw LabKitError("iperf3 from \(name) gave no result:\n\(json.suffix(2000))")
        }
        return (bytes.intValue, bits.doubleValue / 1e9)
    }
}
