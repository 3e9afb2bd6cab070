import ArgumentParser
import Foundation
import VXLab
import VXLabKit
import VXSwitch

/// The main job: build the two-hypervisor lab, run vxsw on hv1 against a kernel VTEP on hv2,
/// verify it switches, print a summary, remove everything.
struct Lab: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a lab in network namespaces, run vxsw against a kernel bridge+vxlan VTEP, verify and summarize.")

    @Option(help: "Underlay address family: ipv4, ipv6 or both.")
    var underlay: String = "both"

    @Option(help: "Where remote VTEPs and MACs come from: static, evpn (FRR on hv2, IPv4 underlay) or both.")
    var controlPlane: String = "both"

    @Option(help: "Seconds of each iperf3 TCP run.")
    var iperfSeconds: Int = 3

    @Option(help: "Write the report as JSON to this file.")
    var report: String?

    @Flag(inversion: .prefixedNo, help: "Also run real qemu guests on taps (default virtio-net offloads) through vxsw.")
    var realVMs: Bool = true

    @Flag(inversion: .prefixedNo, help: "Also run two vxsw routing a tenant's subnets through anycast gateways (symmetric IRB, FRR route reflector).")
    var routed: Bool = true

    func run() throws {
        guard isRoot else { throw ValidationError("vxsw lab needs root: it creates network namespaces and attaches XDP programs") }
        let families: [LabTopology.Underlay]
        switch underlay {
        case "both": families = [.ipv4, .ipv6]
        case "ipv4": families = [.ipv4]
        case "ipv6": families = [.ipv6]
        default: throw ValidationError("--underlay must be ipv4, ipv6 or both")
        }
        var runs: [LabRunner.Run] = []
        switch controlPlane {
        case "static": runs = families.map { LabRunner.Run($0) }
        case "evpn": runs = [LabRunner.Run(.ipv4, .evpn)]
        case "both": runs = families.map { LabRunner.Run($0) } + [LabRunner.Run(.ipv4, .evpn)]
        default: throw ValidationError("--control-plane must be static, evpn or both")
        }
        if routed { runs.append(.routed) }
        if realVMs { runs.append(.realVMs) }
        let binary = try resolvedExecutable()
        let runner = LabRunner(binary: binary, iperfSeconds: iperfSeconds)
        let reports = runner.run(runs)
        print(LabRunner.summary(reports, binary: binary))
        if let path = report {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(reports).write(to: URL(fileURLWithPath: path))
        }
        if !reports.allSatisfy(\.passed) { throw ExitCode(1) }
    }

    func resolvedExecutable() throws -> String {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return path
    }
}
