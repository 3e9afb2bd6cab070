import Foundation
import VXConfig
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// The XDP fast path in the lab: known unicast really takes it (the XDP program's counters),
/// ping and TCP work through it, and learning and aging behave as on the AF_XDP path.
final class FastPathLabTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
    }

    func xdp(_ env: RunningLab) throws -> [String: UInt64] { try env.stats().xdp }

    /// TCP through the lab with iperf3 (`seconds`), client in `client`, server at `server`.
    func iperf(_ env: RunningLab, from client: NetworkNamespace, to server: NetworkNamespace, address: String,
               seconds: Int = 2) throws -> Double? {
        let s = try server.spawn(["iperf3", "-s", "-1", "-B", address], logPath: env.workDir + "/iperf3-server.log")
        defer { s.stop(grace: 2) }
        _ = waitUntil(timeout: 5) { (try? server.exec(["ss", "-ltn", "sport = :5201"]).output.contains("5201")) == true }
        let r = try client.exec(["iperf3", "-c", address, "-t", String(seconds), "-J", "--connect-timeout", "3000"], check: false)
        guard r.succeeded, let json = try? JSONDecoder().decode(JSONValue.self, from: Data(r.output.utf8)) else { return nil }
        return json["end"]?["sum_received"]?["bits_per_second"]?.numberValue
    }

    func testKnownUnicastTakesTheFastPath() throws {
        for underlay in LabTopology.Underlay.allCases {
            let env = try RunningLab(underlay: underlay, tag: "f" + underlay.rawValue.suffix(1))
            defer { env.close() }
            let vm11 = env.lab.vm("vm11").namespace, vm21 = env.lab.vm("vm21").namespace
            // The first frames learn both MACs through the engine; the mirror picks them up.
            XCTAssertTrue(try env.scenario.ping(vm11, "198.19.10.21").0, "\(underlay): warm-up ping")
            Thread.sleep(forTimeInterval: 0.5)
            let before = try xdp(env)
            XCTAssertTrue(try env.scenario.ping(vm11, "198.19.10.21", count: 5).0, "\(underlay): ping vm11 -> vm21")
            let after = try xdp(env)
            XCTAssertGreaterThanOrEqual((after["fast_encap"] ?? 0) - (before["fast_encap"] ?? 0), 5, "\(underlay): echo requests encapsulated in XDP")
            XCTAssertGreaterThanOrEqual((after["fast_decap"] ?? 0) - (before["fast_decap"] ?? 0), 5, "\(underlay): echo replies decapsulated in XDP")

            // TCP with offloads (partial checksums from the VMs): completed in XDP, accepted by the far end.
            let tcpBefore = try xdp(env)
            let bps = try iperf(env, from: vm11, to: vm21, address: "198.19.10.21")
            XCTAssertNotNil(bps, "\(underlay): iperf3 vm11 -> vm21 through the fast path")
            let tcpAfter = try xdp(env)
            XCTAssertGreaterThan((tcpAfter["fast_encap"] ?? 0) - (tcpBefore["fast_encap"] ?? 0), 1000, "\(underlay): TCP data encapsulated in XDP")
            XCTAssertGreaterThan((tcpAfter["fast_decap"] ?? 0) - (tcpBefore["fast_decap"] ?? 0), 100, "\(underlay): TCP acks decapsulated in XDP")
            if let bps { print("fast path TCP vm11 -> vm21 (\(underlay)): \(String(format: "%.2f", bps / 1e9)) Gbit/s") }

            // VNI isolation still holds: the VNI 2000 address of VNI 1000's subnet stays out of reach.
            XCTAssertFalse(try env.scenario.ping(vm11, "198.19.10.12", count: 2).0, "\(underlay): LEAK into VNI 2000")
        }
    }

    /// Two VMs on the same switch: redirected port to port in XDP, TCP included.
    func testLocalDeliveryTakesTheFastPath() throws {
        let env = try RunningLab(tag: "fl")
        defer { env.close() }
        let vm13 = try env.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        defer { vm13.remove() }
        XCTAssertTrue(try env.vxsw(["port", "add", "tap13", "--vni", "1000"]).succeeded)
        let vm11 = env.lab.vm("vm11").namespace
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.11").0, "warm-up")
        Thread.sleep(forTimeInterval: 0.5)
        let before = try xdp(env)
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.11", count: 5).0)
        XCTAssertNotNil(try iperf(env, from: vm13, to: vm11, address: "198.19.10.11", seconds: 1), "iperf3 vm13 -> vm11")
        let after = try xdp(env)
        XCTAssertGreaterThan((after["fast_local"] ?? 0) - (before["fast_local"] ?? 0), 100, "port to port in XDP")

        // A removed port is out of the fast path at once: nothing reaches vm13 any more.
        XCTAssertTrue(try env.vxsw(["port", "del", "tap13"]).succeeded)
        XCTAssertFalse(try env.scenario.ping(vm11, "198.19.10.13", count: 2).0, "a removed port no longer switches")
    }

    /// MACs that only talk through the fast path stay learned (XDP's last-seen stamps are
    /// folded into the FDB); once quiet they age out as before; a new MAC is still learned.
    /// With `fast-path: auto` (the default) veth ports are left to the AF_XDP engine, since
    /// their peers may lack NAPI; traffic flows, nothing is fast-pathed, the log says why.
    func testAutoLeavesVethPortsToTheEngine() throws {
        let env = try RunningLab(tag: "fa", fastPath: "auto")
        defer { env.close() }
        XCTAssertTrue(try env.scenario.ping(env.lab.vm("vm11").namespace, env.lab.vm("vm21").address).0)
        usleep(600_000) // two fast-path sync rounds
        XCTAssertTrue(try env.scenario.ping(env.lab.vm("vm11").namespace, env.lab.vm("vm21").address).0)
        let xdp = try env.stats().xdp
        XCTAssertEqual((xdp["fast_encap"] ?? 0) + (xdp["fast_decap"] ?? 0) + (xdp["fast_local"] ?? 0), 0)
        XCTAssertTrue(env.scenario.switchLog.contains("tap11 is a veth"), env.scenario.switchLog)
    }

    func testLearningAndAgingWithTheFastPath() throws {
        let env = try RunningLab(tag: "fa", agingTime: 3)
        defer { env.close() }
        let vm11 = env.lab.vm("vm11"), vm21 = env.lab.vm("vm21")
        XCTAssertTrue(try env.scenario.ping(vm11.namespace, "198.19.10.21").0, "warm-up")
        let before = try xdp(env)
        // 8 s of traffic, well past the 3 s aging time, almost all of it on the fast path.
        let r = try vm11.namespace.exec(["ping", "-c", "40", "-i", "0.2", "-W", "1", "198.19.10.21"], check: false)
        XCTAssertTrue(r.output.contains(" 0% packet loss"), r.output)
        let after = try xdp(env)
        XCTAssertGreaterThanOrEqual((after["fast_encap"] ?? 0) - (before["fast_encap"] ?? 0), 30, "mostly fast path")
        let macs = try env.macs()
        XCTAssertTrue(macs.contains { $0.mac == vm11.mac && $0.port == "tap11" && $0.type == "local" },
                      "vm11 did not age out while it talked through XDP: \(macs)")
        XCTAssertTrue(macs.contains { $0.mac == vm21.mac && $0.type == "remote" },
                      "vm21 (remote) did not age out while it talked through XDP: \(macs)")
        XCTAssertTrue(waitUntil(timeout: 15) { (try? env.macs().contains { $0.mac == vm11.mac }) == false },
                      "vm11 ages out once quiet")
        // Learning again: the next frame from vm11 goes to the engine (its MAC is unknown), which learns it.
        XCTAssertTrue(try env.scenario.ping(vm11.namespace, "198.19.10.21", count: 2).0)
        XCTAssertTrue(waitUntil(timeout: 3) { (try? env.macs().contains { $0.mac == vm11.mac && $0.port == "tap11" }) == true },
                      "relearned")
    }
}
