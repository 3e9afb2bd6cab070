import Foundation
import VXLab
import VXLabKit
import XCTest

// The rig itself (`RealVMRig`: namespaces, underlay, bridge + vxlan, guests) and the guests'
// iperf3 and ping helpers live in VXLabKit, shared with `vxsw bench vm`.

extension RealVMRig {
    /// Skips (never silently passes) when this host cannot run real guests.
    static func skipUnlessAvailable() throws {
        let reason = unavailableReason()
        try XCTSkipUnless(reason == nil, reason ?? "")
    }

    /// A rig whose hv2 is a Linux bridge + kernel vxlan toward hv1 (hv1 is the test's), and a
    /// work directory for the test; the caller tears down both in a `defer`.
    static func withRemoteBridge(tag: String) throws -> (RealVMRig, String) {
        let rig = try RealVMRig(tag: tag)
        let workDir = NSTemporaryDirectory() + "vxsw-realvm-\(labTag)\(tag)"
        do {
            try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
            try rig.addBridgeVXLAN(in: rig.hv2, local: rig.hv2Underlay, remote: rig.hv1Underlay)
        } catch {
            rig.teardown()
            try? FileManager.default.removeItem(atPath: workDir)
            throw error
        }
        return (rig, workDir)
    }
}

extension QemuGuest {
    /// Checks the guest offers TSO on eth0 (the default a real guest runs with).
    func assertTSOOn(file: StaticString = #filePath, line: UInt = #line) throws {
        let features = try run("ethtool -k eth0")
        XCTAssertTrue(features.contains("tcp-segmentation-offload: on"),
                      "guest \(name) runs without TSO:\n\(features)", file: file, line: line)
    }

    /// A counter of the guest's TCP stack (`TcpExt` in /proc/net/netstat), e.g. `TCPOFOQueue`,
    /// the segments it received ahead of a gap and had to hold (reordering or loss on the way).
    func tcpExtCounter(_ counter: String) throws -> Int {
        let lines = try run("grep '^TcpExt:' /proc/net/netstat").split(separator: "\n").map { $0.split(separator: " ") }
        guard lines.count == 2, let i = lines[0].firstIndex(of: Substring(counter)), i < lines[1].count,
              let value = Int(lines[1][i]) else { throw LabError("guest \(name): no TcpExt \(counter) in /proc/net/netstat") }
        return value
    }

    /// Pings `address` from the guest; passes when a reply comes (ARP and flooding settle first).
    func assertPings(_ address: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let reply = pings(address)
        XCTAssertTrue(reply.ok, "guest \(name) cannot ping \(address):\n\(reply.output)", file: file, line: line)
    }
}
