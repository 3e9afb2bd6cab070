import Foundation
import VXLabKit
import XCTest

/// The committed per-packet cost of the Swift pipeline (Benchmarks/Thresholds/callgrind.json):
/// callgrind counts the instructions of `vxcore-bench count SCENARIO 2000` (a release build of
/// the Benchmarks package, 1,000 VNIs and 100,000 MACs), deterministic whatever the machine's
/// load, and this fails when a scenario costs more than its threshold plus the tolerance.
/// Speed itself is shown by benchmarks; this only guards the instruction count.
final class PipelineCostTests: XCTestCase {
    struct Thresholds: Decodable {
        let tolerance: Double
        let target: Int
        let scenarios: [String: Int]
    }

    static let batches = 2000
    /// `count` runs the batches plus 2 in `verify()`, 64 frames each.
    static var packets: Double { Double((batches + 2) * 64) }

    func testInstructionsPerPacketStayWithinTheCommittedThreshold() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind"),
                          "needs valgrind (tools/install-deps installs it) to count the pipeline's instructions")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let bench = root.appendingPathComponent("Benchmarks").path
        let limits = try JSONDecoder().decode(Thresholds.self, from: Data(contentsOf: URL(fileURLWithPath: bench + "/Thresholds/callgrind.json")))
        let swift = ["/opt/swift/usr/bin/swift"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "swift"
        let build = try VXLabKit.run([swift, "build", "-c", "release", "--product", "vxcore-bench", "--package-path", bench], check: false)
        XCTAssertTrue(build.succeeded, "release build of vxcore-bench:\n\(build.output.suffix(2000))\(build.error.suffix(2000))")
        guard build.succeeded else { return }
        let binary = bench + "/.build/release/vxcore-bench"
        for (scenario, threshold) in limits.scenarios.sorted(by: { $0.key < $1.key }) {
            let out = NSTemporaryDirectory() + "vxsw-callgrind-\(scenario).\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: out) }
            let r = try VXLabKit.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, "--toggle-collect=*\(scenario)Batch*",
                             binary, "count", scenario, String(Self.batches)], check: false)
            XCTAssertTrue(r.succeeded, "\(scenario) (a crash after a change of VXCore layouts: an incremental build kept a stale one, rm -rf Benchmarks/.build/*/release): \(r.error.suffix(2000))")
            guard let line = r.error.split(separator: "\n").first(where: { $0.contains("Collected :") }),
                  let total = Double(String(line.split(separator: ":").last!).trimmingCharacters(in: .whitespaces)) else {
                XCTFail("\(scenario): no 'Collected' line in callgrind's output:\n\(r.error.suffix(2000))"); continue
            }
            let perPacket = total / Self.packets
            let limit = Double(threshold) * (1 + limits.tolerance)
            print(String(format: "pipeline cost, %@: %.0f instructions/packet (threshold %d + %.0f%%, target %d)",
                         scenario, perPacket, threshold, limits.tolerance * 100, limits.target))
            XCTAssertLessThanOrEqual(perPacket, limit, "\(scenario) costs \(Int(perPacket)) instructions per packet, over the committed \(threshold) + \(Int(limits.tolerance * 100))%: a regression (or lower the cost back; raise the threshold only with the reason in the commit)")
            if perPacket < Double(threshold) * (1 - limits.tolerance) {
                print("pipeline cost, \(scenario): \(Int(perPacket)) is well under the threshold \(threshold): lower it in Benchmarks/Thresholds/callgrind.json")
            }
        }
    }
}
