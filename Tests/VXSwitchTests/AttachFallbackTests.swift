import Foundation
import VXConfig
import VXLabKit
import VXSwitch
import XCTest

/// `datapath.attach: auto` on an interface whose driver has no native XDP (a macvlan) attaches
/// generic XDP, at start and at run time, and the port forwards; a `port add` that fails
/// (native forced on such an interface) leaves nothing behind.
final class AttachFallbackTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
    }

    func testAutoAttachesGenericWhereThereIsNoNativeXDPAtStartAndAtRunTime() throws {
        let env = try RunningLab(tag: "ag")
        defer { env.close() }
        // At start: hv1's uplink and tap11 become macvlans over their veths, and vxsw starts
        // again. The uplink is attached first: its socket is the UMEM's own, the one a second
        // bind after a failed native attach found taken.
        env.scenario.stopSwitch()
        let hv1 = env.lab.hv1
        for name in ["ul0", "tap11"] {
            try hv1.exec(["ip", "link", "set", name, "down"])
            try hv1.exec(["ip", "link", "set", name, "name", name + "l"])
            try hv1.exec(["ip", "link", "set", name + "l", "up"])
            try RunningLab.macvlan(name, over: name + "l", in: hv1)
        }
        try hv1.exec(["ip", "addr", "flush", "dev", "ul0l"])
        try hv1.exec(["ip", "addr", "add", "\(env.lab.hv1VTEP)/24", "dev", "ul0"])
        try env.scenario.startSwitch()
        XCTAssertEqual(try env.xdpMode("ul0"), "xdpgeneric", "the macvlan uplink got generic XDP")
        XCTAssertEqual(try env.xdpMode("tap11"), "xdpgeneric", "the macvlan port too")
        XCTAssertEqual(try env.xdpMode("tap12"), "xdp", "the veth port native XDP")
        XCTAssertTrue(env.scenario.switchLog.contains("ul0: no native XDP"), env.scenario.switchLog)
        let (started, summary) = try env.scenario.ping(env.lab.vm("vm11").namespace, "198.19.10.21")
        XCTAssertTrue(started, "vm11 switches through its generic port and uplink: \(summary)")
        XCTAssertTrue(try env.scenario.ping(env.lab.vm("vm12").namespace, "198.19.20.22").0, "and vm12 through its native one")

        // At run time.
        let vm13 = try env.addMacvlanVM("m13", port: "mvt13", address: "198.19.10.13")
        defer { vm13.remove() }
        let add = try env.vxsw(["port", "add", "mvt13", "--vni", "1000"])
        XCTAssertTrue(add.succeeded, add.error)
        XCTAssertEqual(try env.xdpMode("mvt13"), "xdpgeneric")
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.21").0, "the run-time macvlan port switches")
        XCTAssertTrue(try env.scenario.ping(vm13, "198.19.10.11").0, "to the other generic port too")
        let del = try env.vxsw(["port", "del", "mvt13"])
        XCTAssertTrue(del.succeeded, del.error)
        XCTAssertNil(try env.xdpMode("mvt13"), "detached")
    }

    func testAFailedPortAddLeavesNothingBehind() throws {
        let env = try RunningLab(tag: "an", attach: "native")
        defer { env.close() }
        var vm14 = try env.addMacvlanVM("m14", port: "mvt14", address: "198.19.10.14")
        defer { vm14.remove() }
        let add = try env.vxsw(["port", "add", "mvt14", "--vni", "1000"])
        XCTAssertFalse(add.succeeded, "native XDP on a macvlan fails")
        XCTAssertTrue(add.error.contains("native"), add.error)

        let ports: [PortView] = try env.show(["ports"]).decode()
        XCTAssertFalse(ports.contains { $0.name == "mvt14" }, "show ports does not list it: \(ports.map(\.name))")
        XCTAssertNil(try env.xdpMode("mvt14"), "no XDP program stays on it")
        let stats = try env.stats()
        XCTAssertFalse(stats.sockets.contains { $0.port == "mvt14" }, "no socket of it")
        // Broadcasts in VNI 1000 (vm11's ARP for an address nobody has) are not copied to it.
        let before = try interfaceCounter("tx_packets", of: "mvt14", in: env.lab.hv1)
        let floodsBefore = try XCTUnwrap(stats.vnis.first { $0.vni == 1000 }).floods
        _ = try env.lab.vm("vm11").namespace.exec(["ping", "-c", "3", "-i", "0.2", "-W", "1", "198.19.10.99"], check: false)
        let floodsAfter = try XCTUnwrap(try env.stats().vnis.first { $0.vni == 1000 }).floods
        XCTAssertGreaterThan(floodsAfter, floodsBefore, "vm11's ARP was flooded")
        XCTAssertEqual(try interfaceCounter("tx_packets", of: "mvt14", in: env.lab.hv1), before, "no flood copy went to the failed port")
        let del = try env.vxsw(["port", "del", "mvt14"])
        XCTAssertTrue(del.output.contains("not attached"), "nothing to delete: \(del.output) \(del.error)")

        // A good port of the same name (a veth) is added and switches.
        vm14.remove()
        vm14 = try env.addVM("m14", tap: "mvt14", address: "198.19.10.14")
        let again = try env.vxsw(["port", "add", "mvt14", "--vni", "1000"])
        XCTAssertTrue(again.succeeded, again.error)
        XCTAssertEqual(try env.xdpMode("mvt14"), "xdp")
        XCTAssertTrue(try env.scenario.ping(vm14, "198.19.10.21").0, "the good port switches")
        XCTAssertTrue(env.scenario.isSwitchRunning)
    }
}
