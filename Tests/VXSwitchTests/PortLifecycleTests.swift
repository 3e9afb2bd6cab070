import Foundation
import VXConfig
import VXLabKit
import VXSwitch
import XCTest

/// VM ports through the life of their VMs, as hooks and qemu drive them: idempotent
/// `port add`/`port del`, del → add at once, and an interface that goes away and comes back.
final class PortLifecycleTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
    }

    /// A hook that runs twice, or runs `del` for a port that is not there, succeeds and says so.
    func testHooksAreIdempotent() throws {
        let env = try RunningLab(tag: "h")
        defer { env.close() }
        let vm13 = try env.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        defer { vm13.remove() }
        let first = try env.vxsw(["port", "add", "tap13", "--vni", "1000"])
        XCTAssertTrue(first.succeeded, first.error)
        let again = try env.vxsw(["port", "add", "tap13", "--vni", "1000"])
        XCTAssertTrue(again.succeeded, again.error)
        XCTAssertTrue(again.output.contains("already attached"), again.output)
        let other = try env.vxsw(["port", "add", "tap13", "--vni", "2000"])
        XCTAssertFalse(other.succeeded, "other settings for an attached port are refused")
        XCTAssertTrue(other.error.contains("tap13") && other.error.contains("other settings"), other.error)

        // del -> add at once (what a VM reboot's hooks do).
        for _ in 0..<3 {
            let del = try env.vxsw(["port", "del", "tap13"])
            XCTAssertTrue(del.succeeded, del.error)
            let add = try env.vxsw(["port", "add", "tap13", "--vni", "1000"])
            XCTAssertTrue(add.succeeded, "del then add at once: \(add.error)")
        }
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.21").0, "the re-added port switches")

        XCTAssertTrue(try env.vxsw(["port", "del", "tap13"]).succeeded)
        let absent = try env.vxsw(["port", "del", "tap13"])
        XCTAssertTrue(absent.succeeded, absent.error)
        XCTAssertTrue(absent.output.contains("not attached"), absent.output)
        let uplink = try env.vxsw(["port", "del", "ul0"])
        XCTAssertFalse(uplink.succeeded, "the uplink is not a VM port")
    }

    /// The VM's interface is deleted (VM stopped or crashed) and created again (VM started):
    /// vxsw detaches the port, remembers it, and attaches the new interface with its settings.
    func testPortFollowsItsInterfaceAwayAndBack() throws {
        let env = try RunningLab(tag: "l")
        defer { env.close() }
        var vm13 = try env.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        defer { vm13.remove() }
        XCTAssertTrue(try env.vxsw(["port", "add", "tap13", "--vni", "1000"]).succeeded)
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.21").0)

        vm13.remove()   // deletes its eth0 and so the peer tap13 in hv1
        XCTAssertTrue(waitUntil(timeout: 5) { (try? self.portNames(env).contains("tap13")) == false },
                      "the vanished interface's port is detached")
        XCTAssertFalse(try env.macs().contains { $0.port == "tap13" }, "its MACs are flushed")

        vm13 = try env.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        let appeared = Date()
        XCTAssertTrue(waitUntil(timeout: 5) { (try? self.portNames(env).contains("tap13")) == true },
                      "the new interface of that name is attached again")
        print(String(format: "tap13 attached %.2f s after it appeared", -appeared.timeIntervalSinceNow))
        let ports: [PortView] = try env.show(["ports"]).decode()
        XCTAssertEqual(ports.first { $0.name == "tap13" }?.vnis, [1000], "with its remembered VNI")
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.21").0, "and switches")

        // A port deleted by the operator is forgotten: its interface coming back is left alone.
        XCTAssertTrue(try env.vxsw(["port", "del", "tap13"]).succeeded)
        vm13.remove()
        vm13 = try env.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        Thread.sleep(forTimeInterval: 1)
        XCTAssertFalse(try portNames(env).contains("tap13"), "a deleted port stays deleted")
    }

    /// Run-time ports and static MACs survive a vxsw restart (the state file in the test's
    /// workDir); `port del` forgets the port for the next restart too.
    func testRunTimePortAndStaticMACSurviveRestart() throws {
        let env = try RunningLab(tag: "r")
        defer { env.close() }
        let vm13 = try env.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        defer { vm13.remove() }
        let mac = "02:00:00:00:13:13"
        let add = try env.vxsw(["port", "add", "tap13", "--vni", "1000"])
        XCTAssertTrue(add.succeeded, add.error)
        let fdb = try env.vxsw(["fdb", "add", mac, "--vni", "1000", "--port", "tap13"])
        XCTAssertTrue(fdb.succeeded, fdb.error)
        let stateFile = env.workDir + "/state.json"
        let state = try env.show(["state"])
        XCTAssertEqual(state["file"]?.stringValue, stateFile)
        XCTAssertEqual(state["ports"]?[0]?["name"]?.stringValue, "tap13", state.jsonText)
        XCTAssertEqual(state["fdb"]?["static"]?[0]?["mac"]?.stringValue, mac, state.jsonText)

        XCTAssertEqual(env.scenario.stopSwitch(), 0, "SIGTERM stops vxsw cleanly")
        try env.scenario.startSwitch()
        let ports: [PortView] = try env.show(["ports"]).decode()
        XCTAssertEqual(ports.first { $0.name == "tap13" }?.vnis, [1000], "attached again with its VNI")
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.21").0, "and switches")
        let statics = try env.macs().filter { $0.type == "static" }
        XCTAssertTrue(statics.contains { $0.mac == mac && $0.port == "tap13" && $0.vni == 1000 }, "the static MAC is back: \(statics)")

        let del = try env.vxsw(["port", "del", "tap13"])
        XCTAssertTrue(del.succeeded, del.error)
        XCTAssertEqual(env.scenario.stopSwitch(), 0)
        try env.scenario.startSwitch()
        XCTAssertFalse(try portNames(env).contains("tap13"), "a deleted port stays deleted after a restart")
        XCTAssertFalse(try env.macs().contains { $0.mac == mac }, "its static MAC too")
        XCTAssertEqual(try RunState.load(path: stateFile), RunState(), "the state file is empty again")
    }

    /// A run-time port whose VM is stopped stays in the state file: after a restart it waits
    /// for its interface and comes back with its static MAC. A corrupt state file stops the start.
    func testWaitingRunTimePortAcrossRestartAndCorruptStateFile() throws {
        let env = try RunningLab(tag: "q")
        defer { env.close() }
        var vm13 = try env.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        defer { vm13.remove() }
        let mac = "02:00:00:00:13:14"
        XCTAssertTrue(try env.vxsw(["port", "add", "tap13", "--vni", "1000"]).succeeded)
        XCTAssertTrue(try env.vxsw(["fdb", "add", mac, "--vni", "1000", "--port", "tap13"]).succeeded)
        vm13.remove()
        XCTAssertTrue(waitUntil(timeout: 5) { (try? self.portNames(env).contains("tap13")) == false }, "detached with its interface")

        XCTAssertEqual(env.scenario.stopSwitch(), 0)
        try env.scenario.startSwitch()
        XCTAssertEqual(try env.show(["state"])["ports"]?[0]?["name"]?.stringValue, "tap13", "still recorded")
        XCTAssertFalse(try portNames(env).contains("tap13"), "waits for its interface")
        XCTAssertTrue(env.scenario.switchLog.contains("port tap13: no such interface yet"), env.scenario.switchLog)
        vm13 = try env.addVM("vm13", tap: "tap13", address: "198.19.10.13")
        XCTAssertTrue(waitUntil(timeout: 5) { (try? self.portNames(env).contains("tap13")) == true }, "attached when it appears")
        XCTAssertTrue(waitUntil(timeout: 2) { (try? env.macs().contains { $0.mac == mac && $0.type == "static" }) == true },
                      "with its static MAC")
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.21").0)

        XCTAssertEqual(env.scenario.stopSwitch(), 0)
        let stateFile = env.workDir + "/state.json"
        try "{\"version\": 1, \"ports\": [".write(toFile: stateFile, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try env.scenario.startSwitch(), "vxsw refuses to start on a corrupt state file") { error in
            XCTAssertTrue("\(error)".contains("state file \(stateFile): not valid JSON"), "\(error)")
            XCTAssertTrue("\(error)".contains("move it away"), "\(error)")
        }
        XCTAssertFalse(try env.xdpAttached("ul0"), "nothing left attached")
        XCTAssertEqual(try String(contentsOfFile: stateFile, encoding: .utf8), "{\"version\": 1, \"ports\": [", "the file is left as it was")
    }

    private func portNames(_ env: RunningLab) throws -> [String] {
        let ports: [PortView] = try env.show(["ports"]).decode()
        return ports.map(\.name)
    }
}
