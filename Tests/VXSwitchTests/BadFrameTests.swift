import Foundation
import VXCore
import VXLabKit
import VXSwitch
import XCTest

/// Malformed frames from the underlay and from a VM are dropped and counted by reason; the
/// switch neither crashes nor stops forwarding good traffic.
final class BadFrameTests: XCTestCase {
    /// Ethernet + IPv4 + UDP(4789) to hv1's VTEP, followed by `payload` (VXLAN header and inner frame).
    /// The IPv4 header checksum is right unless `badChecksum` (a host verifies it before decapsulating).
    func vxlanFrame(dstMAC: [UInt8], dstIP: [UInt8] = [198, 18, 0, 1], ipTotalLength: Int? = nil,
                    badChecksum: Bool = false, payload: [UInt8]) -> [UInt8] {
        let udpLength = 8 + payload.count
        let total = ipTotalLength ?? (20 + udpLength)
        var f = dstMAC + [0x02, 0, 0, 0, 0, 0x99, 0x08, 0x00]
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 0, 0x40, 0, 64, 17, 0, 0]
        ip += [198, 18, 0, 2] + dstIP
        var sum: UInt32 = 0
        for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        let check = ~UInt16(sum) ^ (badChecksum ? 0x0101 : 0)
        ip[10] = UInt8(check >> 8); ip[11] = UInt8(check & 0xFF)
        f += ip
        f += [0xC0, 0x01, 0x12, 0xB5, UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0]
        return f + payload
    }

    func vxlanHeader(flags: UInt8 = 0x08, vni: UInt32) -> [UInt8] {
        [flags, 0, 0, 0, UInt8(vni >> 16), UInt8((vni >> 8) & 0xFF), UInt8(vni & 0xFF), 0]
    }

    let innerFrame: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0xBB, 0, 0, 0, 1, 0x88, 0xB5] + [UInt8](repeating: 0, count: 46)

    func testMalformedFramesAreDroppedAndCountedByReason() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
        let env = try RunningLab(tag: "x")
        defer { env.close() }
        let hv1MAC = try env.lab.hv1.exec(["cat", "/sys/class/net/ul0/address"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").compactMap { UInt8($0, radix: 16) }
        let before = try env.stats()

        let underlayFrames: [(String, [UInt8])] = [
            ("bad_vxlan_flags", vxlanFrame(dstMAC: hv1MAC, payload: vxlanHeader(flags: 0x00, vni: 1000) + innerFrame)),
            ("unknown_vni", vxlanFrame(dstMAC: hv1MAC, payload: vxlanHeader(vni: 4242) + innerFrame)),
            ("inner_runt", vxlanFrame(dstMAC: hv1MAC, payload: vxlanHeader(vni: 1000) + [1, 2, 3, 4, 5, 6])),
            ("truncated_header", vxlanFrame(dstMAC: hv1MAC, payload: [0x08, 0, 0])),
            // IPv4 total length beyond the bytes present: the header runs past the frame.
            ("truncated_header", vxlanFrame(dstMAC: hv1MAC, ipTotalLength: 1400, payload: vxlanHeader(vni: 1000) + innerFrame)),
            ("bad_ip_checksum", vxlanFrame(dstMAC: hv1MAC, badChecksum: true, payload: vxlanHeader(vni: 1000) + innerFrame)),
        ]
        try injectFrames(underlayFrames.map(\.1), from: env.lab.hv2, interface: "ul0")
        // VXLAN to another host's VTEP is not ours: the XDP program leaves it to the kernel.
        let passBefore = before.xdp["uplink_pass"] ?? 0
        try injectFrames([vxlanFrame(dstMAC: hv1MAC, dstIP: [198, 18, 0, 77], payload: vxlanHeader(vni: 1000) + innerFrame)],
                         from: env.lab.hv2, interface: "ul0")
        // From a VM: a multicast source MAC.
        var badSource = innerFrame
        badSource.replaceSubrange(6..<12, with: [0x01, 0x00, 0x5E, 0, 0, 1])
        try injectFrames([badSource], from: env.lab.vm("vm11").namespace, interface: "eth0")

        var after = before
        var expected: [String: UInt64] = ["bad_source_mac": 1]
        for (reason, _) in underlayFrames { expected[reason, default: 0] += 1 }
        let counted = waitUntil(timeout: 5) {
            guard let s = try? env.stats() else { return false }
            after = s
            return expected.allSatisfy { reason, n in (s.drops[reason] ?? 0) - (before.drops[reason] ?? 0) == n }
        }
        XCTAssertTrue(counted, "drops by reason before \(before.drops) after \(after.drops)")
        XCTAssertGreaterThan(after.xdp["uplink_pass"] ?? 0, passBefore, "VXLAN for another VTEP passed to the kernel")
        XCTAssertTrue(env.scenario.isSwitchRunning, env.scenario.switchLog)
        // Every AF_XDP socket reports the kernel's own drops (XDP_STATISTICS), so none are invisible.
        XCTAssertFalse(after.sockets.isEmpty)
        XCTAssertTrue(after.sockets.allSatisfy { $0.kernelDrops != nil }, "\(after.sockets)")
        // A static entry must be a unicast MAC.
        for mac in ["ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01", "00:00:00:00:00:00"] {
            let r = try env.vxsw(["fdb", "add", mac, "--vni", "1000", "--port", "tap11"])
            XCTAssertFalse(r.succeeded, mac)
            XCTAssertTrue(r.error.contains("not a unicast address"), r.error)
        }
        XCTAssertTrue(try env.scenario.ping(env.lab.vm("vm11").namespace, "198.19.10.21").0, "still forwarding")
    }

    /// Issue 10 over an IPv6 underlay: VXLAN behind a Hop-by-Hop header reaches the VM (it used to
    /// go to the kernel, which answered ICMPv6 port unreachable); a wrong outer UDP checksum is
    /// counted (`bad_udp_checksum`, on the uplink); a Routing header is left to the kernel.
    func testIPv6ExtensionHeadersAndUDPChecksums() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
        let env = try RunningLab(underlay: .ipv6, tag: "6")
        defer { env.close() }
        let vm11 = env.lab.vm("vm11")
        let hv1MAC = try XCTUnwrap(MACAddress(env.lab.hv1.exec(["cat", "/sys/class/net/ul0/address"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        /// A frame from a new MAC behind hv2 to vm11, VXLAN over IPv6 with the UDP checksum computed.
        func toVM11(from last: UInt8) throws -> [UInt8] {
            let inner = try XCTUnwrap(MACAddress(vm11.mac)).bytes + [0x02, 0xBB, 0, 0, 0x66, last, 0x88, 0xB5]
                + [UInt8](repeating: 0x5A, count: 46)
            let hv2 = IPAddress("fd00:18::2")!, hv1 = IPAddress("fd00:18::1")!
            var u = UnderlayConfig(uplink: PortID(0), uplinkMAC: MACAddress(0x02, 0, 0, 0, 0, 0x99), localV6: hv2)
            u.udp6ZeroChecksum = false
            let overhead = Encap.overhead(toward: hv1)
            var frame = [UInt8](repeating: 0, count: overhead) + inner
            frame.withUnsafeMutableBytes { b in
                Encap.writeHeaders(before: b.baseAddress! + overhead, innerLength: inner.count, vni: VNI(1000)!,
                                   local: hv2, remote: hv1, nextHop: hv1MAC, sourcePort: 50000, underlay: u)
            }
            return frame
        }
        let before = try env.stats()
        let capture = env.workDir + "/tcpdump-vm11.txt"
        let tcpdump = try vm11.namespace.spawn(["tcpdump", "-i", "eth0", "-n", "-e", "-l", "-c", "1", "-p",
                                                "ether src 02:bb:00:00:66:01"], logPath: capture)
        defer { _ = tcpdump.stop(grace: 1) }
        XCTAssertTrue(waitUntil(timeout: 5) { tcpdump.log.contains("listening on") }, tcpdump.log)
        try injectFrames([insertingIPv6Extensions(try toVM11(from: 1), [.hopByHop])], from: env.lab.hv2, interface: "ul0")
        XCTAssertTrue(waitUntil(timeout: 5) { !tcpdump.isRunning }, "delivered to vm11: \(tcpdump.log)")
        XCTAssertTrue(tcpdump.log.contains("02:bb:00:00:66:01"), tcpdump.log)

        var wrong = try toVM11(from: 2)
        wrong[60] ^= 0x01
        try injectFrames([wrong, insertingIPv6Extensions(try toVM11(from: 3), [.routing])], from: env.lab.hv2, interface: "ul0")
        var after = before
        XCTAssertTrue(waitUntil(timeout: 5) {
            guard let s = try? env.stats() else { return false }
            after = s
            return (s.drops["bad_udp_checksum"] ?? 0) - (before.drops["bad_udp_checksum"] ?? 0) == 1
        }, "bad_udp_checksum before \(before.drops) after \(after.drops)")
        let uplinkDrops = after.ports.first { $0.kind == "uplink" }?.drops["bad_udp_checksum"]
        XCTAssertEqual(uplinkDrops, (before.ports.first { $0.kind == "uplink" }?.drops["bad_udp_checksum"] ?? 0) + 1)
        XCTAssertGreaterThan(after.xdp["uplink_pass"] ?? 0, before.xdp["uplink_pass"] ?? 0, "the Routing header: the kernel's")
        XCTAssertTrue(env.scenario.isSwitchRunning, env.scenario.switchLog)
    }

    func testBadConfigNamesTheFieldAndExitsNonZero() throws {
        let path = NSTemporaryDirectory() + "vxsw-bad-\(labTag).yaml"
        try "vtep:\n  ipv4: 198.18.0.1\nvnis:\n  - vni: 16777216\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try VXLabKit.run([try vxswBinary(), "run", "--config", path, "--check"], check: false)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.error.contains("vnis[0].vni"), r.error)
    }
}
