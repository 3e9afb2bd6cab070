import Foundation
@testable import VXBench
@testable import VXConfig
import VXCore
import VXLabKit
import XCTest

@testable import VXSwitch

/// What `vxsw reload` would change, from two configs: no switch needed.
final class ReloadPlanTests: XCTestCase {
    let base = """
        vtep: { ipv4: 198.18.0.1 }
        uplink: { interface: ul0 }
        vnis: [{ vni: 1000, flood: [198.18.0.2] }, { vni: 2000 }]
        ports: [{ name: tap1, vni: 1000 }, { name: tap2, vni: 2000 }]

        """

    func testChangesAreListedInOrder() throws {
        let old = try SwitchConfig.parse(yaml: base)
        let new = try SwitchConfig.parse(yaml: """
            vtep: { ipv4: 198.18.0.1 }
            uplink: { interface: ul0 }
            vnis: [{ vni: 1000, flood: [198.18.0.3], mac-limit: 100 }, { vni: 3000 }]
            ports: [{ name: tap1, vni: 1000 }, { name: tap3, vni: 3000 }]
            fdb: { aging-time: 60 }

            """)
        let plan = try old.reloadPlan(to: new)
        XCTAssertEqual(plan.vnisToSet.map(\.vni), [VNI(1000)!, VNI(3000)!])
        XCTAssertEqual(plan.floodToAdd.map(\.vtep), [IPAddress("198.18.0.3")!])
        XCTAssertEqual(plan.floodToRemove.map(\.vtep), [IPAddress("198.18.0.2")!])
        XCTAssertEqual(plan.portsToRemove, ["tap2"])
        XCTAssertEqual(plan.portsToAdd.map(\.name), ["tap3"])
        XCTAssertEqual(plan.vnisToRemove, [VNI(2000)!])
        XCTAssertEqual(plan.agingTime, 60)
        XCTAssertFalse(plan.restartBGP)
        XCTAssertTrue(try old.reloadPlan(to: old).isEmpty)
    }

    func testWhatCannotChangeLiveIsRefusedByName() throws {
        let old = try SwitchConfig.parse(yaml: base)
        for (yaml, field) in [
            (base.replacingOccurrences(of: "198.18.0.1 }", with: "198.18.0.9 }"), "vtep"),
            (base.replacingOccurrences(of: "interface: ul0", with: "interface: ul1"), "uplink"),
            (base + "datapath: { ring-size: 1024 }\n", "datapath"),
            (base + "fdb: { max-entries: 262144 }\n", "fdb.max-entries"),
        ] {
            XCTAssertThrowsError(try old.reloadPlan(to: try SwitchConfig.parse(yaml: yaml))) { error in
                XCTAssertTrue("\(error)".hasPrefix(field), "\(error)")
            }
        }
    }
}

/// `vxsw reload` and SIGHUP against a running switch: a port added to the file starts
/// switching, traffic of what did not change never stops, a change that cannot be made live is
/// refused with its field named, and the switch goes on as it was.
final class ReloadTests: XCTestCase {
    func testReloadAddsAndRemovesWhileForwarding() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
        let env = try RunningLab(tag: "r")
        defer { env.close() }
        let vm13 = try env.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        defer { vm13.remove() }
        let vm11 = env.lab.vm("vm11").namespace
        XCTAssertTrue(try env.scenario.ping(vm11, "198.19.10.21").0)

        // Pings every 20 ms across the overlay while the file changes and is reloaded.
        let pingLog = env.workDir + "/reload-ping.log"
        let ping = try vm11.spawn(["ping", "-n", "-i", "0.02", "-c", "150", "-W", "1", "198.19.10.21"], logPath: pingLog)
        defer { ping.stop(grace: 1) }

        let path = env.workDir + "/vxsw.yaml"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let withTap13 = original.replacingOccurrences(of: "ports:\n", with: "ports:\n  - name: tap13\n    vni: 1000\n")
        try withTap13.write(toFile: path, atomically: true, encoding: .utf8)
        let reload = try env.vxsw(["reload"])
        XCTAssertTrue(reload.succeeded, reload.error)
        XCTAssertTrue(reload.output.contains("port tap13: attached"), reload.output)
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.21").0, "the port the file added switches")

        // A field that cannot change live: refused, named, nothing changed.
        try withTap13.replacingOccurrences(of: "udp-port: 4789", with: "udp-port: 4790").write(toFile: path, atomically: true, encoding: .utf8)
        let refused = try env.vxsw(["reload"])
        XCTAssertFalse(refused.succeeded)
        XCTAssertTrue(refused.error.contains("vtep") && refused.error.contains("cannot change while vxsw runs"), refused.error)
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.21").0, "still switching as before")

        // SIGHUP (systemctl reload): the file without tap13 again.
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        let pid = try XCTUnwrap(env.scenario.switchPID)
        kill(pid, SIGHUP)
        XCTAssertTrue(waitUntil(timeout: 5) {
            let ports = (try? env.show(["ports"]).arrayValue?.compactMap { $0["name"]?.stringValue }) ?? []
            return !ports.isEmpty && !ports.contains("tap13")
        }, "SIGHUP reloaded the file: tap13 is detached")

        _ = waitUntil(timeout: 10) { !ping.isRunning }
        let stats = PingStats(pingOutput: ping.log)
        XCTAssertGreaterThan(stats.sent, 100, ping.log.suffix(500).description)
        XCTAssertEqual(stats.lost, 0, "traffic of what did not change never stopped: \(ping.log.suffix(300))")
    }
}
