import VXCore
import VXTune

/// What `vxsw run` needs to know about the host it starts on: read once by `HostFacts.live()`
/// (Linux, no privileges needed), or written by hand in tests.
public struct HostFacts: Equatable, Sendable {
    /// Interfaces of this network namespace: name → MTU (0 when it could not be read).
    public var interfaces: [String: Int]
    /// Addresses configured on any interface of this namespace.
    public var addresses: Set<IPAddress>
    /// CPUs that are online (/sys/devices/system/cpu/online); nil when unreadable.
    public var onlineCPUs: [Int]?
    /// CPUs this process may run on (sched_getaffinity); nil when unreadable.
    public var allowedCPUs: [Int]?
    /// Receive queues of each interface (sysfs `queues/rx-*`), where known.
    public var rxQueues: [String: Int]

    public init(interfaces: [String: Int] = [:], addresses: Set<IPAddress> = [], onlineCPUs: [Int]? = nil, allowedCPUs: [Int]? = nil,
                rxQueues: [String: Int] = [:]) {
        self.interfaces = interfaces
        self.addresses = addresses
        self.onlineCPUs = onlineCPUs
        self.allowedCPUs = allowedCPUs
        self.rxQueues = rxQueues
    }
}

/// What the host checks found: errors stop `vxsw run` (and fail `--check`), warnings and
/// notes are printed and the switch starts.
public struct HostCheckReport: Equatable, Sendable {
    public var errors: [ConfigError] = []
    public var warnings: [ConfigError] = []
    public var notes: [ConfigError] = []

    public init() {}

    public enum Severity: String, Sendable { case error, warning, note }

    /// One line each with its severity, the way `vxsw run` prints them: `warning: uplink.mtu: ...`.
    public var findings: [(severity: Severity, line: String)] {
        errors.map { (.error, "error: \($0)") } + warnings.map { (.warning, "warning: \($0)") } + notes.map { (.note, "note: \($0)") }
    }

    public var lines: [String] { findings.map(\.line) }
}

extension SwitchConfig {
    /// Checks this config against the host: the uplink exists, the VTEP addresses are local,
    /// the worker CPUs exist and may be used, and the uplink MTU carries the ports' frames.
    public func checkHost(_ host: HostFacts) -> HostCheckReport {
        var report = HostCheckReport()
        checkUplinkExists(host, &report)
        checkVTEPAddresses(host, &report)
        checkWorkerCPUs(host, &report)
        checkWorkersHaveQueues(host, &report)
        checkMTUChain(host, &report)
        return report
    }

    private func checkUplinkExists(_ host: HostFacts, _ report: inout HostCheckReport) {
        guard let uplink, host.interfaces[uplink.interface] == nil else { return }
        report.errors.append(ConfigError(path: "uplink.interface", problem: "\(uplink.interface) does not exist in this network namespace"))
    }

    private func checkVTEPAddresses(_ host: HostFacts, _ report: inout HostCheckReport) {
        for (field, address, prefix) in [("vtep.ipv4", vtep.ipv4, 32), ("vtep.ipv6", vtep.ipv6, 128)] {
            guard let address, !host.addresses.contains(address) else { continue }
            report.errors.append(ConfigError(
                path: field,
                problem: "\(address) is not configured on any interface of this host (ip addr add \(address)/\(prefix) dev lo, or fix the field)"))
        }
    }

    private func checkWorkerCPUs(_ host: HostFacts, _ report: inout HostCheckReport) {
        for (i, cpu) in datapath.workers.enumerated() {
            let path = "datapath.workers[\(i)]"
            if let online = host.onlineCPUs, !online.contains(cpu) {
                report.errors.append(ConfigError(path: path, problem: "CPU \(cpu) does not exist (this host has CPUs \(CPUList.format(online)))"))
            } else if let allowed = host.allowedCPUs, !allowed.contains(cpu) {
                report.errors.append(ConfigError(
                    path: path,
                    problem: "CPU \(cpu) is not in this process's CPU affinity (allowed: \(CPUList.format(allowed)); see taskset, the cgroup cpuset or systemd CPUAffinity=)"))
            }
        }
    }

    /// A worker receives from the uplink only on a queue of its own: with more workers than
    /// the uplink's rx queues (or `uplink.queues` lists), the others get only VM ports' frames.
    private func checkWorkersHaveQueues(_ host: HostFacts, _ report: inout HostCheckReport) {
        guard let uplink, datapath.workers.count > 1, let available = host.rxQueues[uplink.interface] else { return }
        var queues = available
        if case .list(let list) = uplink.queues { queues = list.count }
        guard datapath.workers.count > queues else { return }
        let listed = queues == available ? "has \(queues) rx queue\(queues == 1 ? "" : "s")" : "uses \(queues) of its rx queues (uplink.queues)"
        report.warnings.append(ConfigError(
            path: "datapath.workers",
            problem: "\(datapath.workers.count) workers but \(uplink.interface) \(listed): a worker receives from the uplink on a queue "
                + "of its own, so \(datapath.workers.count - queues) of them get only VM ports' frames and the uplink's transmit ring is shared "
                + "(ethtool -L \(uplink.interface) combined \(datapath.workers.count), or fewer workers)"))
    }

    /// Inner frames of every VM port must fit the uplink MTU minus the encapsulation. A port
    /// that does not exist yet is a note: vxsw attaches it when it appears.
    private func checkMTUChain(_ host: HostFacts, _ report: inout HostCheckReport) {
        for (i, port) in ports.enumerated() where host.interfaces[port.name] == nil {
            report.notes.append(ConfigError(
                path: "ports[\(i)].name", problem: "\(port.name) does not exist yet; vxsw attaches it when it appears (its MTU is not checked)"))
        }
        guard let uplink else { return }
        let ipv6 = vtep.ipv6 != nil
        let overhead = Uplink.encapOverhead(ipv6: ipv6)
        let underlay = ipv6 ? "an IPv6 underlay" : "an IPv4 underlay"
        let existing = ports.enumerated().compactMap { i, p in host.interfaces[p.name].flatMap { $0 > 0 ? (i, p.name, $0) : nil } }
        guard let (i, name, portMTU) = existing.max(by: { $0.2 < $1.2 }) else { return }
        let needed = portMTU + overhead
        switch uplink.mtu {
        case .fixed(let mtu) where mtu < needed:
            report.errors.append(ConfigError(
                path: "uplink.mtu",
                problem: "\(mtu) is too small: port \(name) (ports[\(i)]) has MTU \(portMTU), which needs \(needed) with \(underlay) (+\(overhead))"))
        case .auto:
            guard let mtu = host.interfaces[uplink.interface], mtu > 0, mtu < needed else { return }
            report.warnings.append(ConfigError(
                path: "uplink.mtu",
                problem: "\(uplink.interface) has MTU \(mtu) but port \(name) (ports[\(i)]) has MTU \(portMTU), which needs \(needed) with \(underlay) (+\(overhead)); "
                    + "its frames over \(mtu - overhead) bytes are dropped (ip link set \(uplink.interface) mtu \(needed), or lower the port's MTU)"))
        default:
            return
        }
    }
}
