import Foundation
import VXLabKit
import XCTest

/// The baseline for real guests: two qemu guests, each on a tap in a Linux bridge with a
/// kernel vxlan, one per hypervisor namespace. What vxsw does with the same guests is
/// compared against this (TCG guests are slow, so only ratios mean something).
final class RealVMBridgeTests: XCTestCase {
    func testGuestsOverLinuxBridgeAndVXLAN() throws {
        try RealVMRig.skipUnlessAvailable()
        let started = Date()
        let rig = try RealVMRig(tag: "br")
        defer { rig.teardown() }
        try rig.addBridgeVXLAN(in: rig.hv1, local: rig.hv1Underlay, remote: rig.hv2Underlay)
        try rig.addBridgeVXLAN(in: rig.hv2, local: rig.hv2Underlay, remote: rig.hv1Underlay)

        let guest1 = try rig.startGuest("g1", in: rig.hv1, tap: "tap1", mac: "02:00:00:00:10:11", ipv4CIDR: "198.19.10.11/24")
        let guest2 = try rig.startGuest("g2", in: rig.hv2, tap: "tap2", mac: "02:00:00:00:10:12", ipv4CIDR: "198.19.10.12/24")
        try rig.attach(guest1)
        try rig.attach(guest2)
        for guest in [guest1, guest2] { try guest.waitUntilBooted() }
        print("real VMs: both guests booted \(String(format: "%.1f", Date().timeIntervalSince(started))) s after the rig started")

        // The console reports exit statuses, and a command past its timeout is interrupted
        // without losing the console.
        XCTAssertThrowsError(try guest1.run("false"))
        XCTAssertThrowsError(try guest1.run("sleep 60", timeout: 2))
        XCTAssertEqual(try guest1.run("echo still here"), "still here\n")

        try guest1.assertTSOOn()
        try guest2.assertTSOOn()
        try guest1.assertPings("198.19.10.12")
        try guest2.assertPings("198.19.10.11")

        for (client, server, address) in [(guest1, guest2, "198.19.10.12"), (guest2, guest1, "198.19.10.11")] {
            let result = try client.tcpThroughput(to: server, serverAddress: address, seconds: 5)
            XCTAssertGreaterThan(result.bytes, 0, "no TCP bytes from \(client.name) to \(server.name)")
            print("real VMs: TCP \(client.name) → \(server.name) via Linux bridge + vxlan: "
                  + "\(String(format: "%.2f", result.gbps)) Gbit/s (\(result.bytes) bytes in 5 s)")
        }
    }
}
