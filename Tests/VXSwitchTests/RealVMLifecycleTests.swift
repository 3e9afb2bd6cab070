import Foundation
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// A real guest's tap through the VM's life, with nothing but qemu and vxsw's config:
/// vxsw starts before the VM (its tap is attached when qemu creates it), the VM crashes
/// (qemu killed: the tap vanishes without `port del`), and the VM starts again (a new tap of
/// the same name). The guest keeps its network each time.
final class RealVMLifecycleTests: XCTestCase {
    override func setUpWithError() throws {
        try RealVMRig.skipUnlessAvailable()
    }

    func testGuestKeepsItsPortAcrossStartCrashAndRestart() throws {
        let (rig, workDir) = try RealVMRig.withRemoteBridge(tag: "c")
        defer { rig.teardown(); try? FileManager.default.removeItem(atPath: workDir) }
        let g2 = try rig.startGuest("g2", in: rig.hv2, tap: "tap2", mac: "52:54:00:78:00:02", ipv4CIDR: "198.19.78.2/24")
        try rig.attach(g2)
        try g2.waitUntilBooted()

        // vxsw first, with tap1 in its config: the VM is not running yet.
        let socket = workDir + "/vxsw.sock", config = workDir + "/vxsw.yaml"
        try rig.vxswConfig(taps: ["tap1"], socket: socket, header: "RealVMLifecycleTests").write(toFile: config, atomically: true, encoding: .utf8)
        let binary = try vxswBinary()
        let vxsw = try startSwitchProcess(binary: binary, config: config, socket: socket, in: rig.hv1, logPath: workDir + "/vxsw.log")
        defer { _ = vxsw.stop() }
        XCTAssertTrue(vxsw.log.contains("tap1: no such interface yet"), "a configured port waits for its tap:\n\(vxsw.log)")
        func attached() -> Bool {
            let out = try? VXLabKit.run([binary, "show", "ports", "--json", "--socket", socket], check: false)
            let ports = out.flatMap { try? JSONDecoder().decode([PortView].self, from: Data($0.output.utf8)) } ?? []
            return ports.contains { $0.name == "tap1" }
        }

        for life in ["first start", "restart after a crash"] {
            let g1 = try rig.startGuest("g1", in: rig.hv1, tap: "tap1", mac: "52:54:00:78:00:01", ipv4CIDR: "198.19.78.1/24")
            let appeared = Date()
            XCTAssertTrue(waitUntil(timeout: 5, attached), "\(life): vxsw attaches the new tap:\n\(vxsw.log)")
            print(String(format: "real VM %@: tap1 attached %.2f s after qemu created it", life, -appeared.timeIntervalSinceNow))
            try rig.hv1.exec(["ip", "link", "set", "tap1", "up"])
            try g1.waitUntilBooted()
            try g1.assertPings("198.19.78.2")
            let tcp = try g1.tcpThroughput(to: g2, serverAddress: "198.19.78.2", seconds: 2)
            XCTAssertGreaterThan(tcp.bytes, 0, "\(life): TCP from the guest")

            // The VM crashes: qemu dies without a hook, and its tap goes with it.
            let pid = try XCTUnwrap(g1.pid)
            kill(pid, SIGKILL)
            XCTAssertTrue(waitUntil(timeout: 5) { !attached() }, "\(life): the dead VM's port is detached")
            g1.stop()
        }
        XCTAssertTrue(vxsw.log.contains("tap1 went away"), vxsw.log)
        XCTAssertTrue(vxsw.isRunning, "vxsw kept running through it all")
    }
}
