import Foundation
import VXConfig
import VXLabKit
import VXSwitch

/// One verified fact about the lab run.
public struct LabCheck: Codable, Sendable {
    public let name: String
    public let passed: Bool
    public let detail: String
}

/// What a lab run found: the checks, TCP throughput, and vxsw's own view (show --json).
public struct LabReport: Codable, Sendable {
    public var underlay: String
    public var controlPlane: String
    public var checks: [LabCheck] = []
    public var tcpGbps: [String: Double] = [:]
    public var ports: JSONValue = .null
    public var macs: JSONValue = .null
    public var stats: JSONValue = .null
    public var log: String = ""
    public var passed: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
}

extension LabCheck {
    /// Runs one check (a thrown error fails it) and says it as the lab prints it. The caller
    /// appends it to its report after `body` ran (which may write the report too).
    static func run(_ name: String, say: (String) -> Void, _ body: () throws -> (Bool, String)) -> LabCheck {
        let result: (Bool, String)
        do { result = try body() } catch { result = (false, "\(error)") }
        say("  \(result.0 ? "ok  " : "FAIL") \(name)\(result.1.isEmpty ? "" : " — \(result.1)")")
        return LabCheck(name: name, passed: result.0, detail: result.1)
    }
}

/// Runs vxsw on hv1 of a `LabTopology` and verifies that it switches: host traffic on the
/// uplink, pings in both VNIs and both directions, VNI isolation, TCP both ways, MAC learning
/// as `vxsw show` reports it, and a clean shutdown with no XDP program left.
public final class LabScenario {
    let lab: LabTopology
    let binary: String
    public let workDir: String
    let iperfSeconds: Int
    let log: (String) -> Void
    private(set) var report: LabReport
    private var vxsw: ChildProcess?
    /// hv2's FRR in the EVPN lab.
    public private(set) var frr: FRRInstance?
    public var controlSocket: String { workDir + "/vxsw.sock" }
    /// Config knobs for tests: metrics address inside hv1, FDB aging time.
    public var metrics = "off"
    public var agingTime = 300
    public var fastPath = "true"
    /// `datapath.workers` (e.g. "[0, 1]"); nil: the default, one worker.
    public var workers: String?
    /// `datapath.attach` (native, generic, auto); nil: the default (auto). `datapath.frames`.
    public var attach: String?
    public var frames = 8192
    public var isSwitchRunning: Bool { vxsw?.isRunning == true }
    /// PID of vxsw itself (its parent is `ip netns exec`, which execs it: the same process).
    public var switchPID: Int32? { vxsw?.pid }
    public var switchLog: String { vxsw?.log ?? "" }

    public init(lab: LabTopology, binary: String, workDir: String, iperfSeconds: Int = 3, log: @escaping (String) -> Void) {
        self.lab = lab
        self.binary = binary
        self.workDir = workDir
        self.iperfSeconds = iperfSeconds
        self.log = log
        report = LabReport(underlay: lab.underlay.rawValue, controlPlane: lab.controlPlane.rawValue)
    }

    deinit {
        vxsw?.stop()
        frr?.stop()
    }

    /// Stops vxsw and FRR if they run (SIGTERM by PID, then SIGKILL after a grace period).
    public func stopDaemons() {
        stopSwitch()
        frr?.stop()
    }

    /// Starts FRR on hv2 (EVPN lab).
    public func startFRR() throws {
        let dir = workDir + "/frr-hv2"
        frr = try FRRInstance(in: lab.hv2, directory: dir, bgpdConfig: lab.frrConfig(logDirectory: dir))
    }

    /// EVPN lab: the session comes up and each side learns the other's VTEP from type-3 routes.
    func checkEVPNSessionAndFlooding() {
        check("BGP EVPN session vxsw (hv1) <-> FRR (hv2) established") {
            let up = waitUntil(timeout: 30) {
                (try? show(["bgp", "l2vpn", "evpn", "summary"])["peers"]?.objectValue?.values.first?["state"]?.stringValue) == "Established"
            }
            return (up, up ? "iBGP AS \(LabTopology.asn), l2vpn evpn" : "state \((try? show(["bgp", "l2vpn", "evpn", "summary"]).jsonText) ?? "?")")
        }
        check("type-3 routes: hv2 in vxsw's flood lists and hv1 in FRR's, for both VNIs, no static entries") {
            let vxswSide = waitUntil(timeout: 15) {
                guard let vnis: [VNIView] = try? show(["vni"]).decode() else { return false }
                return LabTopology.vnis.allSatisfy { v in vnis.first { $0.vni == v }?.floodList == [lab.hv2VTEP] }
            }
            let frrSide = waitUntil(timeout: 15) {
                LabTopology.vnis.allSatisfy { v in (try? frr?.vtysh("show evpn vni \(v)"))??.contains(lab.hv1VTEP) == true }
            }
            return (vxswSide && frrSide, "vxsw: \(vxswSide ? "ok" : "missing"), FRR: \(frrSide ? "ok" : "missing")")
        }
    }

    /// EVPN lab: FRR's `show evpn mac vni` and vxsw's agree on where each VM lives.
    func checkEVPNMACAgreement() {
        check("FRR and vxsw agree: `show evpn mac vni 1000` lists vm11 at hv1's VTEP and vm21 at hv2's") {
            let vm11 = lab.vm("vm11"), vm21 = lab.vm("vm21")
            let frrKnows = waitUntil(timeout: 10) {
                ((try? frr?.vtysh("show evpn mac vni 1000")) ?? "")?.split(separator: "\n").contains {
                    $0.contains(vm11.mac) && $0.contains("remote") && $0.contains(lab.hv1VTEP)
                } == true
            }
            let macs = (try? show(["mac", "--vni", "1000"]).decode() as MACTable)?.entries ?? []
            let vxswKnows = macs.contains { $0.mac == vm21.mac && $0.type == "evpn" && $0.vtep == lab.hv2VTEP }
            return (frrKnows && vxswKnows, "FRR: \(frrKnows ? "vm11 remote" : "vm11 missing"), vxsw: \(vxswKnows ? "vm21 via EVPN" : "vm21 missing")")
        }
    }

    func check(_ name: String, _ body: () throws -> (Bool, String)) { let c = LabCheck.run(name, say: log, body); report.checks.append(c) }

    /// `vxsw ARGS` against the lab's switch (port add/del, fdb ...).
    @discardableResult
    public func control(_ args: [String]) throws -> CommandResult {
        try VXLabKit.run([binary] + args + ["--socket", controlSocket], check: false)
    }

    /// Stops the switch (SIGTERM); returns its exit status.
    @discardableResult
    public func stopSwitch() -> Int32 {
        defer { vxsw = nil }
        return vxsw?.stop() ?? -1
    }

    /// `vxsw show ARGS --json` against the lab's switch.
    public func show(_ args: [String]) throws -> JSONValue {
        let out = try VXLabKit.run([binary, "show"] + args + ["--json", "--socket", controlSocket]).output
        return try JSONDecoder().decode(JSONValue.self, from: Data(out.utf8))
    }

    public func startSwitch() throws {
        let config = workDir + "/vxsw.yaml"
        try lab.switchConfig(controlSocket: controlSocket, metrics: metrics, agingTime: agingTime, fastPath: fastPath, workers: workers,
                             attach: attach, frames: frames).write(toFile: config, atomically: true, encoding: .utf8)
        log("starting vxsw on hv1: \(binary) run --config \(config)")
        vxsw = try startSwitchProcess(binary: binary, config: config, socket: controlSocket, in: lab.hv1,
                                      logPath: workDir + "/vxsw.log")
    }

    public func ping(_ from: NetworkNamespace, _ to: String, count: Int = 3) throws -> (Bool, String) {
        let r = try from.exec(["ping", "-c", String(count), "-i", "0.2", "-W", "2", to], check: false)
        let summary = r.output.split(separator: "\n").first { $0.contains("packets transmitted") }.map(String.init) ?? r.error
        return (r.succeeded, summary)
    }

    func iperf(from client: LabTopology.VM, to server: LabTopology.VM, reverse: Bool) throws -> (Bool, String) {
        let (gbps, detail) = try iperf3(from: client.namespace, to: server.namespace, address: server.address, seconds: iperfSeconds,
                                        reverse: reverse, workDir: workDir)
        if let gbps { report.tcpGbps[reverse ? "\(server.name)->\(client.name)" : "\(client.name)->\(server.name)"] = gbps }
        return (gbps != nil, detail)
    }

    /// Runs every check. Never throws: failures are recorded in the report.
    public func run() -> LabReport {
        let vm11 = lab.vm("vm11"), vm12 = lab.vm("vm12"), vm21 = lab.vm("vm21"), vm22 = lab.vm("vm22")
        let evpn = lab.controlPlane == .evpn
        if evpn {
            check("FRR starts on hv2 (zebra + bgpd, advertise-all-vni)") {
                try startFRR()
                return (true, "")
            }
            guard report.checks.last?.passed == true else { return report }
        }
        check("vxsw starts on hv1 and attaches ul0, tap11, tap12") {
            try startSwitch()
            return (true, "")
        }
        guard report.checks.last?.passed == true else { return report }
        if evpn { checkEVPNSessionAndFlooding() }
        check("host traffic on the uplink still reaches hv1's kernel (ping \(lab.hv2VTEP))") { try ping(lab.hv1, lab.hv2VTEP, count: 2) }
        check("VNI 1000: vm11 -> vm21 across VXLAN") { try ping(vm11.namespace, vm21.address) }
        check("VNI 1000: vm21 -> vm11 across VXLAN") { try ping(vm21.namespace, vm11.address) }
        check("VNI 2000: vm12 -> vm22 across VXLAN") { try ping(vm12.namespace, vm22.address) }
        check("VNI isolation: vm11 (VNI 1000) cannot reach 198.19.10.12, which lives in VNI 2000") {
            let (reached, summary) = try ping(vm11.namespace, "198.19.10.12", count: 2)
            let sawARP = [vm12, vm22].contains { vm in
                !((try? vm.namespace.exec(["ip", "neigh", "show", vm11.address]).output) ?? "").isEmpty
            }
            return (!reached && !sawARP, reached ? "LEAK: \(summary)" : (sawARP ? "LEAK: VNI 2000 saw vm11's ARP" : "unreachable, no ARP seen in VNI 2000"))
        }
        check("TCP vm11 -> vm21 (iperf3, \(iperfSeconds) s)") { try iperf(from: vm11, to: vm21, reverse: false) }
        check("TCP vm21 -> vm11 (iperf3 -R, \(iperfSeconds) s)") { try iperf(from: vm11, to: vm21, reverse: true) }
        check("vxsw show mac: local MACs on their taps, remote MACs behind hv2's VTEP, each in its own VNI") {
            let macs = try show(["mac"])
            report.macs = macs
            let entries = macs["entries"]?.arrayValue ?? []
            func has(_ vm: LabTopology.VM, _ key: String, _ value: String) -> Bool {
                entries.contains { $0["mac"]?.stringValue == vm.mac && $0["vni"]?.intValue == Int64(vm.vni) && $0[key]?.stringValue == value }
            }
            var missing: [String] = []
            if !has(vm11, "port", "tap11") { missing.append("vm11 on tap11") }
            if !has(vm12, "port", "tap12") { missing.append("vm12 on tap12") }
            if !has(vm21, "vtep", lab.hv2VTEP) { missing.append("vm21 behind \(lab.hv2VTEP)") }
            if !has(vm22, "vtep", lab.hv2VTEP) { missing.append("vm22 behind \(lab.hv2VTEP)") }
            return (missing.isEmpty, missing.isEmpty ? "\(entries.count) entries" : "missing: \(missing.joined(separator: ", "))")
        }
        if evpn { checkEVPNMACAgreement() }
        report.ports = (try? show(["ports"])) ?? .null
        report.stats = (try? show(["stats"])) ?? .null
        check("vxsw stops on SIGTERM and leaves no XDP program behind") {
            let status = stopSwitch()
            frr?.stop()
            let links = try lab.hv1.exec(["ip", "-o", "link", "show"]).output
            let leftover = links.range(of: #" xdp(generic|drv|offload)? "#, options: .regularExpression) != nil
            return (status == 0 && !leftover, "exit status \(status)\(leftover ? ", XDP still attached" : "")")
        }
        return report
    }
}

public struct LabError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One iperf3 TCP stream from `client` to a server started in `server` on `address` (`reverse`:
/// the server sends); Gbit/s received, or nil and why.
func iperf3(from client: NetworkNamespace, to server: NetworkNamespace, address: String, seconds: Int, reverse: Bool = false,
            workDir: String) throws -> (Double?, String) {
    let serverProcess = try server.spawn(["iperf3", "-s", "-1", "-B", address], logPath: workDir + "/iperf3-server.log")
    defer { serverProcess.stop(grace: 2) }
    _ = waitUntil(timeout: 5) { (try? server.exec(["ss", "-ltn", "sport = :5201"]).output.contains("5201")) == true }
    var args = ["iperf3", "-c", address, "-t", String(seconds), "-J", "--connect-timeout", "3000"]
    if reverse { args.append("-R") }
    let r = try client.exec(args, check: false)
    guard r.succeeded, let json = try? JSONDecoder().decode(JSONValue.self, from: Data(r.output.utf8)),
          let bps = json["end"]?["sum_received"]?["bits_per_second"]?.numberValue else {
        return (nil, "iperf3 failed: \(r.output.suffix(300)) \(r.error.suffix(300))")
    }
    return (bps / 1e9, String(format: "%.2f Gbit/s", bps / 1e9))
}
