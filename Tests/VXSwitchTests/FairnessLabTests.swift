import Foundation
import VXBench
import VXConfig
import VXDatapath
import VXLabKit
import VXSwitch
import XCTest

/// One VM floods known unicast (to a sink VM on hv1: storm control does not limit it) as fast
/// as BPF/trafficgen.c sends, while a third VM pings vm21 across VXLAN in the same VNI: the worker
/// serves its sockets in turn, one batch each, so the ping loses (almost) nothing; and with a
/// small UMEM the flood drains the frame pool without emptying the quiet port's fill ring.
/// The XDP fast path is off: known unicast between local ports would not reach the worker.
final class FairnessLabTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
    }

    func testAPingKeepsGoingWhileAnotherVMFloodsKnownUnicast() throws {
        let env = try RunningLab(tag: "fa", fastPath: "false")
        defer { env.close() }
        let run = try flood(env, pings: 300, interval: "0.01")
        XCTAssertLessThan(run.pingLoss, 0.01, "ping loss under the flood: \(run.summary)")
        XCTAssertGreaterThan(run.delivered, 0, "the flood went through")
    }

    func testTheQuietPortsFillRingNeverRunsDryUnderAFlood() throws {
        // 2,048 frames for six sockets: the flood's frames in the sink's tx ring can hold all
        // the pool has; the quiet port receives ~1,000 frames meanwhile, more than its fill ring holds.
        let env = try RunningLab(tag: "ff", fastPath: "false", frames: 2048)
        defer { env.close() }
        let run = try flood(env, pings: 1000, interval: "0.003")
        let quiet = try XCTUnwrap(run.quiet)
        XCTAssertEqual(run.quietPort?.fillRingEmpty, 0, "show ports has the same counters, summed per port")
        print("kernel drops on vfl3: \(quiet); on the flooder's vfl1: \(run.flooder.map { "\($0)" } ?? "-")")
        XCTAssertEqual(quiet.fillRingEmpty, 0, "the quiet port's fill ring never ran dry: \(run.summary)")
        XCTAssertEqual(quiet.rxDropped, 0, "nor did its kernel drop anything")
        XCTAssertLessThan(run.pingLoss, 0.01, run.summary)
        let ports = try env.vxsw(["show", "ports"])
        XCTAssertTrue(ports.output.contains("Kernel drops (rx dropped / rx ring full / fill ring empty / tx invalid)"), ports.output)
        let stats = try env.vxsw(["show", "stats"])
        XCTAssertTrue(stats.output.contains("kernel drops: rx dropped / rx ring full / fill ring empty / tx invalid"), stats.output)
    }

    struct FloodRun {
        var pingLoss: Double
        var delivered: UInt64
        var summary: String
        /// The kernel's drops on the quiet VM's port and on the flooder's, at the end of the flood.
        var quiet: XSKKernelDrops?
        var flooder: XSKKernelDrops?
        /// The quiet port's row in `show stats`/`show ports`.
        var quietPort: XSKKernelDrops?
    }

    /// Floods from VM "fl" (port vfl1) to VM "sk" (port vfl2) for as long as VM "qt" (port vfl3) pings vm21
    /// `pings` times every `interval` seconds; prints both rates.
    private func flood(_ env: RunningLab, pings: Int, interval: String) throws -> FloodRun {
        let flooder = try env.addVM("fl", tap: "vfl1", address: "198.19.10.51")
        defer { flooder.remove() }
        let sink = try env.addVM("sk", tap: "vfl2", address: "198.19.10.52")
        defer { sink.remove() }
        // The quiet VM's port comes after the flooder's in the worker's socket table: served
        // in a fixed order, it would find the pool emptied by the flooder's refills.
        let quiet = try env.addVM("qt", tap: "vfl3", address: "198.19.10.53")
        defer { quiet.remove() }
        for port in ["vfl1", "vfl2", "vfl3"] {
            let add = try env.vxsw(["port", "add", port, "--vni", "1000"])
            XCTAssertTrue(add.succeeded, add.error)
        }
        // Both MACs learned: the flood is known unicast.
        XCTAssertTrue(try env.scenario.ping(flooder, "198.19.10.52").0)
        func mac(_ ns: NetworkNamespace) throws -> [UInt8] {
            try ns.exec(["cat", "/sys/class/net/eth0/address"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
                .split(separator: ":").map { UInt8($0, radix: 16)! }
        }
        let frame = BenchFrames.plain(size: 64, src: try mac(flooder), dst: try mac(sink),
                                      srcIP: [198, 19, 10, 51], dstIP: [198, 19, 10, 52])
        let generator = try TrafficGenerator()
        try generator.configure(flows: 1, macs: 1, layout: .plain, ipSourceByte2: 10)

        let sinkRx0 = try interfaceCounter("rx_packets", of: "eth0", in: sink)
        let stop = Atomic(false)
        let done = DispatchSemaphore(value: 0)
        let status = Atomic<Int32>(0)
        let started = Date()
        let thread = Thread {
            status.value = (try? flooder.enter { () -> Int32 in
                let index = Int32(if_nametoindex("eth0"))
                guard index > 0 else { return -ENODEV }
                return generator.run(frame, ifindex: index, seconds: 60, chunk: 1 << 14) { stop.value }
            }) ?? -ENODEV
            done.signal()
        }
        thread.start()
        var joined = false
        defer { if !joined { stop.value = true; done.wait() } }
        Thread.sleep(forTimeInterval: 0.5) // the flood is on before the first ping
        let ping = try quiet.exec(
            ["ping", "-c", String(pings), "-i", interval, "-W", "2", "-q", "198.19.10.21"], check: false)
        let seconds = Date().timeIntervalSince(started)
        let sent = generator.sent().frames
        let delivered = try interfaceCounter("rx_packets", of: "eth0", in: sink) - sinkRx0
        let stats = try env.stats()
        let sockets = stats.sockets
        print("flooder's port drops: \(stats.ports.first { $0.name == "vfl1" }?.drops ?? [:])")
        stop.value = true
        done.wait()
        joined = true
        XCTAssertEqual(status.value, 0, "the generator ran")

        let line = ping.output.split(separator: "\n").first { $0.contains("packets transmitted") }.map(String.init) ?? ping.error
        let numbers = line.split(separator: " ").compactMap { Int($0) }
        let transmitted = numbers.first ?? 0, received = numbers.dropFirst().first ?? 0
        let loss = transmitted > 0 ? 1 - Double(received) / Double(transmitted) : 1
        let summary = String(format: "flood sent %.0f frames/s, delivered to the sink %.0f frames/s; ping %d/%d answered (%.2f%% loss) in %.1f s",
                             Double(sent) / seconds, Double(delivered) / seconds, received, transmitted, loss * 100, seconds)
        print(summary)
        return FloodRun(pingLoss: loss, delivered: delivered, summary: summary,
                        quiet: sockets.first { $0.port == "vfl3" }?.kernelDrops,
                        flooder: sockets.first { $0.port == "vfl1" }?.kernelDrops,
                        quietPort: stats.ports.first { $0.name == "vfl3" }?.kernelDrops)
    }

}

/// A flag the test thread sets and the generator thread reads.
private final class Atomic<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
