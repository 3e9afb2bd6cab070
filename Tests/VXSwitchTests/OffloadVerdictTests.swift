@testable import VXBench
import XCTest

@testable import VXSwitch

/// `vxsw bench offload`'s verdict: the right winner per traffic kind, from the figures given.
final class OffloadVerdictTests: XCTestCase {
    func testVerdictNamesTheWinnerPerTrafficKindWithItsRatio() {
        var settings = BenchSettings()
        settings.contenders = OffloadVerdict.contenders
        settings.sizes = [64]
        var report = BenchReport(command: "vxsw bench offload", date: "2026-01-01T00:00:00Z",
                                 machine: BenchMachine(cpuModel: "Test CPU", vcpus: 2, kernel: "6.18", loadAverageAtStart: "0.1"),
                                 build: "release", settings: settings)
        let pps = ["kernel": 0.2, "kernel-nooffload": 0.2, "vxsw-afxdp": 0.5, "vxsw-xdp": 1.0]
        let tcp = ["kernel": 10.0, "kernel-nooffload": 2.0, "vxsw-afxdp": 0.8, "vxsw-xdp": 3.0]
        for c in OffloadVerdict.contenders {
            for d in BenchDirection.allCases {
                var p = PacketResult(contender: c, direction: d, size: 64)
                p.samples = [BenchSample(offeredMpps: 2, deliveredMpps: pps[c]!, innerGbps: 0, cpuBusy: [])]
                report.packets.append(p)
            }
            var t = TCPResult(contender: c, streams: 1)
            t.gbps = [tcp[c]!]
            report.tcp.append(t)
        }
        let text = OffloadVerdict.markdown(report, host: "test rig")
        XCTAssertTrue(text.contains("| vxsw XDP fast path | 1.000 | 1.000 | 3.00 | — |"), text)
        XCTAssertTrue(text.contains("**Small packets (64 B, packet rate)**: vxsw XDP fast path, 1.000 Mpps"), text)
        XCTAssertTrue(text.contains("5.0× the kernel path with offloads"), text)
        XCTAssertTrue(text.contains("**Bulk TCP (one stream)**: kernel bridge+vxlan, offloads on, 10.00 Gbit/s"), text)
        XCTAssertTrue(text.contains("Offloads are worth 5.0× to the kernel path"), text)
        XCTAssertTrue(text.contains("AF_XDP 0.80, XDP fast path 3.00 Gbit/s"), text)
    }
}
