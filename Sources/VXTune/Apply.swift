// `--apply`: makes the runtime-safe changes of the findings, one at a time,
// after reading the value it replaces, so each change has an exact revert.
// The caller (the CLI) asks for confirmation; nothing here prompts.

public struct AppliedChange: Codable, Equatable, Sendable {
    public var change: Change
    /// The change that restores the value read just before applying.
    public var revert: Change?
    /// Why it failed, when it did (nothing was changed then).
    public var error: String?

    public var command: String { change.command }
    public var revertCommand: String? { revert?.command }
}

public struct Applier<Host: HostReader & HostWriter> {
    public let host: Host

    public init(host: Host) { self.host = host }

    /// The runtime-safe changes of `findings`, in report order, without duplicates.
    public static func changes(of findings: [Finding]) -> [Change] {
        var out: [Change] = []
        for f in findings { for c in f.changes where !out.contains(c) { out.append(c) } }
        return out
    }

    public func apply(_ changes: [Change]) -> [AppliedChange] {
        changes.map { change in
            switch revert(of: change) {
            case .failure(let e):
                return AppliedChange(change: change, revert: nil, error: "could not read the current value: \(e)")
            case .success(let revert):
                if case .failure(let e) = execute(change) {
                    return AppliedChange(change: change, revert: nil, error: "\(e)")
                }
                return AppliedChange(change: change, revert: revert, error: nil)
            }
        }
    }

    /// Performs one change through ioctls and file writes.
    public func execute(_ change: Change) -> Result<Void, ReadError> {
        switch change {
        case .rings(let i, let rx, let tx): return host.setRings(i, rx: rx, tx: tx)
        case .channels(let i, let c): return host.setChannels(i, c)
        case .coalesce(let i, let u, let a): return host.setCoalesce(i, rxUsecs: u, adaptiveRx: a)
        case .features(let i, let set): return host.setFeatures(i, set)
        case .sysctl(let name, let value): return host.writeFile(Inspector<Host>.sysctlPath(name), value + "\n")
        case .irqAffinity(let irq, let cpus): return host.writeFile("/proc/irq/\(irq)/smp_affinity_list", CPUList.format(cpus) + "\n")
        case .governor(let cpu, let g): return host.writeFile("/sys/devices/system/cpu/cpu\(cpu)/cpufreq/scaling_governor", g + "\n")
        }
    }

    /// The change that would restore what `change` replaces, from the value read now.
    func revert(of change: Change) -> Result<Change, ReadError> {
        switch change {
        case .rings(let i, _, _):
            return host.rings(i).map { .rings(interface: i, rx: $0.rx, tx: $0.tx) }
        case .channels(let i, _):
            return host.channels(i).map { .channels(interface: i, $0) }
        case .coalesce(let i, let u, let a):
            return host.coalesce(i).map { .coalesce(interface: i, rxUsecs: u == nil ? nil : $0.rxUsecs, adaptiveRx: a == nil ? nil : $0.adaptiveRx) }
        case .features(let i, let set):
            return host.features(i).flatMap { f in
                var old: [String: Bool] = [:]
                for name in set.keys {
                    guard let s = f[name] else { return .failure(.unsupported("feature \(name) on \(i)")) }
                    old[name] = s.requested
                }
                return .success(.features(interface: i, old))
            }
        case .sysctl(let name, _):
            return host.readTrimmed(Inspector<Host>.sysctlPath(name)).map { .sysctl(name: name, value: $0) }
        case .irqAffinity(let irq, _):
            return host.readTrimmed("/proc/irq/\(irq)/smp_affinity_list").flatMap { text in
                CPUList.parse(text).map { .success(.irqAffinity(irq: irq, cpus: $0)) } ?? .failure(.failed("parsing affinity", text))
            }
        case .governor(let cpu, _):
            return host.readTrimmed("/sys/devices/system/cpu/cpu\(cpu)/cpufreq/scaling_governor").map { .governor(cpu: cpu, governor: $0) }
        }
    }
}
