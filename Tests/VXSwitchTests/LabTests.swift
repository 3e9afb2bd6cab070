import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// The README's main job, as a test: the whole lab scenario on each underlay family.
final class LabTests: XCTestCase {
    func runLab(_ underlay: LabTopology.Underlay, _ controlPlane: LabTopology.ControlPlane = .static) throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
        if controlPlane == .evpn { try XCTSkipUnless(FRRInstance.isInstalled, "needs FRR (tools/install-deps installs it)") }
        let reports = LabRunner(binary: try vxswBinary(), iperfSeconds: 2).run([LabRunner.Run(underlay, controlPlane)])
        let report = try XCTUnwrap(reports.first)
        for check in report.checks where !check.passed {
            XCTFail("\(underlay): \(check.name): \(check.detail)\n\(report.log.suffix(2000))")
        }
        XCTAssertGreaterThanOrEqual(report.checks.count, 10)
    }

    func testLabOverIPv4Underlay() throws { try runLab(.ipv4) }

    func testLabOverIPv6Underlay() throws { try runLab(.ipv6) }

    /// Issue 3's lab: hv2 is an FRR VTEP; no static VTEP or MAC entries on either side.
    func testLabWithEVPNAgainstFRR() throws { try runLab(.ipv4, .evpn) }

    /// Issue 13's lab: two vxsw route a tenant's two subnets through their anycast gateways.
    func testRoutedLab() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
        try XCTSkipUnless(FRRInstance.isInstalled, "needs FRR (tools/install-deps installs it)")
        let report = try XCTUnwrap(LabRunner(binary: try vxswBinary(), iperfSeconds: 2).run([.routed]).first)
        for check in report.checks where !check.passed { XCTFail("routed: \(check.name): \(check.detail)\n\(report.log.suffix(2000))") }
        XCTAssertGreaterThanOrEqual(report.checks.count, 10)
    }
}
