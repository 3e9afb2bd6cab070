import CVXSW
import Foundation
@testable import VXBench
@testable import VXDatapath
import VXLabKit
import XCTest

@testable import VXSwitch

/// `vxsw bench` for real, smallest form: needs root (namespaces, XDP). Checks what the
/// results hold, never how fast: speed is for the benchmark to show.
final class BenchRootTests: XCTestCase {
    func testGeneratorVariesSourceMACPortAndKeepsChecksum() throws {
        try XCTSkipUnless(isRoot, "needs root: loads a BPF program (BPF_PROG_RUN)")
        let generator = try TrafficGenerator()
        let (frame, layout) = BenchFrames.template(direction: .decap, size: 128)
        try generator.configure(flows: 40000, macs: 3, layout: layout, ipSourceByte2: BenchAddresses.generatorIP[2])
        // The sequence number is per CPU: run on a thread pinned to one CPU.
        let runs = PinnedRuns()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            runs.pinned = cvxsw_pin_current_thread(cvxsw_first_allowed_cpu())
            for _ in 0..<40000 {
                guard let r = try? generator.testRun(frame) else { break }
                runs.outputs.append(r)
            }
            done.signal()
        }
        thread.start()
        done.wait()
        XCTAssertEqual(runs.pinned, 0)
        XCTAssertEqual(runs.outputs.count, 40000)
        var seen: [(mac: UInt8, sport: Int, outer: Int, ip2: UInt8)] = []
        for (verdict, out) in runs.outputs {
            XCTAssertEqual(verdict, 3) // XDP_TX
            XCTAssertEqual(out.count, frame.count)
            seen.append((out[50 + 11], Int(out[84]) << 8 | Int(out[85]), Int(out[34]) << 8 | Int(out[35]), out[64 + 14]))
            if seen.count == 1 || seen.count == 32769 {
                var sum: UInt32 = 0
                for i in stride(from: 64, to: 84, by: 2) { sum += UInt32(out[i]) << 8 | UInt32(out[i + 1]) }
                while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
                XCTAssertEqual(sum, 0xffff, "inner IPv4 checksum after run \(seen.count)")
            }
        }
        XCTAssertEqual(seen[0].mac, 1)
        XCTAssertEqual(seen[1].mac, 2)
        XCTAssertEqual(seen[3].mac, 1)
        XCTAssertEqual(seen[0].sport, 1024)
        XCTAssertEqual(seen[1].sport, 1025)
        XCTAssertEqual(seen[0].outer, 49152)
        XCTAssertEqual(seen[0].ip2, 10)
        XCTAssertEqual(seen[32768].ip2, 11) // flow 32768: the next source address block
        XCTAssertEqual(generator.sent().frames, 40000)
    }

    func testSmallestBenchProducesCompleteResults() throws {
        try XCTSkipUnless(isRoot, "needs root: creates network namespaces and attaches XDP programs")
        var s = BenchSettings()
        s.sizes = [64]
        s.runs = 1
        s.seconds = 1
        s.contenders = ["ceiling"]
        s.tcpSeconds = 0
        s.pings = 0
        let runner = BenchRunner(settings: s, binary: "/nonexistent/debug/vxsw") { _ in }
        let report = runner.run(command: "test")
        XCTAssertEqual(report.contenders.keys.sorted(), ["ceiling"])
        XCTAssertEqual(report.packets.count, 2) // encap and decap
        for p in report.packets {
            XCTAssertNil(p.error)
            XCTAssertEqual(p.samples.count, 1)
            XCTAssertEqual(p.size, 64)
            XCTAssertGreaterThan(p.mpps.median, 0, "the sink counted the generator's frames")
            XCTAssertEqual(p.cpu.count, ProcessInfo.processInfo.activeProcessorCount)
        }
        XCTAssertEqual(Set(report.packets.map(\.direction)), [.encap, .decap])
        let dir = NSTemporaryDirectory() + "vxsw-bench-test-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try BenchReportWriter.write(report, to: dir)
        XCTAssertEqual(files.count, 6)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/latest.svg"))
        // Nothing left behind: no namespace of ours.
        let namespaces = try VXLabKit.run(["ip", "netns", "list"]).output
        XCTAssertFalse(namespaces.contains("vxb\(labTag)-"))
    }
}

/// What the pinned generator thread saw, read after it signalled.
final class PinnedRuns: @unchecked Sendable {
    var pinned: Int32 = -1
    var outputs: [(verdict: Int32, frame: [UInt8])] = []
}
