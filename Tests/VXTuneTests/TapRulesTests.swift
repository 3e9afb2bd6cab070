// Tap (driver "tun") ports on the tap-host fixture: nothing the tun driver
// refuses or ignores is recommended, and the tap findings fire when they should.
//   eth0   virtio_net uplink (native XDP attached: vxsw's own)
//   vnet0  tap, guest with csum/TSO, no XDP, IPv6 on with a link-local address, rp_filter 1
//   vnet1  tap, guest without offloads, generic XDP attached, IPv6 off, MTU 9000

import XCTest
@testable import VXTune

final class TapRulesTests: XCTestCase {
    let taps = ["vnet0", "vnet1"]

    func report(_ mode: Mode = .afxdp, portIO: [String: PortIOSetting] = [:]) throws -> TuneReport {
        TuneReport.make(host: try fixture("tap-host"),
                        options: TuneOptions(uplink: "eth0", ports: taps, mode: mode, workers: [1], portIO: portIO))
    }

    func on(_ r: TuneReport, _ tap: String) -> [Finding] { r.findings.filter { $0.subject == tap } }

    func finding(_ r: TuneReport, _ id: String, _ subject: String) throws -> Finding {
        try XCTUnwrap(r.findings.first { $0.id == id && $0.subject == subject },
                      "no \(id) on \(subject) in \(r.findings.map { "\($0.id)@\($0.subject)" })")
    }

    func testNothingTunRefusesOrIgnoresIsRecommended() throws {
        for mode in Mode.allCases {
            for portIO in [[:], ["vnet0": PortIOSetting.xdp, "vnet1": .auto]] {
                let r = try report(mode, portIO: portIO)
                XCTAssertEqual(r.inspection.interfaces.filter(\.isTun).map(\.name), taps)
                for f in r.findings {
                    for c in f.changes {
                        switch c {
                        case .rings(let i, _, _), .channels(let i, _), .coalesce(let i, _, _), .features(let i, _):
                            XCTAssertFalse(taps.contains(i), "\(mode): \(f.id) changes \(c.command) on a tap")
                        case .sysctl(let name, _):
                            // The only per-tap sysctl: IPv6 off. No rp_filter/forwarding per tap.
                            if taps.contains(where: { name.contains(".\($0).") }) {
                                XCTAssertTrue(name.hasPrefix("net.ipv6.conf.") && name.hasSuffix(".disable_ipv6"), "\(f.id): \(name)")
                            }
                        case .irqAffinity, .governor:
                            XCTAssertFalse(taps.contains(f.subject), "\(f.id) on \(f.subject)")
                        }
                    }
                    // Every command that names a tap is one tun accepts.
                    for cmd in f.fixNow where taps.contains(where: { cmd.contains($0) }) {
                        let accepted = ["sysctl -w net.ipv6.conf.vnet", "ip link set dev vnet0 mtu", "ip link set dev vnet1 mtu",
                                        "ip link set dev vnet1 xdpgeneric off", "set io: auto"]
                        XCTAssertTrue(accepted.contains { cmd.hasPrefix($0) }, "\(mode): \(f.id) recommends `\(cmd)`")
                        XCTAssertFalse(cmd.hasPrefix("ethtool -"), cmd)
                    }
                }
                for tap in taps {
                    let ids = on(r, tap).map(\.id)
                    for prefix in ["rings.", "channels.", "coalesce.", "offload.", "irq.", "numa.", "xdp.support", "rpfilter."] {
                        XCTAssertFalse(ids.contains { $0.hasPrefix(prefix) }, "\(mode) \(tap): \(ids)")
                    }
                    XCTAssertTrue(on(r, tap).contains { $0.id == "driver.tun" && $0.driverSpecific && $0.found.contains("(tap)") })
                }
            }
        }
    }

    func testTheUplinkStillGetsTheNICRules() throws {
        let r = try report()
        XCTAssertFalse(on(r, "eth0").contains { $0.id.hasPrefix("tap.") })
        XCTAssertTrue(on(r, "eth0").contains { $0.id == "rings.ok" })
        XCTAssertTrue(on(r, "eth0").contains { $0.id == "xdp.support" })
    }

    func testOffloadsAreReportedNotToggled() throws {
        let r = try report()
        let ok = try finding(r, "tap.offloads", "vnet0")
        XCTAssertTrue(ok.found.contains("tx-tcp-segmentation on"), ok.found)
        let noTSO = try finding(r, "tap.offloads.no-tso", "vnet1")
        XCTAssertEqual(noTSO.severity, .info)
        XCTAssertEqual(noTSO.changes, [])
        XCTAssertTrue(noTSO.why.contains("TUNSETOFFLOAD"))
        XCTAssertTrue(noTSO.fixNow.contains { $0.contains("guest_tso4") })
    }

    func testTapConfiguredIOXDP() throws {
        let r = try report(portIO: ["vnet0": .xdp])
        let f = try finding(r, "tap.io-xdp", "vnet0")
        XCTAssertEqual(f.severity, .warn)
        XCTAssertTrue(f.why.contains("super-frame"))
        XCTAssertEqual(f.fixNow, ["set io: auto (or packet) for port vnet0 in vxsw's config and restart vxsw"])
        XCTAssertEqual(f.persist.first?.snippet, "ports:\n  - name: vnet0\n    io: auto")
        XCTAssertEqual(f.changes, [])  // a config change: never applied by --apply
        // Kernel mode: vxsw does not read the taps; nothing to say about io.
        XCTAssertFalse(try report(.kernel, portIO: ["vnet0": .xdp]).findings.contains { $0.id.hasPrefix("tap.io") || $0.id == "tap.xdp-attached" })
    }

    func testTapWithAnXDPProgramAttached() throws {
        for portIO: [String: PortIOSetting] in [[:], ["vnet1": .auto]] {
            let f = try finding(try report(portIO: portIO), "tap.xdp-attached", "vnet1")
            XCTAssertEqual(f.severity, .warn)
            XCTAssertTrue(f.found.contains("(generic)"), f.found)
            XCTAssertEqual(f.fixNow.count, 1)
            XCTAssertTrue(f.fixNow[0].hasPrefix("ip link set dev vnet1 xdpgeneric off"), f.fixNow[0])
            XCTAssertEqual(f.found.contains("configured io: auto"), !portIO.isEmpty)
        }
        XCTAssertEqual(try finding(try report(), "tap.io.ok", "vnet0").severity, .info)
    }

    func testCannotTellHowVxswReadsATapWithoutConfigOrNetlink() throws {
        var i = Inspector(host: try fixture("tap-host")).inspect(TuneOptions(uplink: "eth0", ports: ["vnet0"], workers: [1]))
        i.interfaces[1].xdpAttached = .unknown(.unsupported("RTM_GETLINK IFLA_XDP on vnet0"))
        let f = try XCTUnwrap(Rules.evaluate(i).first { $0.id == "tap.io.unknown" })
        XCTAssertTrue(f.cannotTell)
        i.options.portIO = ["vnet0": .packet]
        XCTAssertTrue(Rules.evaluate(i).contains { $0.id == "tap.io.ok" && $0.found.contains("configured io: packet") })
    }

    func testHostIPv6OnATap() throws {
        let host = try fixture("tap-host")
        let options = TuneOptions(uplink: "eth0", ports: taps, workers: [1])
        let r = TuneReport.make(host: host, options: options)
        XCTAssertEqual(r.inspection.interfaces[1].ipv6Addresses.value, ["fe80::fc54:ff:fe12:ab01"])
        let f = try finding(r, "tap.ipv6", "vnet0")
        XCTAssertEqual(f.severity, .info)
        XCTAssertTrue(f.found.contains("fe80::fc54:ff:fe12:ab01"))
        XCTAssertEqual(f.fixNow, ["sysctl -w net.ipv6.conf.vnet0.disable_ipv6=1"])
        XCTAssertTrue(f.why.contains("sysctl.d does not cover a tap"))
        XCTAssertEqual(f.persist.map(\.file), ["/etc/qemu-ifup", "/etc/libvirt/hooks/qemu", "/etc/sysctl.d/90-vxsw-taps.conf"])
        XCTAssertEqual(f.persist.last?.snippet, "net.ipv6.conf.vnet*.disable_ipv6 = 1")
        XCTAssertTrue(f.persist[1].snippet.contains("case \"$dev\" in vnet*)"))
        XCTAssertFalse(r.findings.contains { $0.id == "tap.ipv6" && $0.subject != "vnet0" })  // vnet1: off; eth0: uplink

        // --apply turns it off, and the revert turns it on again.
        let before = Inspector(host: host).inspect(options)
        let applied = Applier(host: host).apply(f.changes)
        XCTAssertEqual(applied.compactMap(\.error), [])
        XCTAssertFalse(Rules.evaluate(Inspector(host: host).inspect(options)).contains { $0.id == "tap.ipv6" })
        _ = Applier(host: host).apply(applied.reversed().compactMap(\.revert))
        XCTAssertEqual(Inspector(host: host).inspect(options), before)
    }

    func testIPv6AddressText() {
        XCTAssertEqual(Inspector<FixtureHost>.ipv6Addresses("lo", table: "00000000000000000000000000000001 01 80 10 80       lo\n"), ["::1"])
        XCTAssertEqual(Inspector<FixtureHost>.compressIPv6(["2001", "db8", "0", "1", "0", "0", "0", "1"]), "2001:db8:0:1::1")
        XCTAssertEqual(Inspector<FixtureHost>.compressIPv6(["2001", "db8", "1", "2", "3", "4", "5", "6"]), "2001:db8:1:2:3:4:5:6")
        XCTAssertEqual(Inspector<FixtureHost>.compressIPv6(["0", "0", "0", "0", "0", "0", "0", "0"]), "::")
    }
}
