import Foundation
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
}

extension QemuGuest {
    /// Checks the guest offers TSO on eth0 (the default a real guest runs with).
    func assertTSOOn(file: StaticString = #filePath, line: UInt = #line) throws {
        let features = try run("ethtool -k eth0")
        XCTAssertTrue(features.contains("tcp-segmentation-offload: on"),
                      "guest \(name) runs without TSO:\n\(features)", file: file, line: line)
    }

    /// Pings `address` from the guest; passes when a reply comes (ARP and flooding settle first).
    func assertPings(_ address: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let reply = pings(address)
        XCTAssertTrue(reply.ok, "guest \(name) cannot ping \(address):\n\(reply.output)", file: file, line: line)
    }
}
