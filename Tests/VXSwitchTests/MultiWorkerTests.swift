import Foundation
import VXLabKit
import XCTest

@testable import VXSwitch

/// A worker per uplink queue (`datapath.workers: [0, 1]`, a two-queue underlay veth whose peer
/// spreads flows over the queues by hash, as RSS does on a NIC): each worker receives on its
/// own uplink socket and one VM port; both transmit to every port (single-queue VM ports share
/// their tx ring under a lock). What one worker learns reaches the other's copy through the
/// owner, so the audit finds the owner's and both workers' copies equal.
final class MultiWorkerTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
        try XCTSkipUnless(ProcessInfo.processInfo.activeProcessorCount >= 2, "needs 2 CPUs")
    }

    func testAWorkerPerUplinkQueueWithOneCopyOfTheTablesEach() throws {
        let env = try RunningLab(tag: "q", fastPath: "false", workers: "[0, 1]", uplinkQueues: 2)
        defer { env.close() }
        let workers = try XCTUnwrap(try env.stats().workers)
        XCTAssertEqual(workers.map(\.cpu), [0, 1])
        for w in workers { XCTAssertTrue(w.receivesOn.contains("ul0"), "worker \(w.index) receives on an uplink queue: \(w.receivesOn)") }
        XCTAssertEqual(Set(workers.flatMap(\.receivesOn)), ["ul0", "tap11", "tap12"], "every port has a receiving worker")

        for (from, to) in [("vm11", "vm21"), ("vm21", "vm11"), ("vm12", "vm22"), ("vm22", "vm12")] {
            XCTAssertTrue(try env.scenario.ping(env.lab.vm(from).namespace, env.lab.vm(to).address).0, "\(from) -> \(to)")
        }
        // Sixteen TCP flows from hv2: their outer UDP source ports differ, so hv2's veth spreads
        // them over both queues and both workers decapsulate toward tap11 (one shared tx ring).
        let vm11 = env.lab.vm("vm11").namespace, vm21 = env.lab.vm("vm21").namespace
        let server = try vm11.spawn(["iperf3", "-s", "-1", "-B", "198.19.10.11"], logPath: env.workDir + "/iperf.log")
        defer { server.stop(grace: 1) }
        _ = waitUntil(timeout: 3) { (try? vm11.exec(["ss", "-ltn", "sport = :5201"]).output.contains("5201")) == true }
        let r = try vm21.exec(["iperf3", "-c", "198.19.10.11", "-t", "2", "-P", "16", "--connect-timeout", "3000"], check: false)
        XCTAssertTrue(r.succeeded, r.output + r.error)

        let queues = try env.lab.hv1.exec(["ethtool", "-S", "ul0"]).output
        for q in 0..<2 {
            let line = queues.split(separator: "\n").first { $0.contains("rx_queue_\(q)_xdp_packets") }
            let n = line.flatMap { UInt64($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) } ?? 0
            XCTAssertGreaterThan(n, 100, "uplink rx queue \(q) carried traffic:\n\(queues)")
        }
        let after = try XCTUnwrap(try env.stats().workers)
        for w in after { XCTAssertGreaterThan(w.frames, 100, "worker \(w.index) forwarded frames") }
        let port = try XCTUnwrap(try env.stats().ports.first { $0.name == "tap11" })
        XCTAssertNil(port.drops["tx_ring_full"], "nothing dropped toward tap11, whose tx ring both workers use: \(port.drops)")

        // The owner's and both workers' copies agree (the learned VM MACs included).
        let report: ConsistencyReport = try env.show(["consistency"]).decode()
        XCTAssertTrue(report.ok, "\(report.differences)")
        let copies = try XCTUnwrap(report.workerCopies)
        XCTAssertEqual(copies, [report.ownerEntries, report.ownerEntries])
        XCTAssertGreaterThanOrEqual(report.ownerEntries, 4, "the four VMs' MACs are learned")
        XCTAssertTrue(env.scenario.isSwitchRunning)
    }
}
