import Foundation
import VXLabKit
import VXSwitch

/// Runs the lab once per underlay family, keeps Ctrl-C and SIGTERM from leaving anything
/// behind, and formats the summary the README shows.
public final class LabRunner: @unchecked Sendable {
    let binary: String
    let iperfSeconds: Int
    private let lock = NSLock()
    private var current: LabTopology?
    private var currentScenario: LabScenario?
    private var currentSelfContained: SelfContainedScenario?
    private var signalSources: [TerminationHandler] = []

    public init(binary: String, iperfSeconds: Int) {
        self.binary = binary
        self.iperfSeconds = iperfSeconds
    }

    func say(_ line: String) { print(line); fflush(stdout) }

    /// One lab run: an underlay family and where remote VTEPs/MACs come from.
    public struct Run: Sendable {
        public var underlay: LabTopology.Underlay
        public var controlPlane: LabTopology.ControlPlane
        /// Real qemu guests on taps instead of veth "VMs" (`RealVMScenario`).
        public var realVMs: Bool
        /// Two vxsw routing a tenant's subnets through anycast gateways (`RoutedScenario`).
        public var routed: Bool
        public init(_ underlay: LabTopology.Underlay, _ controlPlane: LabTopology.ControlPlane = .static, realVMs: Bool = false,
                    routed: Bool = false) {
            self.underlay = underlay
            self.controlPlane = controlPlane
            self.realVMs = realVMs
            self.routed = routed
        }
        public static let realVMs = Run(.ipv4, .static, realVMs: true)
        public static let routed = Run(.ipv4, .evpn, routed: true)
        /// `LabReport.controlPlane` of the real-VM and the routed run.
        static let realVMPlane = "real-vm"
        static let routedPlane = "evpn-routed"
        var title: String {
            if realVMs { return "IPv4 underlay, real qemu guests on taps (default virtio-net offloads)" }
            if routed { return "IPv4 underlay, routing on the host: two vxsw, anycast gateways, symmetric IRB through an FRR route reflector" }
            return "\(underlay == .ipv4 ? "IPv4" : "IPv6") underlay, " + (controlPlane == .evpn ? "EVPN with FRR on hv2" : "static flood lists")
        }
        init(report: LabReport) {
            self.init(report.underlay == "ipv4" ? .ipv4 : .ipv6, report.controlPlane.hasPrefix("evpn") ? .evpn : .static,
                      realVMs: report.controlPlane == Run.realVMPlane, routed: report.controlPlane == Run.routedPlane)
        }
    }

    public func run(_ runs: [Run]) -> [LabReport] {
        trapSignals()
        defer { signalSources.forEach { $0.cancel() } }
        return runs.map(runOne)
    }

    private func runOne(_ run: Run) -> LabReport {
        let plane = run.realVMs ? Run.realVMPlane : run.routed ? Run.routedPlane : run.controlPlane.rawValue
        let work = NSTemporaryDirectory() + "vxsw-lab-\(labTag)-\(run.underlay.rawValue)-\(plane)"
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        say("\n== vxsw lab: \(run.title) ==")
        if run.routed || run.realVMs {
            let scenario: SelfContainedScenario = run.routed
                ? RoutedScenario(binary: binary, workDir: work, iperfSeconds: iperfSeconds) { self.say($0) }
                : RealVMScenario(binary: binary, workDir: work, iperfSeconds: iperfSeconds) { self.say($0) }
            lock.lock(); currentSelfContained = scenario; lock.unlock()
            var report = scenario.run()
            lock.lock(); currentSelfContained = nil; lock.unlock()
            say(scenario.removedMessage)
            report.log = (try? String(contentsOfFile: scenario.logPath, encoding: .utf8)) ?? ""
            if report.passed { try? FileManager.default.removeItem(atPath: work) } else { say("logs kept in \(work)") }
            return report
        }
        say("building the lab in network namespaces:")
        var report = LabReport(underlay: run.underlay.rawValue, controlPlane: run.controlPlane.rawValue)
        do {
            let lab = try LabTopology(underlay: run.underlay, controlPlane: run.controlPlane) { self.say("  \($0)") }
            lock.lock(); current = lab; lock.unlock()
            defer {
                lock.lock(); current = nil; currentScenario = nil; lock.unlock()
                lab.teardown()
                say("lab removed (namespaces, veths, bridges, vxlan devices\(run.controlPlane == .evpn ? ", FRR" : ""))")
            }
            say("verifying:")
            let scenario = LabScenario(lab: lab, binary: binary, workDir: work, iperfSeconds: iperfSeconds) { self.say($0) }
            lock.lock(); currentScenario = scenario; lock.unlock()
            report = scenario.run()
            report.log = (try? String(contentsOfFile: work + "/vxsw.log", encoding: .utf8)) ?? ""
        } catch {
            report.checks.append(LabCheck(name: "build the lab", passed: false, detail: "\(error)"))
            say("  FAIL build the lab — \(error)")
        }
        if report.passed {
            try? FileManager.default.removeItem(atPath: work)
        } else {
            say("logs kept in \(work)")
        }
        return report
    }

    /// On SIGINT/SIGTERM: stop the lab's daemons, tear the lab down, then exit.
    private func trapSignals() {
        signalSources = onTerminationSignal { [weak self] in
            self?.lock.lock()
            let lab = self?.current, scenario = self?.currentScenario, own = self?.currentSelfContained
            self?.lock.unlock()
            print("\ninterrupted: stopping vxsw and FRR, removing the lab")
            // Our children first, by PID: exit() runs no deinit, and a signal sent to this
            // process alone (kill, a CI timeout) never reaches them.
            scenario?.stopDaemons()
            lab?.teardown()
            own?.stop()
            if let scenario { print("logs kept in \(scenario.workDir)") }
            exit(130)
        }
    }

    public static func summary(_ reports: [LabReport], binary: String) -> String {
        var out = "\n== Summary ==\n"
        for r in reports {
            let passed = r.checks.filter(\.passed).count
            let title = Run(report: r).title
            out += "\n\(title): \(passed)/\(r.checks.count) checks passed\n"
            for c in r.checks { out += "  [\(c.passed ? "x" : " ")] \(c.name)\(c.detail.isEmpty ? "" : " (\(c.detail))")\n" }
            if !r.tcpGbps.isEmpty {
                out += "  TCP through vxsw (iperf3, one stream; \(buildKind(binary)) build): "
                out += r.tcpGbps.sorted { $0.key < $1.key }.map { String(format: "%@ %.2f Gbit/s", $0.key, $0.value) }.joined(separator: ", ") + "\n"
            }
            if let ports: [PortView] = try? r.ports.decode() {
                out += "\n  vxsw show ports:\n" + ShowText.ports(ports).split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n"
            }
            if let stats: StatsView = try? r.stats.decode() {
                let drops = stats.drops.filter { $0.value > 0 }.sorted { $0.key < $1.key }
                out += "  drops by reason: " + (drops.isEmpty ? "none" : drops.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")) + "\n"
                out += "  XDP program: " + stats.xdp.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "\n"
                if (stats.xdp["fast_encap"] ?? 0) + (stats.xdp["fast_decap"] ?? 0) + (stats.xdp["fast_local"] ?? 0) > 0 {
                    out += "  (frames the XDP fast path carried are in fast_encap/fast_decap/fast_local, not in the port counters)\n"
                }
            }
        }
        let all = reports.allSatisfy(\.passed)
        out += "\n\(all ? "PASS" : "FAIL"): vxsw \(all ? "switched" : "did not switch") VM traffic over VXLAN in every lab run.\n"
        return out
    }

    static func buildKind(_ binary: String) -> String {
        binary.contains("/release/") ? "release" : (binary.contains("/debug/") ? "debug" : "")
    }
}
