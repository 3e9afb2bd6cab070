import Foundation
import VXCore

extension HostCheckReport {
    /// Adds `other`'s findings after this report's.
    public mutating func append(_ other: HostCheckReport) {
        errors += other.errors
        warnings += other.warnings
        notes += other.notes
    }
}

/// `vxsw run --check` on the state file the config names: the file must be readable (a start
/// refuses a corrupt one, so `--check` does too), and each entry is held against the config
/// the way the daemon's start will treat it. Reads the file, never writes it.
///
/// Entries the start would skip (a port or MAC in a VNI the config no longer has) and entries
/// the config's own rules would refuse (a MAC on a port that does not carry its VNI, or toward a
/// VTEP of a family vtep lacks) are warnings: vxsw still starts. Entries the config overrides are
/// notes. Each one names the file and the entry (`ports[1]`, `fdb.static[0]`).
extension SwitchConfig {
    /// Reads `control.state-file` (if set and present) and checks it; nothing when there is none.
    public func checkStateFile() -> HostCheckReport {
        var report = HostCheckReport()
        guard let path = control.stateFile else { return report }
        // A non-root --check may not see into /var/lib/vxsw (0700): say so rather than call it absent.
        var info = stat()
        if stat(path, &info) != 0 ? errno == EACCES : access(path, R_OK) != 0 {
            report.notes.append(ConfigError(
                path: "control.state-file", problem: "\(path) is not readable by this user; not checked (run --check as root)"))
            return report
        }
        do {
            guard let state = try RunState.load(path: path) else { return report }
            report = checkState(state, file: path)
        } catch {
            report.errors.append(ConfigError(message: "\(error)"))
        }
        return report
    }

    /// `state` against this config; `file` names it in every finding.
    public func checkState(_ state: RunState, file: String) -> HostCheckReport {
        var report = HostCheckReport()
        let known = Set(vnis.map(\.vni))
        func field(_ path: String) -> String { "state file \(file): \(path)" }
        func list(_ vnis: [VNI]) -> String { vnis.map { String($0.value) }.joined(separator: ", ") }

        for (i, port) in state.ports.enumerated() {
            let entry = "ports[\(i)]"
            if self.port(named: port.name) != nil {
                report.notes.append(ConfigError(
                    path: field("\(entry).name"), problem: "port \(port.name) is in the config too; the config's settings are used"))
                continue
            }
            let missing = port.vnis.filter { !known.contains($0) }
            if !missing.isEmpty {
                report.warnings.append(ConfigError(
                    path: field(entry),
                    problem: "port \(port.name) uses VNI \(list(missing)), which the config does not declare in vnis; "
                        + "vxsw skips it at start (declare the VNI, or vxsw port del \(port.name) to forget it)"))
            }
        }

        let ports = self.ports + state.ports.filter { self.port(named: $0.name) == nil }
        for (i, e) in state.staticEntries.enumerated() {
            let entry = "fdb.static[\(i)]"
            let forget = "vxsw fdb del \(e.mac) --vni \(e.vni) to forget it"
            if fdb.staticEntries.contains(where: { $0.vni == e.vni && $0.mac == e.mac }) {
                report.notes.append(ConfigError(
                    path: field(entry), problem: "\(e.mac) in VNI \(e.vni) is in the config too; the config's entry is used"))
                continue
            }
            guard known.contains(e.vni) else {
                report.warnings.append(ConfigError(
                    path: field("\(entry).vni"),
                    problem: "\(e.mac) is in VNI \(e.vni), which the config does not declare in vnis; vxsw skips it at start (\(forget))"))
                continue
            }
            switch e.target {
            case .port(let name):
                guard let port = ports.first(where: { $0.name == name }) else {
                    report.warnings.append(ConfigError(
                        path: field("\(entry).port"),
                        problem: "\(e.mac) in VNI \(e.vni) points at port \(name), which neither the config nor the state file has; "
                            + "it is installed only once a port of that name is added (\(forget))"))
                    continue
                }
                if !port.vnis.contains(e.vni) {
                    report.warnings.append(ConfigError(
                        path: field("\(entry).port"),
                        problem: "\(e.mac) in VNI \(e.vni) points at port \(name), which does not carry VNI \(e.vni) "
                            + "(it carries \(list(port.vnis))); the config would refuse such an entry (\(forget))"))
                }
            case .vtep(let remote):
                if vtep.localAddress(toward: remote) == nil {
                    report.warnings.append(ConfigError(
                        path: field("\(entry).vtep"),
                        problem: "\(e.mac) in VNI \(e.vni) points at \(remote), but vtep has no \(remote.isIPv4 ? "ipv4" : "ipv6") "
                            + "address; the config would refuse such an entry (\(forget))"))
                }
            }
        }
        return report
    }
}
