import Foundation
import VXLabKit
import VXSwitch
import XCTest

/// Issue 3, test 5: the BGP control plane restarts (and sessions reset) while VMs ping each
/// other across the overlay.
///
/// What vxsw guarantees is checked exactly: its FDB and flood lists keep every entry
/// throughout, and every echo request it carries from vm11 reaches vm21 (counted there).
/// The replies cross hv2's kernel FDB, which FRR 8.4 flushes when a session drops because it
/// is no graceful-restart helper for EVPN (`FOREACH_AFI_SAFI_NSF` stops at SAFI_MPLS_VPN);
/// that gap is bounded here and reported, not hidden.
final class EVPNGracefulRestartTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
        try XCTSkipUnless(FRRInstance.isInstalled, "needs FRR (tools/install-deps installs it)")
    }

    struct Outcome {
        var sent = 0, replies = 0, requestsAtVM21 = 0, tableGaps = 0
    }

    /// vm11 pings vm21 every 50 ms for `seconds` while `disturb` runs; vxsw's tables are
    /// sampled every 50 ms and vm21 counts the echo requests that reach it.
    func pingThrough(_ env: RunningLab, seconds: Int, disturb: () throws -> Void) throws -> Outcome {
        let vm11 = env.lab.vm("vm11"), vm21 = env.lab.vm("vm21")
        let capture = try vm21.namespace.spawn(["tcpdump", "-i", "eth0", "-Q", "in", "-nn", "-l",
                                                "icmp[icmptype] == icmp-echo and src \(vm11.address)"],
                                               logPath: env.workDir + "/requests.log")
        defer { capture.stop(grace: 1) }
        _ = waitUntil(timeout: 3) { capture.log.contains("listening") }
        let ping = try vm11.namespace.spawn(["ping", "-i", "0.05", "-w", String(seconds), "-W", "1", vm21.address],
                                            logPath: env.workDir + "/ping.log")
        var outcome = Outcome()
        usleep(1_000_000)
        try disturb()
        while ping.isRunning {
            let macs = (try? env.macs()) ?? []
            let vnis: [VNIView] = (try? env.show(["vni", "1000"]).decode()) ?? []
            let intact = macs.contains { $0.mac == vm21.mac && $0.type == "evpn" } && vnis.first?.floodList == [env.lab.hv2VTEP]
            if !intact { outcome.tableGaps += 1 }
            usleep(50_000)
        }
        usleep(300_000)
        let line = ping.log.split(separator: "\n").first { $0.contains("packets transmitted") } ?? ""
        let numbers = line.split(separator: " ").compactMap { Int($0) }
        outcome.sent = numbers.first ?? 0
        outcome.replies = numbers.dropFirst().first ?? 0
        outcome.requestsAtVM21 = capture.log.split(separator: "\n").filter { $0.contains("ICMP echo request") }.count
        return outcome
    }

    func established(_ env: RunningLab) -> Bool {
        waitUntil(timeout: 30) {
            (try? env.show(["bgp", "l2vpn", "evpn", "summary"])["peers"]?.objectValue?.values.first?["state"]?.stringValue) == "Established"
        }
    }

    func ready(_ env: RunningLab) throws {
        XCTAssertTrue(established(env))
        XCTAssertTrue(waitUntil(timeout: 15) {
            (try? env.scenario.ping(env.lab.vm("vm11").namespace, env.lab.vm("vm21").address, count: 1).0) == true
        })
    }

    func check(_ o: Outcome, _ what: String) {
        XCTAssertGreaterThan(o.sent, 50)
        XCTAssertEqual(o.tableGaps, 0, "vxsw's FDB or flood list lost an entry during the \(what)")
        XCTAssertEqual(o.requestsAtVM21, o.sent, "echo requests lost on vxsw's side during the \(what)")
        // FRR 8.4's side (no EVPN GR helper): replies may stop while its session is down; bounded.
        XCTAssertLessThanOrEqual(o.sent - o.replies, 30, "more than 1.5 s of replies lost during the \(what)")
        print("\(what): sent \(o.sent), requests at vm21 \(o.requestsAtVM21), replies \(o.replies) (gap on FRR's side: \(o.sent - o.replies) x 50 ms)")
    }

    func testControlPlaneRestartKeepsForwarding() throws {
        let env = try RunningLab(controlPlane: .evpn, tag: "r")
        defer { env.close() }
        try ready(env)
        let outcome = try pingThrough(env, seconds: 6) {
            let r = try env.vxsw(["bgp", "restart"])
            XCTAssertTrue(r.succeeded, r.error)
        }
        check(outcome, "control-plane restart")
        XCTAssertTrue(established(env), "the restarted speaker re-established its session")
        XCTAssertTrue(waitUntil(timeout: 10) { env.scenario.switchLog.contains("restart complete") }, env.scenario.switchLog)
    }

    func testSessionResetKeepsForwarding() throws {
        let env = try RunningLab(controlPlane: .evpn, tag: "c")
        defer { env.close() }
        try ready(env)
        let outcome = try pingThrough(env, seconds: 6) {
            let r = try env.vxsw(["clear", "bgp"])
            XCTAssertTrue(r.succeeded, r.error)
        }
        check(outcome, "session reset")
        XCTAssertTrue(established(env))
    }
}
