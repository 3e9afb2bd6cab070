import Foundation
import XCTest
@testable import VXTune

func fixture(_ name: String) throws -> FixtureHost {
    let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    return try FixtureHost(root: url)
}

final class FixtureRulesTests: XCTestCase {
    func ids(_ r: TuneReport) -> [String] { r.findings.map(\.id) }
    func finding(_ r: TuneReport, _ id: String) throws -> Finding { try XCTUnwrap(r.findings.first { $0.id == id }, "no \(id) in \(ids(r))") }

    func testTypical10GIxgbeHostAFXDP() throws {
        let host = try fixture("ixgbe-10g")
        let r = TuneReport.make(host: host, options: TuneOptions(uplink: "eth0", mode: .afxdp, workers: [2, 3], overlayMTU: 1500))
        let nic = try XCTUnwrap(r.inspection.interfaces.first)
        XCTAssertEqual(nic.driverName, "ixgbe")
        XCTAssertEqual(nic.rings.value, RingParams(rxMax: 4096, txMax: 4096, rx: 512, tx: 512))
        XCTAssertEqual(nic.irqs.value?.count, 9)
        XCTAssertEqual(nic.xdp.zeroCopy, .yes)
        XCTAssertTrue(nic.xdp.basis.hasPrefix("by driver knowledge"))

        XCTAssertEqual(try finding(r, "mtu.underlay-too-small").severity, .critical)
        let lro = try finding(r, "offload.lro-with-xdp")
        XCTAssertEqual(lro.severity, .critical)
        XCTAssertEqual(lro.fixNow, ["ethtool -K eth0 rx-lro off"])
        XCTAssertEqual(try finding(r, "rings.below-max").fixNow, ["ethtool -G eth0 rx 4096 tx 4096"])
        let irq = try finding(r, "irq.on-workers")
        // eth0-TxRx-2, -3 and the "eth0" vector (0-15) may run on workers 2,3.
        XCTAssertEqual(irq.changes.count, 3)
        XCTAssertEqual(irq.fixNow.first, "echo 0-1,4-15 > /proc/irq/102/smp_affinity_list")
        XCTAssertEqual(try finding(r, "irqbalance.running").severity, .warn)
        XCTAssertEqual(try finding(r, "governor.powersave").changes.count, 2)
        XCTAssertTrue(try finding(r, "conntrack.tracks-vxlan").found.contains("1 UDP 4789"))
        XCTAssertEqual(try finding(r, "rpfilter.strict").fixNow,
                       ["sysctl -w net.ipv4.conf.eth0.rp_filter=2", "sysctl -w net.ipv4.conf.all.rp_filter=2"])
        XCTAssertTrue(try finding(r, "driver.ixgbe.itr").driverSpecific)
        XCTAssertEqual(try finding(r, "smt.sibling-busy").subject, "cpu2")
        XCTAssertEqual(r.findings.first?.severity, .critical)
        XCTAssertEqual(Inspector(host: host).defaultRouteInterface(), "eth0")
    }

    func testKernelModeWantsNoLROButGRO() throws {
        let r = TuneReport.make(host: try fixture("ixgbe-10g"), options: TuneOptions(uplink: "eth0", mode: .kernel, overlayMTU: 1450))
        XCTAssertFalse(ids(r).contains("offload.lro-with-xdp"))
        XCTAssertEqual(try finding(r, "offload.lro-forwarding").severity, .warn)
        XCTAssertEqual(try finding(r, "mtu.underlay-ipv4-only").severity, .info)
        XCTAssertEqual(try finding(r, "sysctl.low").severity, .warn)
        XCTAssertFalse(ids(r).contains("irq.on-workers"))
    }

    func testMlx5FarNUMAAndCQECompression() throws {
        let r = TuneReport.make(host: try fixture("mlx5-numa"), options: TuneOptions(uplink: "ens1f0", mode: .afxdp, workers: [2, 3], overlayMTU: 8950))
        XCTAssertEqual(try finding(r, "numa.far-workers").severity, .warn)
        let cqe = try finding(r, "driver.mlx5.cqe-compress")
        XCTAssertTrue(cqe.driverSpecific)
        XCTAssertEqual(cqe.fixNow, ["ethtool --set-priv-flags ens1f0 rx_cqe_compress on"])
        XCTAssertEqual(r.inspection.interfaces[0].irqs.value?.map(\.number), [140, 141, 142, 143])
        XCTAssertTrue(ids(r).contains("irq.ok"), "\(ids(r))")
        XCTAssertTrue(ids(r).contains("governor.ok"))
        XCTAssertTrue(ids(r).contains("mtu.underlay-ipv4-only"))  // 9000 carries 8950 over IPv4 only
        XCTAssertFalse(ids(r).contains("sysctl.low"))
    }

    func testVirtioVMCannotTellWithoutGuessing() throws {
        let r = TuneReport.make(host: try fixture("virtio-vm"), options: TuneOptions(uplink: "eth0", mode: .afxdp, workers: [1]))
        let co = try finding(r, "coalesce.unknown")
        XCTAssertTrue(co.cannotTell)
        XCTAssertTrue(co.found.contains("not supported"))
        XCTAssertTrue(try finding(r, "numa.unknown").cannotTell)
        XCTAssertTrue(ids(r).contains("governor.none"))
        XCTAssertTrue(ids(r).contains("conntrack.not-loaded"))
        XCTAssertEqual(r.inspection.interfaces[0].irqs.value?.map(\.name), ["virtio2-input.0", "virtio2-output.0"])
        XCTAssertEqual(try finding(r, "offload.lro-with-xdp.fixed").severity, .warn)
        XCTAssertEqual(r.inspection.interfaces[0].xdp.zeroCopy, .no)  // kernel 6.1 < 6.11
    }

    func testVethMissingFilesAndUnsupportedIoctls() throws {
        let r = TuneReport.make(host: try fixture("veth-netns"), options: TuneOptions(uplink: "vxa", ports: ["vxb", "nosuch0"], mode: .afxdp))
        XCTAssertTrue(try finding(r, "rings.unknown").cannotTell)
        XCTAssertTrue(try finding(r, "irq.unknown").found.contains("/proc/interrupts does not exist"))
        XCTAssertTrue(r.findings.contains { $0.id == "sysctl.unknown" && $0.found.contains("netdev_max_backlog") })
        XCTAssertEqual(try finding(r, "offload.gro-off").fixNow, ["ethtool -K vxa rx-gro on"])
        XCTAssertEqual(try finding(r, "mtu.port-above-overlay").subject, "vxb")
        XCTAssertEqual(try finding(r, "interface.missing").subject, "nosuch0")
        XCTAssertTrue(try finding(r, "conntrack.unknown").cannotTell)
        XCTAssertTrue(r.text().contains("cannot tell"))
    }

    func testJSONIsCodable() throws {
        let r = TuneReport.make(host: try fixture("virtio-vm"), options: TuneOptions(uplink: "eth0", workers: [1]))
        let json = try r.json()
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        XCTAssertNotNil(object?["findings"])
        XCTAssertTrue(json.contains("\"unknown\""))  // missing readings say why
        XCTAssertNoThrow(try JSONDecoder().decode(TuneReport.self, from: Data(json.utf8)))
    }

    func testApplyAndRevertOnFixture() throws {
        let host = try fixture("ixgbe-10g")
        let options = TuneOptions(uplink: "eth0", mode: .afxdp, workers: [2, 3])
        let before = Inspector(host: host).inspect(options)
        let changes = Applier<FixtureHost>.changes(of: Rules.evaluate(before))
        XCTAssertFalse(changes.isEmpty)
        let applied = Applier(host: host).apply(changes)
        XCTAssertEqual(applied.filter { $0.error != nil }.map(\.command), [])
        let after = Inspector(host: host).inspect(options)
        XCTAssertEqual(after.interfaces[0].rings.value?.rx, 4096)
        XCTAssertEqual(after.interfaces[0].features.value?["rx-lro"]?.active, false)
        XCTAssertFalse(Rules.evaluate(after).contains { $0.id == "irq.on-workers" })
        // Revert in reverse order restores exactly the inspected state.
        _ = Applier(host: host).apply(applied.reversed().compactMap(\.revert))
        XCTAssertEqual(Inspector(host: host).inspect(options), before)
    }

    func testCPUList() {
        XCTAssertEqual(CPUList.parse("0-3,8,10-11"), [0, 1, 2, 3, 8, 10, 11])
        XCTAssertEqual(CPUList.format([11, 0, 1, 2, 3, 8, 10]), "0-3,8,10-11")
        XCTAssertNil(CPUList.parse("3-1"))
        XCTAssertEqual(CPUList.parse("\n"), [])
    }
}
