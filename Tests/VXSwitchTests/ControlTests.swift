import Foundation
@testable import VXConfig
@testable import VXControl
import VXCore
import XCTest

@testable import VXSwitch

#if canImport(Glibc)
import Glibc
#endif

final class ControlRequestTests: XCTestCase {
    func testGrammarRoundTrips() throws {
        let requests: [ControlRequest] = [
            .ping, .version, .show(.ports), .show(.mac(vni: nil)), .show(.mac(vni: VNI(1000))), .show(.vni(nil)),
            .show(.mac(vni: nil, page: .init(from: 0, limit: 10_000))), .show(.mac(vni: VNI(1000), page: .init(from: 4096, limit: 5))),
            .show(.macCount(vni: nil)), .show(.macCount(vni: VNI(1000))), .show(.macTotal),
            .show(.vni(VNI(7))), .show(.stats), .show(.config), .show(.evpnVNI(VNI(1000))), .show(.evpnMAC(vni: nil)),
            .show(.bgpSummary), .show(.bgpNeighbors(IPAddress("fd00::2"))),
            .show(.bgpRoutes(type: .macip, vni: VNI(1000))), .show(.bgpRoutes(type: nil, vni: nil)),
            .portAdd(.init(name: "tap101i0", mode: .access(VNI(1000)!))),
            .portAdd(
                .init(
                    name: "trunk0", mode: .trunk(vlans: [100: VNI(1000)!, 200: VNI(2000)!], native: VNI(1000)),
                    completeChecksums: false)),
            .portDel(name: "tap101i0"),
            .fdbAdd(.init(vni: VNI(1000)!, mac: MACAddress(2, 0, 0, 0, 0, 1), target: .port("tap1"))),
            .fdbAdd(.init(vni: VNI(1000)!, mac: MACAddress(2, 0, 0, 0, 0, 2), target: .vtep(IPAddress("198.18.0.2")!))),
            .fdbDel(vni: VNI(1000)!, mac: MACAddress(2, 0, 0, 0, 0, 1)),
            .bgpRestart, .bgpClear(nil), .bgpClear(IPAddress("198.18.0.2")),
            .show(.evpnMAC(vni: VNI(1000), duplicate: true)), .show(.evpnMAC(vni: nil, duplicate: true)),
            .evpnDupClear(vni: nil, mac: nil), .evpnDupClear(vni: VNI(1000), mac: nil),
            .evpnDupClear(vni: VNI(1000), mac: MACAddress(2, 0, 0, 0, 0, 1)),
        ]
        for request in requests {
            XCTAssertEqual(try ControlRequest(arguments: request.arguments), request, "\(request.arguments)")
            let json = try JSONEncoder().encode(request)
            XCTAssertEqual(try JSONDecoder().decode(ControlRequest.self, from: json), request)
        }
    }

    func testWireFormatIsCommandAndArgs() throws {
        let json = #"{"command":"show","args":["mac","--vni","1000"]}"#
        XCTAssertEqual(try JSONDecoder().decode(ControlRequest.self, from: Data(json.utf8)), .show(.mac(vni: VNI(1000))))
        XCTAssertEqual(
            try JSONValue(encoding: ControlRequest.portDel(name: "tap1")), ["command": "port", "args": ["del", "tap1"]])
        XCTAssertEqual(try ControlRequest(arguments: ["show", "evpn", "mac", "vni", "1000"]), .show(.evpnMAC(vni: VNI(1000))))
        // FRR's `show evpn mac vni all|N [duplicate]` and `clear evpn dup-addr vni all|N [mac M]`.
        XCTAssertEqual(try ControlRequest(arguments: ["show", "evpn", "mac", "vni", "all", "duplicate"]),
                       .show(.evpnMAC(vni: nil, duplicate: true)))
        XCTAssertEqual(try ControlRequest(arguments: ["clear", "evpn", "dup-addr", "vni", "all"]), .evpnDupClear(vni: nil, mac: nil))
        XCTAssertEqual(try ControlRequest(arguments: ["clear", "evpn", "dup-addr", "vni", "1000", "mac", "02:00:00:00:00:01"]),
                       .evpnDupClear(vni: VNI(1000), mac: MACAddress(2, 0, 0, 0, 0, 1)))
        XCTAssertThrowsError(try ControlRequest(arguments: ["clear", "evpn", "dup-addr", "vni", "all", "mac", "02:00:00:00:00:01"]))
        XCTAssertThrowsError(try ControlRequest(arguments: ["clear", "evpn", "dup-addr"]))
        // The total is of the whole table: it takes no VNI and lists nothing.
        XCTAssertThrowsError(try ControlRequest(arguments: ["show", "mac", "--total", "--vni", "1000"]))
        XCTAssertThrowsError(try ControlRequest(arguments: ["show", "mac", "--total", "--count"]))
        // FRR's spelling of the route listing.
        XCTAssertEqual(try ControlRequest(arguments: ["show", "bgp", "l2vpn", "evpn", "route-type", "2"]),
                       .show(.bgpRoutes(type: .macip, vni: nil)))
        XCTAssertEqual(try ControlRequest(arguments: ["show", "bgp", "l2vpn", "evpn"]), .show(.bgpRoutes(type: nil, vni: nil)))
        // `show bgp l2vpn evpn summary` is the family's summary, `show bgp summary` FRR's per-family object.
        XCTAssertEqual(try ControlRequest(arguments: ["show", "bgp", "l2vpn", "evpn", "summary"]), .show(.bgpEVPNSummary))
        XCTAssertEqual(try ControlRequest(arguments: ["show", "bgp", "evpn", "summary"]), .show(.bgpEVPNSummary))
        XCTAssertEqual(ControlRequest.show(.bgpEVPNSummary).arguments, ["show", "bgp", "l2vpn", "evpn", "summary"])
        XCTAssertEqual(try ControlRequest(arguments: ["show", "bgp", "summary"]), .show(.bgpSummary))
        XCTAssertThrowsError(try ControlRequest(arguments: ["show", "bgp", "l2vpn", "evpn", "summary", "vni", "1000"]))
        XCTAssertEqual(try ControlRequest(arguments: ["show", "bgp", "l2vpn", "evpn", "route", "vni", "1000", "type", "multicast"]),
                       .show(.bgpRoutes(type: .multicast, vni: VNI(1000))))
        XCTAssertEqual(
            try ControlRequest(arguments: ["port", "add", "tr0", "--trunk", "10:1000"]),
            .portAdd(.init(name: "tr0", mode: .trunk(vlans: [10: VNI(1000)!], native: nil))))
    }

    /// FRR's spellings of the EVPN route listing, which `vxsw show bgp --help` advertises.
    func testFRRSpellingsOfTheRouteListing() throws {
        let vni = VNI(1000)
        let cases: [([String], ControlRequest.Show)] = [
            (["l2vpn", "evpn"], .bgpRoutes(type: nil, vni: nil)),
            (["l2vpn", "evpn", "route"], .bgpRoutes(type: nil, vni: nil)),
            (["l2vpn", "evpn", "route", "type", "macip"], .bgpRoutes(type: .macip, vni: nil)),
            (["l2vpn", "evpn", "route", "type", "multicast"], .bgpRoutes(type: .multicast, vni: nil)),
            (["l2vpn", "evpn", "route", "type", "2"], .bgpRoutes(type: .macip, vni: nil)),
            (["l2vpn", "evpn", "route", "type", "3"], .bgpRoutes(type: .multicast, vni: nil)),
            (["l2vpn", "evpn", "route", "type", "prefix"], .bgpRoutes(type: .prefix, vni: nil)),
            (["l2vpn", "evpn", "route", "type", "5"], .bgpRoutes(type: .prefix, vni: nil)),
            (["l2vpn", "evpn", "route", "vni", "1000"], .bgpRoutes(type: nil, vni: vni)),
            (["l2vpn", "evpn", "route", "vni", "1000", "type", "2"], .bgpRoutes(type: .macip, vni: vni)),
            (["l2vpn", "evpn", "route-type", "3"], .bgpRoutes(type: .multicast, vni: nil)),
            // vxsw's own spelling, with and without `route`.
            (["evpn"], .bgpRoutes(type: nil, vni: nil)),
            (["evpn", "route"], .bgpRoutes(type: nil, vni: nil)),
            (["evpn", "route", "--type", "macip", "--vni", "1000"], .bgpRoutes(type: .macip, vni: vni)),
            (["evpn", "--vni", "1000"], .bgpRoutes(type: nil, vni: vni)),
        ]
        for (words, show) in cases {
            XCTAssertEqual(try ControlRequest(arguments: ["show", "bgp"] + words), .show(show), "\(words)")
        }
        let bad: [([String], String)] = [
            (["l2vpn"], "expected: show bgp l2vpn evpn [route]"),
            (["l2vpn", "route"], "expected: show bgp l2vpn evpn [route]"),
            (["l2vpn", "evpn", "route", "type", "es"], "route type 'es' is not macip (2), multicast (3) or prefix (5)"),
            (["l2vpn", "evpn", "route", "vni", "0"], "'0' is not a VNI"),
            (["l2vpn", "evpn", "route", "route"], "unexpected 'route'"),
        ]
        for (words, expected) in bad {
            XCTAssertThrowsError(try ControlRequest(arguments: ["show", "bgp"] + words), "\(words)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(words): '\(error)' lacks '\(expected)'")
            }
        }
    }

    func testBadRequestsExplainThemselves() {
        let cases: [([String], String)] = [
            ([], "empty request"),
            (["frobnicate"], "unknown command 'frobnicate'"),
            (["show"], "'show' is incomplete or unknown"),
            (["show", "mac", "--vni", "0"], "'0' is not a VNI"),
            (["show", "mac", "--vni"], "missing VNI"),
            (["show", "ports", "extra"], "unexpected 'extra'"),
            (["port", "add", "tap1"], "port add: give either --vni N"),
            (["port", "add", "tap1", "--vni", "1", "--trunk", "5=1"], "port add: give either"),
            (["port", "add", "tap1", "--trunk", "5000=1"], "'5000=1' is not VLAN=VNI"),
            (["fdb", "add", "02:00:00:00:00:01", "--vni", "1"], "--port NAME or --vtep ADDRESS is required"),
            (["fdb", "del", "zz"], "'zz' is not a MAC address"),
            (["fdb", "del", "02:00:00:00:00:01"], "fdb del: --vni N is required"),
        ]
        for (words, expected) in cases {
            XCTAssertThrowsError(try ControlRequest(arguments: words), "\(words)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(words): '\(error)' lacks '\(expected)'")
            }
        }
    }
}

final class ControlServerTests: XCTestCase {
    private var directory = ""
    private var path: String { directory + "/run/vxsw.sock" }

    override func setUp() {
        directory = NSTemporaryDirectory() + "vxsw-ctl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func makeServer() -> ControlServer {
        ControlServer(path: path) { request in
            switch request {
            case .ping: return .success("pong")
            case .show(.mac(let vni, _)): return .success(["vni": vni.map { .int(Int64($0.value)) } ?? .null])
            case .portDel(let name): return .failure("no port named '\(name)'")
            default: return .success()
            }
        }
    }

    /// Sends raw bytes to the socket and returns the raw reply.
    private func raw(_ bytes: String, closeWrite: Bool = true) throws -> String {
        let fd = try ControlClient.connect(path: path)
        defer { close(fd) }
        try POSIXSocket.sendAll(fd, Array(bytes.utf8), until: Date(timeIntervalSinceNow: 2))
        if closeWrite { shutdown(fd, Int32(SHUT_WR)) }
        let reply = try POSIXSocket.receive(fd, limit: 1 << 20, until: Date(timeIntervalSinceNow: 5)) { _ in false }
        return String(decoding: reply, as: UTF8.self)
    }

    func testRequestsAndPermissions() throws {
        let server = makeServer()
        try server.start()
        defer { server.stop() }

        XCTAssertEqual(try ControlClient.send(.ping, path: path), .success("pong"))
        XCTAssertEqual(try ControlClient.send(.show(.mac(vni: VNI(1000))), path: path).payload?["vni"], 1000)
        XCTAssertEqual(try ControlClient.send(.portDel(name: "tap9"), path: path), .failure("no port named 'tap9'"))

        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFSOCK)
        XCTAssertEqual(stat(directory + "/run", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
    }

    func testMalformedRequestsGetErrorResponses() throws {
        let server = makeServer()
        try server.start()
        defer { server.stop() }

        for garbage in ["not json\n", "{\"args\": []}\n", "[1,2]\n", "\u{0}\u{1}\u{2}\n", "\n"] {
            let reply = try raw(garbage)
            let response = try JSONDecoder().decode(ControlResponse.self, from: Data(reply.utf8))
            XCTAssertFalse(response.ok, garbage)
            XCTAssertTrue(response.error?.hasPrefix("malformed request") == true, "\(reply)")
        }
        let unknown = try raw("{\"command\":\"launch\",\"args\":[\"missiles\"]}\n")
        XCTAssertTrue(unknown.contains("unknown command 'launch'"), unknown)
        XCTAssertTrue(unknown.hasSuffix("\n"))

        // No newline, but the client closes its side: still one request.
        XCTAssertTrue(try raw("{\"command\":\"ping\"}").contains("pong"))
        // The server survives all of that.
        XCTAssertEqual(try ControlClient.send(.ping, path: path), .success("pong"))
    }

    func testSilentClientTimesOut() throws {
        let server = makeServer()
        server.readTimeout = 0.2
        try server.start()
        defer { server.stop() }
        let started = Date()
        let reply = try raw("", closeWrite: false)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertTrue(reply.contains("request not read"), reply)
        XCTAssertEqual(try ControlClient.send(.ping, path: path), .success("pong"))
    }

    func testStartStopAreIdempotentAndStopRemovesSocket() throws {
        let server = makeServer()
        try server.start()
        try server.start()
        XCTAssertTrue(server.isRunning)
        server.stop()
        server.stop()
        XCTAssertFalse(server.isRunning)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertThrowsError(try ControlClient.send(.ping, path: path, timeout: 1)) { error in
            XCTAssertTrue("\(error)".contains("cannot connect"), "\(error)")
        }
        try server.start()  // and again after a stop
        XCTAssertEqual(try ControlClient.send(.ping, path: path), .success("pong"))
        server.stop()
    }

    func testStaleSocketIsReplacedLiveOneIsNot() throws {
        // A stale socket file: bound, then its owner went away without unlinking.
        try FileManager.default.createDirectory(atPath: directory + "/run", withIntermediateDirectories: true)
        var address = try POSIXSocket.unixAddress(path)
        let stale = socket(AF_UNIX, POSIXSocket.stream, 0)
        XCTAssertEqual(POSIXSocket.withSockaddr(&address) { bind(stale, $0, $1) }, 0)
        close(stale)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))

        let server = makeServer()
        try server.start()
        defer { server.stop() }
        XCTAssertEqual(try ControlClient.send(.ping, path: path), .success("pong"))

        let second = makeServer()
        XCTAssertThrowsError(try second.start()) { error in
            XCTAssertTrue("\(error)".contains("another vxsw is running"), "\(error)")
        }
        XCTAssertEqual(try ControlClient.send(.ping, path: path), .success("pong"))
    }

    func testRegularFileIsNotReplaced() throws {
        try FileManager.default.createDirectory(atPath: directory + "/run", withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("keep".utf8)))
        XCTAssertThrowsError(try makeServer().start()) { error in
            XCTAssertTrue("\(error)".contains("is not a socket"), "\(error)")
        }
        XCTAssertEqual(FileManager.default.contents(atPath: path), Data("keep".utf8))
    }

    func testConcurrentClientsAreAllAnswered() throws {
        let server = makeServer()
        try server.start()
        defer { server.stop() }
        let path = self.path
        let answers = NSLock()
        nonisolated(unsafe) var pongs = 0
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if (try? ControlClient.send(.ping, path: path)) == .success("pong") {
                answers.withLock { pongs += 1 }
            }
        }
        XCTAssertEqual(pongs, 16)
    }
}
