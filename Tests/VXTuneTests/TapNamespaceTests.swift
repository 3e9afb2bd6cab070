// For real, as root: a tap in a namespace this test creates and removes (the
// tap goes with it). Checks what the inspector reads on a tap and that every
// command it recommends for the tap is one the tun driver accepts.

import Foundation
import XCTest
@testable import VXTune

final class TapNamespaceTests: XCTestCase {
    let ns = "vxtune-tap-\(getpid())"
    let tap = "vxtt0"

    func inNS(_ args: [String]) throws -> Int32 { try sh(["ip", "netns", "exec", ns] + args) }

    override func setUpWithError() throws {
        try XCTSkipUnless(getuid() == 0, "needs root: creates a network namespace with a tap in it")
        guard try sh(["ip", "netns", "add", ns]) == 0 else { throw XCTSkip("cannot create network namespaces here") }
        addTeardownBlock { [ns] in _ = try? sh(["ip", "netns", "del", ns]) }
        try XCTSkipUnless(try sh(["ip", "-n", ns, "tuntap", "add", "dev", tap, "mode", "tap"]) == 0, "no tun/tap support (/dev/net/tun)")
        XCTAssertEqual(try sh(["ip", "-n", ns, "link", "set", tap, "mtu", "9000", "up"]), 0)
    }

    func testRecommendedCommandsAreAcceptedByTun() throws {
        let options = TuneOptions(ports: [tap], mode: .afxdp, workers: [0], overlayMTU: 1500)
        let r = try NetworkNamespace.run(ns) { TuneReport.make(host: $0, options: options) }
        let t = try XCTUnwrap(r.inspection.interfaces.first)
        XCTAssertEqual(t.driverName, "tun")
        XCTAssertEqual(t.driver.value?.bus, "tap")
        XCTAssertEqual(t.xdpAttached.value, XDPAttachment.none, "netlink IFLA_XDP: \(t.xdpAttached)")
        let mine = r.findings.filter { $0.subject == tap }
        let ids = mine.map(\.id)
        for id in ["driver.tun", "tap.offloads.no-tso", "tap.io.ok", "mtu.port-above-overlay"] {
            XCTAssertTrue(ids.contains(id), "\(id) not in \(ids)")
        }
        XCTAssertFalse(ids.contains { ["rings.", "channels.", "coalesce.", "offload."].contains(where: $0.hasPrefix) }, "\(ids)")
        let ipv6On = t.ipv6Disabled.value == 0
        XCTAssertEqual(ids.contains("tap.ipv6"), ipv6On)

        // Every command for the tap, typed in the namespace, succeeds (advice with a comment is run without it).
        var tried = 0
        for f in mine {
            for cmd in f.fixNow where cmd.hasPrefix("ip ") || cmd.hasPrefix("sysctl ") || cmd.hasPrefix("ethtool ") {
                let line = String(cmd.split(separator: "#", maxSplits: 1)[0]).trimmingWhitespace
                XCTAssertEqual(try inNS(["sh", "-c", line]), 0, "\(f.id): `\(line)` refused")
                tried += 1
            }
        }
        XCTAssertGreaterThanOrEqual(tried, ipv6On ? 2 : 1)

        // --apply's changes for the tap go through, and the revert restores them.
        XCTAssertEqual(try inNS(["sysctl", "-qw", "net.ipv6.conf.\(tap).disable_ipv6=0"]), 0)
        try NetworkNamespace.run(ns) { host in
            let before = Inspector(host: host).inspect(options)
            let changes = Applier<LiveHost>.changes(of: Rules.evaluate(before).filter { $0.subject == self.tap })
            XCTAssertEqual(changes, [.sysctl(name: "net.ipv6.conf.\(self.tap).disable_ipv6", value: "1")])
            let applied = Applier(host: host).apply(changes)
            XCTAssertEqual(applied.compactMap(\.error), [])
            let after = Inspector(host: host).inspect(options)
            XCTAssertEqual(after.interfaces[0].ipv6Disabled.value, 1)
            XCTAssertFalse(Rules.evaluate(after).contains { $0.id == "tap.ipv6" })
            XCTAssertEqual(Applier(host: host).apply(applied.reversed().compactMap(\.revert)).compactMap(\.error), [])
            XCTAssertEqual(Inspector(host: host).inspect(options).interfaces[0].ipv6Disabled.value, 0)
        }
    }

    /// An XDP program on a tap (built with clang -target bpf, attached generic) is read
    /// through netlink, flagged, and the command to remove it works.
    func testXDPProgramOnATapIsFlaggedAndRemovable() throws {
        let clang = ["/opt/swift/usr/bin/clang", "/usr/bin/clang"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vxtune-xdp-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = dir.appendingPathComponent("pass.c"), obj = dir.appendingPathComponent("pass.o")
        try "__attribute__((section(\"xdp\"), used)) int pass(void *ctx) { return 2; /* XDP_PASS */ }\nchar _license[] __attribute__((section(\"license\"), used)) = \"GPL\";\n"
            .write(to: src, atomically: true, encoding: .utf8)
        try XCTSkipUnless(clang != nil && (try sh([clang!, "-O2", "-target", "bpf", "-c", src.path, "-o", obj.path])) == 0,
                          "no clang that builds BPF objects")
        XCTAssertEqual(try sh(["ip", "-n", ns, "link", "set", "dev", tap, "xdpgeneric", "obj", obj.path, "sec", "xdp"]), 0)

        let options = TuneOptions(ports: [tap], mode: .afxdp, workers: [0], portIO: [tap: .auto])
        let r = try NetworkNamespace.run(ns) { TuneReport.make(host: $0, options: options) }
        XCTAssertEqual(r.inspection.interfaces[0].xdpAttached.value, .generic)
        let f = try XCTUnwrap(r.findings.first { $0.id == "tap.xdp-attached" }, "\(r.findings.map(\.id))")
        XCTAssertEqual(f.severity, .warn)
        let line = String(try XCTUnwrap(f.fixNow.first).split(separator: "#")[0]).trimmingWhitespace
        XCTAssertEqual(line, "ip link set dev \(tap) xdpgeneric off")
        XCTAssertEqual(try inNS(["sh", "-c", line]), 0)
        let after = try NetworkNamespace.run(ns) { Inspector(host: $0).inspect(options) }
        XCTAssertEqual(after.interfaces[0].xdpAttached.value, XDPAttachment.none)
    }
}
