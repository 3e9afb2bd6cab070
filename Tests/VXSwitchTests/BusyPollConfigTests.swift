@testable import VXConfig
import XCTest

@testable import VXSwitch

/// `datapath.busy-poll`: off by default; a mapping { timeout-us, budget, prefer } with defaults
/// 20 µs, 64, true; validated; carried through JSON.
final class BusyPollConfigTests: XCTestCase {
    private let base = "vtep: { ipv4: 198.18.0.1 }\nvnis: [ { vni: 1000 } ]\n"

    func testOffByDefault() throws {
        XCTAssertNil(try SwitchConfig.parse(yaml: base).datapath.busyPoll)
        XCTAssertNil(try SwitchConfig.parse(yaml: base + "datapath: { busy-poll: off }\n").datapath.busyPoll)
        XCTAssertNil(try SwitchConfig.parse(yaml: base + "datapath: { busy-poll: \"off\" }\n").datapath.busyPoll)
    }

    func testMappingWithDefaults() throws {
        typealias B = SwitchConfig.Datapath.BusyPoll
        let cases: [(String, B)] = [
            ("{}", B(timeoutMicroseconds: 20, budget: 64, prefer: true)),
            ("{ timeout-us: 50 }", B(timeoutMicroseconds: 50, budget: 64, prefer: true)),
            ("{ timeout-us: 10, budget: 16, prefer: false }", B(timeoutMicroseconds: 10, budget: 16, prefer: false)),
        ]
        for (text, expected) in cases {
            let config = try SwitchConfig.parse(yaml: base + "datapath: { busy-poll: \(text) }\n")
            XCTAssertEqual(config.datapath.busyPoll, expected, text)
            let json = try JSONEncoder().encode(config)
            XCTAssertEqual(try JSONDecoder().decode(SwitchConfig.self, from: json).datapath.busyPoll, expected, "JSON round trip of \(text)")
        }
        let off = try JSONEncoder().encode(try SwitchConfig.parse(yaml: base))
        XCTAssertNil(try JSONDecoder().decode(SwitchConfig.self, from: off).datapath.busyPoll, "off survives JSON")
    }

    func testRejectsBadValues() {
        let cases = [
            ("{ timeout-us: 0 }", "datapath.busy-poll.timeout-us: 0 is out of range (1..1000000)"),
            ("{ timeout-us: 2000000 }", "datapath.busy-poll.timeout-us: 2000000 is out of range (1..1000000)"),
            ("{ budget: 0 }", "datapath.busy-poll.budget: 0 is out of range (1..65535)"),
            ("{ budget: 70000 }", "datapath.busy-poll.budget: 70000 is out of range (1..65535)"),
            ("{ prefer: sometimes }", "datapath.busy-poll.prefer: expected true or false"),
            ("on", "datapath.busy-poll: expected off or a mapping"),
            ("{ timeout-ms: 20 }", "unknown field 'timeout-ms' at datapath.busy-poll (did you mean 'timeout-us'?)"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try SwitchConfig.parse(yaml: base + "datapath: { busy-poll: \(text) }\n"), text) { error in
                XCTAssertTrue("\(error)".hasPrefix(message), "\(text): \(error)")
            }
        }
    }
}
