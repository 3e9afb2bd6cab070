import Foundation
import VXConfig
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// The vxsw binary built next to the test bundle (tools/test builds both).
func vxswBinary() throws -> String {
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    for candidate in [dir + "/vxsw", dir + "/../vxsw"] where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    throw LabError("vxsw binary not found next to \(CommandLine.arguments[0]); build it first (`swift build`, as tools/test does)")
}

/// The Prometheus page (HTTP head and body) of a vxsw whose `control.metrics` is
/// 127.0.0.1:PORT inside `namespace`, fetched with bash's /dev/tcp in there.
func metricsPage(in namespace: NetworkNamespace, port: Int = 9469) throws -> String {
    try namespace.exec(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\(port); printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"]).output
}

/// A lab (IPv4 underlay unless said) with vxsw running on hv1, torn down by `close()`.
final class RunningLab {
    let lab: LabTopology
    let scenario: LabScenario
    let workDir: String

    init(underlay: LabTopology.Underlay = .ipv4, controlPlane: LabTopology.ControlPlane = .static, tag: String,
         agingTime: Int = 300, metrics: String = "off", fastPath: String = "true", workers: String? = nil,
         uplinkQueues: Int = 1, attach: String? = nil, frames: Int = 8192) throws {
        lab = try LabTopology(underlay: underlay, controlPlane: controlPlane, prefix: "vxt\(labTag)\(tag)",
                              uplinkQueues: uplinkQueues)
        workDir = NSTemporaryDirectory() + "vxsw-test-\(labTag)-\(tag)"
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        scenario = LabScenario(lab: lab, binary: try vxswBinary(), workDir: workDir) { _ in }
        scenario.agingTime = agingTime
        scenario.metrics = metrics
        scenario.fastPath = fastPath
        scenario.workers = workers
        scenario.attach = attach
        scenario.frames = frames
        do {
            if controlPlane == .evpn { try scenario.startFRR() }
            try scenario.startSwitch()
        } catch { close(); throw error }
    }

    func close() {
        scenario.stopSwitch()
        lab.teardown()
        try? FileManager.default.removeItem(atPath: workDir)
    }

    func show(_ args: [String]) throws -> JSONValue { try scenario.show(args) }

    func stats() throws -> StatsView { try show(["stats"]).decode() }

    func macs() throws -> [MACView] { try (show(["mac"]).decode() as MACTable).entries }

    func vxsw(_ args: [String]) throws -> CommandResult { try scenario.control(args) }

    /// A further VM on hv1: a namespace with eth0 (addressed when `address` is given),
    /// its peer `tap` in hv1. Not yet a switch port. Removed with the test's `defer`.
    func addVM(_ name: String, tap: String, address: String?) throws -> NetworkNamespace {
        let vm = try NetworkNamespace("\(lab.hv1.name.dropLast(4))-\(name)")
        try addVeth("eth0", in: vm, tap, in: lab.hv1)
        try vm.exec(["ethtool", "-K", "eth0", "gro", "on"]) // takes XDP redirects (LabTopology)
        if let address { try vm.exec(["ip", "addr", "add", "\(address)/24", "dev", "eth0"]) }
        return vm
    }

    /// XDP attachments in hv1, as `ip -o link` shows them.
    func xdpAttached(_ interface: String) throws -> Bool { try xdpMode(interface) != nil }
}

extension RunningLab {
    /// A further VM on hv1 behind a macvlan in passthru mode: `port` is a macvlan (no native
    /// XDP) over `port`l, the veth whose peer is the VM's eth0. Not yet a switch port.
    func addMacvlanVM(_ name: String, port: String, address: String?) throws -> NetworkNamespace {
        let vm = try addVM(name, tap: port + "l", address: address)
        try Self.macvlan(port, over: port + "l", in: lab.hv1)
        return vm
    }

    /// Creates macvlan `name` (passthru: every frame of `lower` is its) in `ns`, IPv6 off so
    /// hv1's kernel sends nothing of its own on it, and up.
    static func macvlan(_ name: String, over lower: String, in ns: NetworkNamespace) throws {
        try ns.exec(["ip", "link", "add", "link", lower, "name", name, "type", "macvlan", "mode", "passthru"])
        try ns.exec(["sysctl", "-qw", "net.ipv6.conf.\(name).disable_ipv6=1"])
        try ns.exec(["ip", "link", "set", name, "up"])
    }

    /// How hv1 attached XDP to `interface`: "xdpgeneric", "xdp" (native) or nil.
    func xdpMode(_ interface: String) throws -> String? {
        let line = try lab.hv1.exec(["ip", "-o", "link", "show", interface], check: false).output
        return line.range(of: #" xdp(generic|drv|offload)? "#, options: .regularExpression).map { line[$0].trimmingCharacters(in: .whitespaces) }
    }

}

/// A counter of `interface` in `ns` as its kernel keeps it (`statistic`: rx_packets, tx_packets, ...).
func interfaceCounter(_ statistic: String, of interface: String, in ns: NetworkNamespace) throws -> UInt64 {
    UInt64(try ns.exec(["cat", "/sys/class/net/\(interface)/statistics/\(statistic)"]).output
        .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
}
