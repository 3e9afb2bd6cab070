import Foundation
import Logging
import VXCore
import XCTest
@testable import VXEVPN

/// Network namespaces, veths and peer daemons for tests against real BGP speakers. Everything
/// is named with the test's pid, removed in `tearDown`, and processes are stopped by PID only.
final class Lab {
    let tag: String
    let octet: Int
    private(set) var namespaces: [String] = []
    private(set) var links: [String] = []
    private(set) var processes: [Process] = []
    let dir: URL

    init(_ name: String) throws {
        guard getuid() == 0 else { throw XCTSkip("needs root: creates network namespaces and veths") }
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        tag = "\(name)\(pid % 100_000)"
        // Third octet from the pid: parallel runs (other engineers) use other /24s of 198.19.0.0/16.
        octet = pid % 250 + 3
        dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("vxevpn-\(tag)")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    /// 198.19.<octet>.<host>
    func address(_ host: Int) -> IPAddress { IPAddress("198.19.\(octet).\(host)")! }

    static func tool(_ name: String) -> String? {
        for d in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/lib/frr"] where FileManager.default.isExecutableFile(atPath: "\(d)/\(name)") {
            return "\(d)/\(name)"
        }
        return nil
    }

    @discardableResult
    func sh(_ args: [String], allowFailure: Bool = false) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : (Lab.tool(args[0]) ?? args[0]))
        p.arguments = Array(args.dropFirst())
        let out = Pipe()
        p.standardOutput = out; p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if p.terminationStatus != 0 && !allowFailure {
            throw NSError(domain: "lab", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "\(args.joined(separator: " ")): \(text)"])
        }
        return text
    }

    /// A namespace with lo up.
    func namespace(_ suffix: String) throws -> String {
        let ns = "\(tag)\(suffix)"
        try sh(["ip", "netns", "add", ns]); namespaces.append(ns)
        try sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        return ns
    }

    /// A veth from the root namespace (address `rootHost`) into `ns` (address `nsHost`), /24.
    func veth(to ns: String, rootHost: Int, nsHost: Int) throws {
        let a = "\(tag)r", b = "\(tag)n"
        try sh(["ip", "link", "add", a, "type", "veth", "peer", "name", b]); links.append(a)
        try sh(["ip", "link", "set", b, "netns", ns])
        try sh(["ip", "addr", "add", "\(address(rootHost))/24", "dev", a])
        try sh(["ip", "-n", ns, "addr", "add", "\(address(nsHost))/24", "dev", b])
        try sh(["ip", "link", "set", a, "up"])
        try sh(["ip", "-n", ns, "link", "set", b, "up"])
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Starts a long-running process inside `ns`; stopped in tearDown by its PID.
    func spawn(in ns: String, _ args: [String], log: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Lab.tool("ip")!)
        p.arguments = ["netns", "exec", ns] + args
        let fh = FileHandle(forWritingAtPath: try write(log, ""))
        p.standardOutput = fh; p.standardError = fh
        try p.run()
        processes.append(p)
    }

    func log(_ name: String) -> String { (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? "" }

    /// Polls `cond` until true or `seconds` pass.
    static func wait(_ seconds: Double, _ what: String, _ cond: () async throws -> Bool) async throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if try await cond() { return }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        XCTFail("timed out after \(seconds) s waiting for \(what)")
        throw NSError(domain: "lab", code: 1, userInfo: [NSLocalizedDescriptionKey: "timeout: \(what)"])
    }

    func tearDown() {
        for p in processes where p.isRunning {
            // `ip netns exec` execs the daemon, so this PID is the daemon's.
            kill(p.processIdentifier, SIGTERM)
        }
        let end = Date().addingTimeInterval(3)
        while processes.contains(where: { $0.isRunning }) && Date() < end { usleep(50_000) }
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        usleep(300_000)
        for l in links { _ = try? sh(["ip", "link", "del", l], allowFailure: true) }
        for ns in namespaces { _ = try? sh(["ip", "netns", "del", ns], allowFailure: true) }
        try? FileManager.default.removeItem(at: dir)
    }
}

/// Records what the speaker asks of the data plane.
final class RecordingDataplane: EVPNDataplane, @unchecked Sendable {
    private let lock = NSLock()
    struct Installed { var vtep: IPAddress; var ips: [IPAddress]; var seq: UInt32; var ip: IPAddress? { ips.first } }
    private var _macs: [VNIMAC: Installed] = [:]
    private var _flood: [VNI: Set<IPAddress>] = [:]
    private var _events: [String] = []
    private var _duplicates: [VNIMAC] = []

    var macs: [VNIMAC: Installed] { lock.withLock { _macs } }
    var flood: [VNI: Set<IPAddress>] { lock.withLock { _flood } }
    var events: [String] { lock.withLock { _events } }
    var duplicates: [VNIMAC] { lock.withLock { _duplicates } }

    func installRemoteMAC(vni: VNI, mac: MACAddress, ips: [IPAddress], vtep: IPAddress, seq: UInt32) {
        lock.withLock {
            _macs[VNIMAC(vni, mac)] = Installed(vtep: vtep, ips: ips, seq: seq)
            _events.append("install \(vni) \(mac) \(ips.isEmpty ? "-" : ips.map { "\($0)" }.joined(separator: ",")) \(vtep) \(seq)")
        }
    }
    func withdrawRemoteMAC(vni: VNI, mac: MACAddress) {
        lock.withLock { _macs[VNIMAC(vni, mac)] = nil; _events.append("withdraw \(vni) \(mac)") }
    }
    func addFloodVTEP(vni: VNI, vtep: IPAddress) {
        lock.withLock { _flood[vni, default: []].insert(vtep); _events.append("flood+ \(vni) \(vtep)") }
    }
    func removeFloodVTEP(vni: VNI, vtep: IPAddress) {
        lock.withLock { _flood[vni]?.remove(vtep); _events.append("flood- \(vni) \(vtep)") }
    }
    func installRemoteHostRoute(vrf: VNI, ip: IPAddress, vtep: IPAddress, routerMAC: MACAddress) {
        lock.withLock { _events.append("route \(vrf) \(ip) \(vtep) \(routerMAC)") }
    }
    func withdrawRemoteHostRoute(vrf: VNI, ip: IPAddress) {
        lock.withLock { _events.append("unroute \(vrf) \(ip)") }
    }
    func installRemotePrefixRoute(vrf: VNI, prefix: IPPrefix, vtep: IPAddress, routerMAC: MACAddress) {
        lock.withLock { _events.append("prefix \(vrf) \(prefix) \(vtep) \(routerMAC)") }
    }
    func withdrawRemotePrefixRoute(vrf: VNI, prefix: IPPrefix) {
        lock.withLock { _events.append("unprefix \(vrf) \(prefix)") }
    }
    func duplicateMACDetected(vni: VNI, mac: MACAddress, moves: Int, local: Bool, vtep: IPAddress?, frozen: Bool) {
        lock.withLock {
            _duplicates.append(VNIMAC(vni, mac))
            _events.append("duplicate \(vni) \(mac) \(moves) \(local ? "local" : "remote") \(vtep.map { "\($0)" } ?? "-")\(frozen ? " frozen" : "")")
        }
    }
    func duplicateIPDetected(vni: VNI, ip: IPAddress, moves: Int, local: Bool, vtep: IPAddress?, frozen: Bool) {
        lock.withLock {
            _events.append("duplicate-ip \(vni) \(ip) \(moves) \(local ? "local" : "remote") \(vtep.map { "\($0)" } ?? "-")\(frozen ? " frozen" : "")")
        }
    }
    func localNeighborRemoved(vni: VNI, ip: IPAddress, mac: MACAddress) {
        lock.withLock { _events.append("neighbor- \(vni) \(ip) \(mac)") }
    }
    /// Outermost batches ended, and the MACs installed in the largest one.
    private var depth = 0, _batches = 0, installsAtBegin = 0, _largestBatch = 0
    var batches: Int { lock.withLock { _batches } }
    var largestBatch: Int { lock.withLock { _largestBatch } }
    func beginBatch() {
        lock.withLock {
            if depth == 0 { installsAtBegin = _events.count }
            depth += 1
        }
    }
    func endBatch() {
        lock.withLock {
            depth -= 1
            if depth == 0 { _batches += 1; _largestBatch = max(_largestBatch, _events.count - installsAtBegin) }
        }
    }
}
