import Foundation
@testable import VXControl
import XCTest

@testable import VXSwitch

#if canImport(Glibc)
import Glibc
#endif

/// The control socket and the metrics endpoint serve connections concurrently: idle clients
/// (any local user can open TCP ones) never delay a request, are closed at the read deadline,
/// are capped, and never hold up `stop()`. Real sockets, no root needed.
final class ServerConcurrencyTests: XCTestCase {
    private var directory = ""
    private var path: String { directory + "/vxsw.sock" }

    override func setUp() {
        directory = NSTemporaryDirectory() + "vxsw-conc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Control socket

    private func controlServer(timeout: TimeInterval = 5, cap: Int = 64) -> ControlServer {
        let server = ControlServer(path: path) { _ in .success("pong") }
        server.readTimeout = timeout
        server.maxConnections = cap
        return server
    }

    private func idleControlClients(_ n: Int) throws -> [Int32] {
        try (0..<n).map { _ in try ControlClient.connect(path: path) }
    }

    func testIdleControlClientsDoNotDelayARequestNorStop() throws {
        let server = controlServer()
        try server.start()
        let idle = try idleControlClients(10)
        defer { idle.forEach { close($0) } }

        let asked = Date()
        XCTAssertEqual(try ControlClient.send(.ping, path: path, timeout: 2), .success("pong"))
        XCTAssertLessThan(Date().timeIntervalSince(asked), 1)

        let stopping = Date()
        server.stop()
        XCTAssertLessThan(Date().timeIntervalSince(stopping), 1)
        // Each idle client is told why and closed.
        for fd in idle { XCTAssertTrue(try reply(fd, within: 1).contains("vxsw is stopping")) }
    }

    func testIdleControlClientsAreClosedAtTheDeadlineConcurrently() throws {
        let server = controlServer(timeout: 0.3)
        try server.start()
        defer { server.stop() }
        let idle = try idleControlClients(5)
        defer { idle.forEach { close($0) } }
        let started = Date()
        for fd in idle { XCTAssertTrue(try reply(fd, within: 2).contains("request not read")) }
        // Served one after another, five deadlines would take 1.5 s.
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
    }

    func testControlConnectionsOverTheCapAreRefusedAndCounted() throws {
        let server = controlServer(cap: 2)
        try server.start()
        defer { server.stop() }
        let idle = try idleControlClients(2)
        let response = try ControlClient.send(.ping, path: path, timeout: 1)
        XCTAssertTrue(response.error?.hasPrefix("vxsw is busy") == true, "\(response)")
        XCTAssertEqual(server.refusedConnections, 1)
        idle.forEach { close($0) }
        // Once the idle clients are gone their slots are free again.
        XCTAssertTrue(eventually { (try? ControlClient.send(.ping, path: self.path, timeout: 1)) == .success("pong") })
    }

    func testStopLeavesNoThreadOrFileDescriptor() throws {
        let fdsBefore = openFDs()
        let server = controlServer()
        try server.start()
        let idle = try idleControlClients(5)
        XCTAssertEqual(try ControlClient.send(.ping, path: path), .success("pong"))
        XCTAssertTrue(eventually { self.threads(named: "vxsw-control").count == 6 })  // accept + 5
        server.stop()
        idle.forEach { close($0) }
        XCTAssertTrue(eventually { self.threads(named: "vxsw-control").isEmpty }, "\(threads(named: "vxsw-control"))")
        XCTAssertEqual(openFDs(), fdsBefore)
    }

    // MARK: Metrics endpoint

    private func metricsServer(timeout: TimeInterval = 5, cap: Int = 64) throws -> (MetricsServer, UInt16) {
        let server = try MetricsServer(address: "127.0.0.1:0") { "up 1\n" }
        server.readTimeout = timeout
        server.maxConnections = cap
        try server.start()
        return (server, try XCTUnwrap(server.boundPort))
    }

    func testIdleTCPClientsDoNotDelayAScrapeNorStop() throws {
        let (server, port) = try metricsServer()
        let idle = try (0..<10).map { _ in try loopbackConnect(port: port) }
        defer { idle.forEach { close($0) } }

        let asked = Date()
        XCTAssertTrue(try scrape(port: port).hasSuffix("up 1\n"))
        XCTAssertLessThan(Date().timeIntervalSince(asked), 1)

        let stopping = Date()
        server.stop()
        XCTAssertLessThan(Date().timeIntervalSince(stopping), 1)
        for fd in idle { XCTAssertEqual(try reply(fd, within: 1), "") }  // closed, no answer
    }

    func testIdleTCPClientsAreClosedAtTheDeadline() throws {
        let (server, port) = try metricsServer(timeout: 0.3)
        defer { server.stop() }
        let idle = try (0..<5).map { _ in try loopbackConnect(port: port) }
        defer { idle.forEach { close($0) } }
        let started = Date()
        for fd in idle { XCTAssertEqual(try reply(fd, within: 2), "") }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        XCTAssertTrue(try scrape(port: port).hasPrefix("HTTP/1.1 200 OK"))
    }

    func testTCPConnectionsOverTheCapGetA503AndAreCounted() throws {
        let (server, port) = try metricsServer(cap: 2)
        defer { server.stop() }
        let idle = try (0..<2).map { _ in try loopbackConnect(port: port) }
        let refused = try loopbackConnect(port: port)
        defer { close(refused) }
        XCTAssertTrue(try reply(refused, within: 1).hasPrefix("HTTP/1.1 503"))
        XCTAssertEqual(server.refusedConnections, 1)
        idle.forEach { close($0) }
        XCTAssertTrue(eventually { (try? self.scrape(port: port))?.hasPrefix("HTTP/1.1 200") == true })
    }

    // MARK: Helpers

    /// Everything `fd` receives until the peer closes; throws if that takes longer than `seconds`.
    private func reply(_ fd: Int32, within seconds: TimeInterval) throws -> String {
        let bytes = try POSIXSocket.receive(fd, limit: 1 << 20, until: Date(timeIntervalSinceNow: seconds)) { _ in false }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func scrape(port: UInt16) throws -> String {
        let fd = try loopbackConnect(port: port)
        defer { close(fd) }
        try POSIXSocket.sendAll(fd, Array("GET /metrics HTTP/1.1\r\n\r\n".utf8), until: Date(timeIntervalSinceNow: 1))
        return try reply(fd, within: 2)
    }

    /// Polls `condition` for up to 2 s.
    private func eventually(_ condition: () -> Bool) -> Bool {
        let limit = Date(timeIntervalSinceNow: 2)
        while Date() < limit {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    private func openFDs() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// This process's threads whose name starts with `prefix` (Linux truncates names to 15 bytes).
    private func threads(named prefix: String) -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            .filter { $0.hasPrefix(prefix) }
    }
}

/// A TCP socket connected to 127.0.0.1 (or ::1) `port`.
func loopbackConnect(port: UInt16, ipv6: Bool = false) throws -> Int32 {
    let fd = socket(ipv6 ? AF_INET6 : AF_INET, POSIXSocket.stream, 0)
    guard fd >= 0 else { throw SocketError("socket") }
    var result: Int32
    if ipv6 {
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0[15] = 1 }
        result = POSIXSocket.withSockaddr(&sin6) { connect(fd, $0, $1) }
    } else {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        result = POSIXSocket.withSockaddr(&sin) { connect(fd, $0, $1) }
    }
    guard result == 0 else {
        let error = SocketError("connect to loopback port \(port)")
        close(fd)
        throw error
    }
    return fd
}
