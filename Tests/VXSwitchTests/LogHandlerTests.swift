import Foundation
import Logging
import XCTest

@testable import VXSwitch

/// vxsw's log lines: syslog priorities under journald, time and level on a terminal.
final class LogHandlerTests: XCTestCase {
    func testJournalLinesCarryTheSyslogPriority() {
        var h = VXSWLogHandler(label: "vxsw", level: .info, journal: true)
        XCTAssertEqual(h.line(.error, "uplink ul0 went away", metadata: nil), "<3>vxsw: uplink ul0 went away\n")
        XCTAssertEqual(h.line(.warning, "w", metadata: nil), "<4>vxsw: w\n")
        XCTAssertEqual(h.line(.info, "i", metadata: nil), "<6>vxsw: i\n")
        XCTAssertEqual(h.line(.debug, "d", metadata: nil), "<7>vxsw: d\n")
        h[metadataKey: "peer"] = "198.18.0.2"
        XCTAssertEqual(h.line(.notice, "up", metadata: ["vni": "1000"]), "<5>vxsw: up peer=198.18.0.2 vni=1000\n")
    }

    func testTerminalLinesCarryTimeAndLevel() {
        let line = VXSWLogHandler(label: "vxsw.evpn", level: .info, journal: false).line(.warning, "hold timer expired", metadata: nil)
        XCTAssertTrue(line.hasSuffix(" vxsw.evpn warning: hold timer expired\n"), line)
        XCTAssertTrue(line.first?.isNumber == true, "starts with its ISO 8601 time: \(line)")
        // The time as ISO8601DateFormatter writes it (UTC, seconds), without making one per line.
        XCTAssertEqual(VXSWLogHandler.utcTimestamp(0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(VXSWLogHandler.utcTimestamp(1_796_386_223), ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: 1_796_386_223)))
    }

    func testLevelsFilter() {
        XCTAssertEqual(DaemonLog(level: .warning).level, .warning)
        XCTAssertEqual(DaemonLog(verbose: true).level, .debug)
    }
}
