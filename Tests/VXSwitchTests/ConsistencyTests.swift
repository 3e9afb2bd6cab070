import Foundation
@testable import VXConfig
@testable import VXControl
import VXCore
import VXLabKit
import XCTest

@testable import VXSwitch

/// `vxsw show consistency` against a real running switch: the owner's tables, the worker's and
/// the XDP maps agree after installs, and a divergence injected into the worker's copy or the
/// maps (behind the owner's back, as a bug would) is named.
final class ConsistencyTests: XCTestCase {
    func testAuditAgreesThenNamesWhatWasInjected() throws {
        try XCTSkipUnless(isRoot, "needs root: creates network namespaces and attaches XDP programs")
        let tag = "\(getpid() % 100_000)"
        let sw = try NetworkNamespace("vxcs\(tag)-sw"), r = try NetworkNamespace("vxcs\(tag)-r")
        defer { r.remove(); sw.remove() }
        try addVeth("ul0", in: sw, "ul0", in: r)
        try addVeth("pa", in: sw, "pa-peer", in: r)
        try sw.exec(["ip", "addr", "add", "198.18.78.1/24", "dev", "ul0"])
        try r.exec(["ip", "addr", "add", "198.18.78.2/24", "dev", "ul0"])
        for dev in ["ul0", "pa"] { try sw.exec(["ip", "link", "set", dev, "up"]) }
        for dev in ["ul0", "pa-peer"] { try r.exec(["ip", "link", "set", dev, "up"]) }
        let socket = NSTemporaryDirectory() + "vxsw-consistency-\(tag).ctl"
        let config = try SwitchConfig.parse(yaml: """
            vtep: { ipv4: 198.18.78.1 }
            uplink: { interface: ul0 }
            vnis: [{ vni: 1000 }]
            ports: [{ name: pa, vni: 1000 }]
            control: { socket: \(socket), metrics: off, state-file: off }
            """)
        let daemon = try sw.enter { () -> SwitchDaemon in
            let d = try SwitchDaemon(config: config, log: DaemonLog())
            try d.start()
            return d
        }
        defer { daemon.shutdown() }
        let vni = VNI(1000)!, vtep = IPAddress("198.18.78.2")!
        func mac(_ i: Int) -> MACAddress { MACAddress(raw: 0x0A_00_00_00_10_00 | UInt64(i)) }
        daemon.tables.apply((0..<100).map { .installEVPN(vni, mac($0), vtep: vtep, sequence: 0) }, wait: true)
        XCTAssertTrue(waitUntil(timeout: 5) { daemon.fastPath?.lock.withLock { daemon.fastPath!.written.fdb.count } == 100 })

        let clean = daemon.auditConsistency()
        XCTAssertTrue(clean.ok, "\(clean.differences)")
        // The 100 installed, and whatever the veth peer's own frames (IPv6 ND) taught on pa.
        XCTAssertGreaterThanOrEqual(clean.ownerEntries, 100)
        XCTAssertEqual(clean.workerEntries, clean.ownerEntries)
        XCTAssertGreaterThanOrEqual(clean.xdpEntries ?? 0, 100)

        // Behind the owner's back: an entry only the worker has, and a map entry that points elsewhere.
        daemon.datapath.workers[0].post([.addStaticVTEP(vni, mac(500), vtep)], wait: true)
        let bd = try XCTUnwrap(daemon.tables.read { $0.bridgeDomains.index(of: vni) })
        try XCTUnwrap(daemon.fastPath).maps.setFDB(FDBEntry.key(bd: bd, mac: mac(7)), .vtep(99))

        let report = daemon.auditConsistency()
        XCTAssertFalse(report.ok)
        XCTAssertEqual(report.workerEntries, report.ownerEntries + 1)
        let worker = report.differences.filter { $0.place == "worker" }
        XCTAssertEqual(worker.map(\.mac), [mac(500).description], "\(report.differences)")
        XCTAssertEqual(worker.first?.owner, "absent")
        let xdp = report.differences.filter { $0.place == "xdp" }
        XCTAssertEqual(xdp.map(\.mac), [mac(7).description], "\(report.differences)")
        XCTAssertEqual(xdp.first?.other, "vtep #99")

        // The same through the control socket, as `vxsw show consistency --json` asks.
        let response = try ControlClient.send(.show(.consistency), path: socket)
        XCTAssertTrue(response.ok)
        XCTAssertEqual(response.payload?["ok"], false)
        XCTAssertTrue(daemon.renderMetrics().contains("vxsw_consistency_differences 2"), daemon.renderMetrics())
    }
}
