import Foundation
import VXLabKit
@testable import VXBench
@testable import VXConfig
import XCTest

@testable import VXSwitch

/// Pure parts of `vxsw bench`: frames, statistics, parsing, output. No root needed.
final class BenchTests: XCTestCase {
    func ipv4ChecksumValid(_ f: [UInt8], at o: Int) -> Bool {
        var sum: UInt32 = 0
        for i in stride(from: o, to: o + 20, by: 2) { sum += UInt32(f[i]) << 8 | UInt32(f[i + 1]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return sum == 0xffff
    }

    func testPlainFrameIsSizeMinusFCSWithValidHeaders() {
        let (f, layout) = BenchFrames.template(direction: .encap, size: 64)
        XCTAssertEqual(layout, .plain)
        XCTAssertEqual(f.count, 60)
        XCTAssertEqual(Array(f[0..<6]), BenchAddresses.remoteVMMAC)
        XCTAssertEqual(Array(f[6..<12]), BenchAddresses.generatorMAC)
        XCTAssertEqual(f[12...13], [0x08, 0x00])
        XCTAssertEqual(Int(f[16]) << 8 | Int(f[17]), 46) // IPv4 total length
        XCTAssertTrue(ipv4ChecksumValid(f, at: 14))
        XCTAssertEqual(Int(f[36]) << 8 | Int(f[37]), 9)  // UDP discard
        XCTAssertEqual(Int(f[38]) << 8 | Int(f[39]), 26) // UDP length
    }

    func testVXLANFrameCarriesTheInnerFrameBehind50Bytes() {
        let (f, layout) = BenchFrames.template(direction: .decap, size: 1450)
        XCTAssertEqual(layout, .vxlan4)
        XCTAssertEqual(f.count, 50 + 1446)
        XCTAssertEqual(Array(f[0..<6]), BenchAddresses.dutUplinkMAC)
        XCTAssertEqual(Array(f[30..<34]), BenchAddresses.dutVTEP)
        XCTAssertEqual(Int(f[16]) << 8 | Int(f[17]), 1496 - 14)
        XCTAssertTrue(ipv4ChecksumValid(f, at: 14))
        XCTAssertEqual(Int(f[36]) << 8 | Int(f[37]), 4789)
        XCTAssertEqual(f[42], 0x08)
        XCTAssertEqual(Array(f[46..<49]), [0x00, 0x03, 0xe8]) // VNI 1000
        XCTAssertEqual(Array(f[50..<56]), BenchAddresses.vmMAC)
        XCTAssertTrue(ipv4ChecksumValid(f, at: 64))
    }

    func testLineRate() {
        XCTAssertEqual(lineRateMpps(size: 64), 14.88, accuracy: 0.01)
        XCTAssertEqual(lineRateMpps(size: 1518), 0.8127, accuracy: 0.001)
    }

    func testSpreadIsMedianMinMax() {
        XCTAssertEqual(Spread([3, 1, 2]), Spread(median: 2, min: 1, max: 3))
        XCTAssertEqual(Spread([4, 1, 2, 3]).median, 2.5)
        XCTAssertEqual(Spread([]).median, 0)
    }

    func testCPUSampleBusyPercentPerCore() {
        let a = CPUSample(procStat: "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\ncpu1 0 0 0 1000 0 0 0 0 0 0\n")
        let b = CPUSample(procStat: "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 150 0 130 820 0 0 0 0 0 0\ncpu1 0 0 0 1000 0 0 0 0 0 0\n")
        let busy = b.busyPercent(since: a)
        XCTAssertEqual(busy.count, 2)
        XCTAssertEqual(busy[0], 80, accuracy: 0.001) // 80 busy of 100 ticks
        XCTAssertEqual(busy[1], 0)
    }

    /// A process's CPU ticks grow while it computes; the quiet wait leaves its own work out.
    func testProcessTicksCountThisProcessAndTheQuietWaitExcludesIt() {
        let before = processTicks([getpid()])
        let until = Date().addingTimeInterval(0.3)
        var x: UInt64 = 1
        while Date() < until { x = x &* 6364136223846793005 &+ 1 }
        XCTAssertNotEqual(x, 0)
        XCTAssertGreaterThan(processTicks([getpid()]), before, "ticks while busy")
        XCTAssertEqual(processTicks([Int32.max]), 0, "no such process")
        // Busy in a thread of our own, excluded: the machine counts as quiet (unless something
        // else on it is busy, which a timeout of 3 s then reports rather than hangs).
        let stop = Date().addingTimeInterval(3)
        Thread.detachNewThread { var y: UInt64 = 1; while Date() < stop { y = y &* 3 &+ 1 }; _ = y }
        let q = waitUntilQuiet(excluding: [getpid()], window: 0.2, timeout: 2.5)
        if q.quiet { XCTAssertLessThan(q.seconds, 2.5) } else { print("BenchTests: the machine was busy besides this test; quiet wait timed out as it should") }
    }

    func testPingParsingAndQuantiles() {
        let out = """
        PING 198.19.10.2 (198.19.10.2) 56(84) bytes of data.
        64 bytes from 198.19.10.2: icmp_seq=1 ttl=64 time=0.105 ms
        64 bytes from 198.19.10.2: icmp_seq=2 ttl=64 time=1.25 ms
        64 bytes from 198.19.10.2: icmp_seq=3 ttl=64 time=0.090 ms
        """
        let rtts = BenchRunner.pingRTTs(out)
        XCTAssertEqual(rtts, [0.105, 1.25, 0.090])
        XCTAssertEqual(BenchRunner.quantile(rtts, 0.5), 0.105)
        XCTAssertEqual(BenchRunner.quantile(rtts, 0.99), 1.25)
    }

    func testSettingsValidation() {
        var s = BenchSettings()
        XCTAssertNil(s.problem())
        s.sizes = [8950]
        XCTAssertNotNil(s.problem())
        s = .quick
        XCTAssertEqual(s.sizes, [64, 1450])
        XCTAssertEqual(s.runs, 1)
        s.contenders = ["nope"]
        XCTAssertNotNil(s.problem())
    }

    func testReportRendersTablePlotAndJSON() throws {
        var settings = BenchSettings.quick
        settings.contenders = ["ceiling", "kernel"]
        var report = BenchReport(command: "vxsw bench --quick", date: "2026-01-01T00:00:00Z",
                                 machine: BenchMachine(cpuModel: "Test CPU", vcpus: 2, kernel: "6.18", loadAverageAtStart: "0.1"),
                                 build: "release", settings: settings)
        report.contenders = ["ceiling": "rig ceiling", "kernel": "bridge"]
        var p = PacketResult(contender: "kernel", direction: .encap, size: 64)
        p.samples = [BenchSample(offeredMpps: 1, deliveredMpps: 0.3, innerGbps: 0.15, cpuBusy: [100, 10])]
        report.packets = [p]
        var failed = PacketResult(contender: "ceiling", direction: .decap, size: 1450)
        failed.error = "generator: boom"
        report.packets.append(failed)
        let md = BenchReportWriter.markdown(report)
        XCTAssertTrue(md.contains("`vxsw bench --quick`"))
        XCTAssertTrue(md.contains("Test CPU, 2 vCPUs, kernel 6.18"))
        XCTAssertTrue(md.contains("| kernel | 64 | 0.300 (0.300–0.300) | 1.000 | 0.15 | cpu0 100%, cpu1 10% | 14.88 |"))
        XCTAssertTrue(md.contains("generator: boom"))
        let svg = BenchReportWriter.svg(report)
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("10G line rate"))
        XCTAssertTrue(svg.contains("kernel encap"))
        let json = try JSONEncoder().encode(report)
        let back = try JSONDecoder().decode(BenchReport.self, from: json)
        XCTAssertEqual(back.packets.first?.mpps.median, 0.3)
        let object = try JSONSerialization.jsonObject(with: json) as? [String: Any]
        XCTAssertNotNil((object?["packets"] as? [[String: Any]])?.first?["mpps"])
    }

    func testSweepChangesOneKnobAtATimeAndRepeatsTheDefaults() {
        let v = BenchSweep.variants
        XCTAssertEqual(v.first?.knobs, VXSWKnobs.defaults)
        XCTAssertEqual(v.last?.knobs, VXSWKnobs.defaults)
        XCTAssertEqual(Set(v.map(\.knobs.ringSize)), [512, 2048, 4096, 8192])
        XCTAssertEqual(Set(v.map(\.knobs.batchSize)), [16, 64, 256])
        XCTAssertEqual(Set(v.map(\.knobs.poll)), ["busy", "adaptive", "interrupt"])
        XCTAssertTrue(v.contains { $0.knobs.busyPollMicroseconds != nil && $0.knobs.preferBusyPoll })
        for variant in v {
            XCTAssertGreaterThanOrEqual(variant.knobs.frames, 4 * variant.knobs.ringSize, variant.label)
        }
    }

    func testVXSWContenderConfigsParse() throws {
        var knobs = VXSWKnobs()
        knobs.busyPollMicroseconds = 20
        knobs.poll = "interrupt"
        let xdp = VXSWContender(binary: "/x/release/vxsw", cpu: 1, knobs: knobs, fastPath: true)
        XCTAssertEqual(xdp.id, "vxsw-xdp")
        let config = try SwitchConfig.parse(yaml: xdp.config(socket: "/tmp/s"))
        XCTAssertEqual(config.datapath.fastPath, .on)
        XCTAssertEqual(config.datapath.poll, .interrupt)
        XCTAssertEqual(config.datapath.busyPoll, .init(timeoutMicroseconds: 20, budget: 64, prefer: true))
        let afxdp = VXSWContender(binary: "/x/release/vxsw", cpu: 1)
        XCTAssertEqual(afxdp.id, "vxsw-afxdp")
        let plain = try SwitchConfig.parse(yaml: afxdp.config(socket: "/tmp/s"))
        XCTAssertEqual(plain.datapath.fastPath, .off)
        XCTAssertNil(plain.datapath.busyPoll)
        XCTAssertEqual(plain.datapath.ringSize, 2048)
        XCTAssertEqual(plain.ports.first?.io, .auto)
        // The VM port on a packet socket with the virtio-net header: on request, not by default.
        let packet = VXSWContender(binary: "/x/release/vxsw", cpu: 1, portIO: .packet)
        XCTAssertEqual(packet.id, "vxsw-packet")
        let onPacket = try SwitchConfig.parse(yaml: packet.config(socket: "/tmp/s"))
        XCTAssertEqual(onPacket.ports.first?.io, .packet)
        XCTAssertEqual(onPacket.datapath.fastPath, .off)
        XCTAssertFalse(BenchSettings.allContenders.contains("vxsw-packet"))
        var settings = BenchSettings()
        settings.contenders = ["kernel", "vxsw-packet"]
        XCTAssertNil(settings.problem())
    }

    func testReportShowsFastPathCountersAndSweep() {
        var settings = BenchSettings.quick
        settings.contenders = ["vxsw-xdp"]
        settings.sweep = true
        var report = BenchReport(command: "vxsw bench --sweep", date: "2026-01-01T00:00:00Z",
                                 machine: BenchMachine(cpuModel: "Test CPU", vcpus: 2, kernel: "6.18", loadAverageAtStart: "0.1"),
                                 build: "release", settings: settings)
        var p = PacketResult(contender: "vxsw-xdp", direction: .encap, size: 64)
        p.samples = [BenchSample(offeredMpps: 2, deliveredMpps: 1, innerGbps: 0.5, cpuBusy: [100, 5],
                                 xdp: ["fast_encap": 990, "access_to_switch": 10, "fast_decap": 0])]
        report.packets = [p]
        func sample(_ mpps: Double) -> [PacketResult] {
            var e = PacketResult(contender: "vxsw-afxdp", direction: .encap, size: 64)
            e.samples = [BenchSample(offeredMpps: 2, deliveredMpps: mpps, innerGbps: 0, cpuBusy: [90, 100])]
            return [e]
        }
        var ring = VXSWKnobs()
        ring.ringSize = 4096
        report.sweep = [SweepResult(label: "defaults", knobs: .defaults, packets: sample(0.4)),
                        SweepResult(label: "ring-size 4096", knobs: ring, packets: sample(0.5))]
        let md = BenchReportWriter.markdown(report)
        XCTAssertTrue(md.contains("| encap | 64 | 990 | 0 | 10 | 99.00% |"), md)
        XCTAssertTrue(md.contains("| ring-size 4096 | 0.500 (0.500–0.500) | +25% | cpu0 90%, cpu1 100% |"), md)
        XCTAssertTrue(md.contains("| defaults | 0.400 (0.400–0.400) | +0% |"), md)
    }
}
