import CVXSW
import VXCore
import VXDatapath
import VXLabKit
import XCTest

/// The XDP program run with BPF_PROG_RUN on crafted frames. With no socket in the XSK map,
/// redirects fall back (uplink: XDP_PASS, access: XDP_DROP), so the program's own counters
/// tell which branch each frame took.
final class XDPProgramTests: XCTestCase {
    var program: XDPProgram!
    let loopback: Int32 = 1 // BPF_PROG_RUN wants an existing ingress interface

    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: loads a BPF program (BPF_PROG_RUN)")
        program = try XDPProgram()
        try program.setConfig(vtep4: IPAddress("198.18.0.1"), vtep6: IPAddress("fd00:18::1"), udpPort: 4789)
        try program.setPort(ifindex: loopback, slot: 3, role: .uplink)
    }

    /// Runs one frame; returns the verdict and which counter moved.
    func verdict(_ frame: [UInt8]) throws -> (Int32, String) {
        let before = program.statistics()
        var out = [UInt8](repeating: 0, count: 2048)
        var outLen = UInt32(out.count)
        let rc = cvxsw_xdp_test_run(program.programFD, frame, UInt32(frame.count), &out, &outLen, UInt32(loopback), 0, 1)
        XCTAssertGreaterThanOrEqual(rc, 0, "BPF_PROG_RUN failed: \(rc)")
        let after = program.statistics()
        let moved: String = after.keys.first { key in after[key]! - (before[key] ?? 0) == 1 } ?? "none"
        return (rc, moved)
    }

    // Minimal crafted frames: Ethernet + IPv4/IPv6 + UDP (+ VXLAN header).
    func ipv4UDP(dst: String, port: UInt16, fragment: Bool = false) -> [UInt8] {
        var f: [UInt8] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]
        f += [0x45, 0, 0, 36, 0, 0, fragment ? 0x20 : 0x40, 0, 64, 17, 0, 0]
        f += IPAddress("198.18.0.2")!.bytes + IPAddress(dst)!.bytes
        f += [0xC0, 0x00, UInt8(port >> 8), UInt8(port & 0xFF), 0, 16, 0, 0]
        f += [0x08, 0, 0, 0, 0, 0x03, 0xE8, 0]
        return f
    }

    func ipv6UDP(dst: String, port: UInt16) -> [UInt8] {
        var f: [UInt8] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xDD]
        f += [0x60, 0, 0, 0, 0, 16, 17, 64]
        f += IPAddress("fd00:18::2")!.bytes + IPAddress(dst)!.bytes
        f += [0xC0, 0x00, UInt8(port >> 8), UInt8(port & 0xFF), 0, 16, 0, 0]
        f += [0x08, 0, 0, 0, 0, 0x03, 0xE8, 0]
        return f
    }

    func testVXLANToOurVTEPGoesToTheSwitch() throws {
        XCTAssertEqual(try verdict(ipv4UDP(dst: "198.18.0.1", port: 4789)).1, "vxlan_to_switch")
        XCTAssertEqual(try verdict(ipv6UDP(dst: "fd00:18::1", port: 4789)).1, "vxlan_to_switch")
    }

    func testEverythingElseOnTheUplinkPassesToTheKernel() throws {
        let pass = Int32(XDP_PASS.rawValue)
        for frame in [
            ipv4UDP(dst: "198.18.0.9", port: 4789),          // another host's VTEP
            ipv4UDP(dst: "198.18.0.1", port: 179),            // not VXLAN (e.g. BGP-ish)
            ipv4UDP(dst: "198.18.0.1", port: 4789, fragment: true),
            ipv6UDP(dst: "fd00:18::9", port: 4789),
            ipv6UDP(dst: "fd00:18::1", port: 8472),
            Array(ipv4UDP(dst: "198.18.0.1", port: 4789)[0..<30]), // truncated IPv4
            [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x06] + [UInt8](repeating: 0, count: 28), // ARP
        ] {
            let (rc, counter) = try verdict(frame)
            XCTAssertEqual(rc, pass)
            XCTAssertEqual(counter, "uplink_pass")
        }
    }

    /// RFC 8200 §4, RFC 6946: Hop-by-Hop, Destination Options and atomic fragments in front of
    /// the UDP header are VXLAN for us; any other chain, or one that leaves the frame, is the kernel's.
    func testIPv6ExtensionHeadersAreWalked() throws {
        let plain = ipv6UDP(dst: "fd00:18::1", port: 4789)
        for chain: [IPv6ExtensionHeader] in [
            [.hopByHop], [.destinationOptions], [.fragment()], [.options(60, units: 8)],
            [.hopByHop, .destinationOptions, .fragment(), .destinationOptions],
        ] {
            XCTAssertEqual(try verdict(insertingIPv6Extensions(plain, chain)).1, "vxlan_to_switch", "\(chain.map(\.type))")
        }
        var longLast = insertingIPv6Extensions(plain, [.hopByHop])
        longLast[55] = 255 // its length runs past the frame
        var cut = [Array(insertingIPv6Extensions(plain, [.hopByHop])[..<58])]
        cut += (55..<62).map { Array(insertingIPv6Extensions(plain, [.destinationOptions])[..<$0]) }
        for frame in [
            insertingIPv6Extensions(plain, [.routing]),
            insertingIPv6Extensions(plain, [.fragment(more: true)]),
            insertingIPv6Extensions(plain, [.fragment(offset: 1)]),
            insertingIPv6Extensions(plain, [.destinationOptions, .hopByHop]),
            insertingIPv6Extensions(plain, [.fragment(), .fragment()]),
            insertingIPv6Extensions(plain, Array(repeating: .destinationOptions, count: 5)),
            insertingIPv6Extensions(ipv6UDP(dst: "fd00:18::9", port: 4789), [.hopByHop]),
            insertingIPv6Extensions(ipv6UDP(dst: "fd00:18::1", port: 179), [.hopByHop]),
            longLast,
        ] + cut {
            let (rc, counter) = try verdict(frame)
            XCTAssertEqual(rc, Int32(XDP_PASS.rawValue))
            XCTAssertEqual(counter, "uplink_pass", "\(frame.count) bytes, next header \(frame[20])")
        }
    }

    func testAccessPortsSendEverythingToTheSwitchAndNothingToTheHost() throws {
        try program.setPort(ifindex: loopback, slot: 3, role: .access)
        let (rc, counter) = try verdict(ipv4UDP(dst: "198.18.0.9", port: 80))
        XCTAssertEqual(counter, "access_to_switch")
        XCTAssertEqual(rc, Int32(XDP_DROP.rawValue), "no socket yet: dropped, never leaked to the host")
    }

    func testUnknownInterfacesPass() throws {
        program.removePort(ifindex: loopback)
        let (rc, counter) = try verdict(ipv4UDP(dst: "198.18.0.1", port: 4789))
        XCTAssertEqual(rc, Int32(XDP_PASS.rawValue))
        XCTAssertEqual(counter, "unknown_port_pass")
    }
}
