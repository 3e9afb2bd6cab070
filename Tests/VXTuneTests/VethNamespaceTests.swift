// For real, as root: a namespace and a veth pair this test creates and removes.
// Only interfaces and sysctls inside that namespace are touched.

import Foundation
import XCTest
@testable import VXTune

final class VethNamespaceTests: XCTestCase {
    let ns = "vxtune-\(getpid())"

    func inNS(_ args: String...) throws {
        XCTAssertEqual(try sh(["ip", "netns", "exec", ns] + args), 0, args.joined(separator: " "))
    }

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root: creates a network namespace and veth pair") }
        guard try sh(["ip", "netns", "add", ns]) == 0 else { throw XCTSkip("cannot create network namespaces here") }
        addTeardownBlock { [ns] in _ = try? sh(["ip", "netns", "del", ns]) }
        try XCTSkipUnless(try sh(["ip", "-n", ns, "link", "add", "name", "vxa", "type", "veth", "peer", "name", "vxb"]) == 0,
                          "no veth support")
        try inNS("ip", "link", "set", "vxa", "up")
        try inNS("ip", "link", "set", "vxb", "up")
    }

    func testInspectionReadsWhatEthtoolSet() throws {
        try inNS("ethtool", "-K", "vxa", "gro", "on", "tx-udp_tnl-segmentation", "off")
        try inNS("ethtool", "-L", "vxa", "rx", "2", "tx", "2")
        try inNS("ip", "link", "set", "vxa", "mtu", "1600")
        try inNS("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1")
        let options = TuneOptions(uplink: "vxa", ports: ["vxb"], mode: .kernel)
        let r = try NetworkNamespace.run(ns) { TuneReport.make(host: $0, options: options) }
        let a = r.inspection.interfaces[0]
        XCTAssertEqual(a.driverName, "veth")
        XCTAssertEqual(a.mtu.value, 1600)
        XCTAssertEqual(a.features.value?["rx-gro"]?.active, true)
        XCTAssertEqual(a.features.value?["tx-udp_tnl-segmentation"]?.active, false)
        XCTAssertEqual(a.channels.value?.rx, 2)
        XCTAssertEqual(a.channels.value?.tx, 2)
        XCTAssertEqual(a.rings.error, .unsupported("ETHTOOL_GRINGPARAM on vxa"))
        XCTAssertTrue(r.findings.contains { $0.id == "rings.unknown" && $0.cannotTell })
        XCTAssertTrue(r.findings.contains { $0.id == "rpfilter.strict" })
        XCTAssertTrue(r.findings.contains { $0.id == "offload.udp-tnl-tso.off" && $0.subject == "vxa" })
    }

    func testApplyChangesOnlyWhatItSaysAndRevertRestores() throws {
        try inNS("ethtool", "-K", "vxa", "gro", "off", "tx-udp_tnl-segmentation", "off")
        try inNS("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1")
        let options = TuneOptions(uplink: "vxa", mode: .kernel)
        try NetworkNamespace.run(ns) { host in
            let before = Inspector(host: host).inspect(options)
            // net.core.* sysctls are global (read-only inside a netns): leave them out.
            let changes = Applier<LiveHost>.changes(of: Rules.evaluate(before)).filter {
                if case .sysctl(let name, _) = $0 { return name.hasPrefix("net.ipv4.conf.") }
                return true
            }
            XCTAssertTrue(changes.contains(.features(interface: "vxa", ["rx-gro": true])), "\(changes)")
            let applied = Applier(host: host).apply(changes)
            XCTAssertEqual(applied.compactMap(\.error), [])
            let after = Inspector(host: host).inspect(options)
            XCTAssertEqual(after.interfaces[0].features.value?["rx-gro"]?.active, true)
            XCTAssertEqual(after.interfaces[0].rpFilter.value, 2)
            // Untouched: what no change named.
            XCTAssertEqual(after.interfaces[0].mtu, before.interfaces[0].mtu)
            XCTAssertEqual(after.interfaces[0].channels.value?.rx, 2)  // channels.too-few asked for the max
            XCTAssertEqual(after.interfaces[0].features.value?["tx-udp_tnl-segmentation"]?.active, true)
            XCTAssertEqual(after.interfaces[0].features.value?["rx-checksum"], before.interfaces[0].features.value?["rx-checksum"])
            // Revert restores the inspected state.
            let reverted = Applier(host: host).apply(applied.reversed().compactMap(\.revert))
            XCTAssertEqual(reverted.compactMap(\.error), [])
            XCTAssertEqual(Inspector(host: host).inspect(options), before)
        }
    }
}
