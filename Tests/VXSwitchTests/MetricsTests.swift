import Foundation
@testable import VXConfig
@testable import VXControl
import VXCore
import VXLabKit
import XCTest

@testable import VXSwitch

#if canImport(Glibc)
import Glibc
#endif

final class PrometheusTextTests: XCTestCase {
    func testFamiliesGroupedWithHelpAndTypeOnce() {
        var text = PrometheusText()
        text.counter("vxsw_port_rx_packets_total", help: "Frames received on a port.", labels: ["port": "tap1"], 12)
        text.counter("vxsw_drops_total", help: "Frames dropped.", labels: ["port": "ul0", "reason": "bad_vxlan_flags"], 3)
        text.counter("vxsw_port_rx_packets_total", help: "ignored", labels: ["port": "tap2"], 0)
        text.gauge("vxsw_fdb_entries", help: "MACs in the FDB.", 4)
        XCTAssertEqual(
            text.render(),
            """
            # HELP vxsw_port_rx_packets_total Frames received on a port.
            # TYPE vxsw_port_rx_packets_total counter
            vxsw_port_rx_packets_total{port="tap1"} 12
            vxsw_port_rx_packets_total{port="tap2"} 0
            # HELP vxsw_drops_total Frames dropped.
            # TYPE vxsw_drops_total counter
            vxsw_drops_total{port="ul0",reason="bad_vxlan_flags"} 3
            # HELP vxsw_fdb_entries MACs in the FDB.
            # TYPE vxsw_fdb_entries gauge
            vxsw_fdb_entries 4

            """)
        XCTAssertEqual(PrometheusText().render(), "")
    }

    func testEscaping() {
        XCTAssertEqual(PrometheusText.escapeLabelValue(#"a\b"c"# + "\nd"), #"a\\b\"c\nd"#)
        XCTAssertEqual(PrometheusText.escapeHelp("line\\one\ntwo \"q\""), #"line\\one\ntwo "q""#)
        var text = PrometheusText()
        text.counter("bad-name.total", help: "x", labels: ["port name": "tap\"1"], 1)
        XCTAssertTrue(text.render().contains(#"bad_name_total{port_name="tap\"1"} 1"#), text.render())
        XCTAssertEqual(PrometheusText.sanitize("1abc", allowColon: false), "_abc")
        XCTAssertEqual(PrometheusText.sanitize("a:b", allowColon: false), "a_b")
        XCTAssertEqual(PrometheusText.sanitize("a:b", allowColon: true), "a:b")
    }

    func testNumberFormats() {
        XCTAssertEqual(PrometheusText.format(1.5), "1.5")
        XCTAssertEqual(PrometheusText.format(42), "42")
        XCTAssertEqual(PrometheusText.format(.infinity), "+Inf")
        XCTAssertEqual(PrometheusText.format(-.infinity), "-Inf")
        XCTAssertEqual(PrometheusText.format(.nan), "NaN")
    }
}

final class MetricsServerTests: XCTestCase {
    /// Sends `request` to 127.0.0.1/::1 `port` over a raw TCP socket and returns the whole reply.
    private func fetch(_ request: String, port: UInt16, ipv6: Bool = false) throws -> String {
        let fd = try loopbackConnect(port: port, ipv6: ipv6)
        defer { close(fd) }
        try POSIXSocket.sendAll(fd, Array(request.utf8), until: Date(timeIntervalSinceNow: 2))
        let reply = try POSIXSocket.receive(fd, limit: 1 << 20, until: Date(timeIntervalSinceNow: 5)) { _ in false }
        return String(decoding: reply, as: UTF8.self)
    }

    private let body = "# HELP up Up.\n# TYPE up gauge\nup 1\n"

    func testServesMetricsOnEphemeralPort() throws {
        let body = self.body
        let server = try MetricsServer(address: "127.0.0.1:0") { body }
        try server.start()
        defer { server.stop() }
        let port = try XCTUnwrap(server.boundPort)
        XCTAssertNotEqual(port, 0)

        let reply = try fetch("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n", port: port)
        let parts = reply.components(separatedBy: "\r\n\r\n")
        XCTAssertTrue(parts[0].hasPrefix("HTTP/1.1 200 OK\r\n"), reply)
        XCTAssertTrue(parts[0].contains("Content-Type: text/plain; version=0.0.4"), reply)
        XCTAssertTrue(parts[0].contains("Content-Length: \(body.utf8.count)"), reply)
        XCTAssertEqual(parts.dropFirst().joined(separator: "\r\n\r\n"), body)

        XCTAssertTrue(try fetch("GET /metrics?x=1 HTTP/1.0\r\n\r\n", port: port).hasSuffix(body))
        let head = try fetch("HEAD /metrics HTTP/1.1\r\n\r\n", port: port)
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK") && head.hasSuffix("\r\n\r\n"), head)
    }

    func testOtherPathsAndMethods() throws {
        let server = try MetricsServer(address: "127.0.0.1:0") { "" }
        try server.start()
        defer { server.stop() }
        let port = try XCTUnwrap(server.boundPort)
        XCTAssertTrue(try fetch("GET / HTTP/1.1\r\n\r\n", port: port).hasPrefix("HTTP/1.1 404 Not Found"))
        XCTAssertTrue(try fetch("GET /metricsx HTTP/1.1\r\n\r\n", port: port).hasPrefix("HTTP/1.1 404"))
        XCTAssertTrue(try fetch("POST /metrics HTTP/1.1\r\n\r\n", port: port).hasPrefix("HTTP/1.1 405"))
        XCTAssertTrue(try fetch("garbage\r\n\r\n", port: port).hasPrefix("HTTP/1.1 400"))
        XCTAssertTrue(try fetch("GET /metrics HTTP/1.1\r\n\r\n", port: port).hasPrefix("HTTP/1.1 200"))
    }

    func testIPv6Loopback() throws {
        let body = self.body
        let server = try MetricsServer(address: "[::1]:0") { body }
        do {
            try server.start()
        } catch {
            throw XCTSkip("no IPv6 loopback here: \(error)")
        }
        defer { server.stop() }
        let reply = try fetch("GET /metrics HTTP/1.1\r\n\r\n", port: try XCTUnwrap(server.boundPort), ipv6: true)
        XCTAssertTrue(reply.hasSuffix(body), reply)
    }

    func testStopClosesSocketAndIsIdempotent() throws {
        let server = try MetricsServer(address: "127.0.0.1:0") { "" }
        try server.start()
        try server.start()
        let port = try XCTUnwrap(server.boundPort)
        server.stop()
        server.stop()
        XCTAssertNil(server.boundPort)
        XCTAssertThrowsError(try fetch("GET /metrics HTTP/1.1\r\n\r\n", port: port))
    }

    func testBadAddress() {
        XCTAssertThrowsError(try MetricsServer(address: "localhost:9469") { "" })
        XCTAssertThrowsError(try MetricsServer(address: "::1:9469") { "" })
        XCTAssertEqual(ListenAddress("[::1]:9469")?.description, "[::1]:9469")
        XCTAssertEqual(ListenAddress("0.0.0.0:80")?.port, 80)
        XCTAssertNil(ListenAddress("1.2.3.4:70000"))
    }
}

/// The metrics endpoint of a running vxsw.
final class SwitchMetricsTests: XCTestCase {
    /// The page of a running vxsw (the lab, MACs aging after 3 s): the FDB against its capacity,
    /// learned / aged / moved counters, every drop reason from the start, build info, `process_*`.
    func testSwitchPageHasFDBDropsBuildAndProcessSeries() throws {
        try XCTSkipUnless(getuid() == 0, "needs root: builds network namespaces and runs vxsw with XDP")
        let env = try RunningLab(tag: "mp", agingTime: 3, metrics: "127.0.0.1:9469")
        defer { env.close() }
        func value(_ page: String, _ series: String) -> Double {
            page.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) } ?? -1
        }
        var page = try metricsPage(in: env.lab.hv1)
        // From the start: every drop reason, and the learning counters of each VNI (a VM's own
        // router solicitation may already have been learned: present, not necessarily 0).
        for reason in DropReason.allCases {
            XCTAssertGreaterThanOrEqual(value(page, #"vxsw_drops_total{reason="\#(reason.name)"}"#), 0, reason.name)
        }
        for kind in ["learned", "aged", "moved"] {
            XCTAssertTrue(page.contains("# TYPE vxsw_fdb_macs_\(kind)_total counter"), page)
            XCTAssertGreaterThanOrEqual(value(page, #"vxsw_vni_macs_\#(kind)_total{vni="2000"}"#), 0, kind)
        }
        XCTAssertGreaterThan(value(page, "vxsw_fdb_capacity"), 0)
        XCTAssertTrue(page.contains(#"vxsw_build_info{version="0.1.0",commit=""#), page)
        let now = Date().timeIntervalSince1970
        XCTAssertTrue((now - 600...now + 1).contains(value(page, "process_start_time_seconds")), page)
        XCTAssertGreaterThan(value(page, "process_resident_memory_bytes"), 1_000_000)
        XCTAssertGreaterThan(value(page, "process_virtual_memory_bytes"), value(page, "process_resident_memory_bytes"))
        XCTAssertGreaterThan(value(page, "process_open_fds"), 3)
        XCTAssertGreaterThanOrEqual(value(page, "process_max_fds"), value(page, "process_open_fds"))
        XCTAssertGreaterThanOrEqual(value(page, "process_cpu_seconds_total"), 0)
        XCTAssertTrue(page.contains("# TYPE process_cpu_seconds_total counter"), page)

        // Traffic: vm11's and vm21's MACs learned in VNI 1000, then aged out.
        XCTAssertTrue(try env.scenario.ping(env.lab.vm("vm11").namespace, "198.19.10.21").0)
        page = try metricsPage(in: env.lab.hv1)
        XCTAssertGreaterThanOrEqual(value(page, "vxsw_fdb_entries"), 2, page)
        XCTAssertGreaterThanOrEqual(value(page, #"vxsw_vni_macs_learned_total{vni="1000"}"#), 2, page)
        XCTAssertGreaterThanOrEqual(value(page, "vxsw_fdb_macs_learned_total"), 2, page)
        XCTAssertTrue(waitUntil(timeout: 20) {
            let p = (try? metricsPage(in: env.lab.hv1)) ?? ""
            return value(p, #"vxsw_vni_macs_aged_total{vni="1000"}"#) >= 1 && value(p, "vxsw_fdb_macs_aged_total") >= 1
        }, "MACs aged out after 3 s: \((try? metricsPage(in: env.lab.hv1)) ?? "")")
    }
}
