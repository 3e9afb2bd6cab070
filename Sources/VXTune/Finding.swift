// A finding: what was found, why it matters for VXLAN, how to fix it now and
// how to keep the fix across reboots. `changes` are the runtime-safe fixes
// `--apply` may make; a finding without changes is advice only.

public enum Severity: String, Codable, Comparable, Sendable {
    case info, warn, critical
    var rank: Int { self == .info ? 0 : self == .warn ? 1 : 2 }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// How to make a fix survive a reboot: a file and what to put in it.
public struct Persistence: Codable, Equatable, Sendable {
    public var how: String
    public var file: String
    public var snippet: String
}

/// One runtime change `--apply` can make, and can undo.
public enum Change: Codable, Equatable, Sendable {
    case rings(interface: String, rx: UInt32, tx: UInt32)
    case channels(interface: String, Channels)
    case coalesce(interface: String, rxUsecs: UInt32?, adaptiveRx: Bool?)
    case features(interface: String, [String: Bool])
    case sysctl(name: String, value: String)
    case irqAffinity(irq: Int, cpus: [Int])
    case governor(cpu: Int, governor: String)

    /// The shell command that makes this change (what an operator would type).
    public var command: String {
        switch self {
        case .rings(let i, let rx, let tx):
            return "ethtool -G \(i) rx \(rx) tx \(tx)"
        case .channels(let i, let c):
            var args: [String] = []
            if c.combined > 0 || (c.rx == 0 && c.tx == 0) { args.append("combined \(c.combined)") }
            if c.rx > 0 { args.append("rx \(c.rx)") }
            if c.tx > 0 { args.append("tx \(c.tx)") }
            return "ethtool -L \(i) " + args.joined(separator: " ")
        case .coalesce(let i, let usecs, let adaptive):
            var args: [String] = []
            if let a = adaptive { args.append("adaptive-rx \(a ? "on" : "off")") }
            if let u = usecs { args.append("rx-usecs \(u)") }
            return "ethtool -C \(i) " + args.joined(separator: " ")
        case .features(let i, let set):
            return "ethtool -K \(i) " + set.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value ? "on" : "off")" }.joined(separator: " ")
        case .sysctl(let name, let value):
            return "sysctl -w \(name)=\(value)"
        case .irqAffinity(let irq, let cpus):
            return "echo \(CPUList.format(cpus)) > /proc/irq/\(irq)/smp_affinity_list"
        case .governor(let cpu, let g):
            return "echo \(g) > /sys/devices/system/cpu/cpu\(cpu)/cpufreq/scaling_governor"
        }
    }
}

public struct Finding: Codable, Equatable, Sendable {
    /// Stable rule id, e.g. "rings.below-max".
    public var id: String
    public var severity: Severity
    /// Interface name, or "system".
    public var subject: String
    /// What was found.
    public var found: String
    /// Why it matters for VXLAN throughput or latency.
    public var why: String
    /// Commands that fix it now (the `changes` as commands, plus advice-only ones).
    public var fixNow: [String]
    public var persist: [Persistence]
    /// Runtime-safe changes `--apply` may make.
    public var changes: [Change]
    /// True when it comes from knowledge about one driver, not from a generic rule.
    public var driverSpecific: Bool
    /// True when the finding is "cannot tell": a reading was unavailable.
    public var cannotTell: Bool

    public init(id: String, severity: Severity, subject: String, found: String, why: String,
                changes: [Change] = [], advice: [String] = [], persist: [Persistence] = [],
                driverSpecific: Bool = false, cannotTell: Bool = false) {
        self.id = id; self.severity = severity; self.subject = subject; self.found = found; self.why = why
        self.fixNow = changes.map(\.command) + advice
        self.persist = persist; self.changes = changes
        self.driverSpecific = driverSpecific; self.cannotTell = cannotTell
    }

    /// "Cannot tell" for a reading that failed; never a guess.
    static func cannotTell(_ id: String, _ subject: String, _ what: String, _ error: ReadError, why: String) -> Finding {
        Finding(id: id, severity: .info, subject: subject, found: "cannot tell \(what): \(error)", why: why, cannotTell: true)
    }
}

/// Snippets for making a fix persistent.
enum Persist {
    static func link(_ ifname: String, _ lines: [String]) -> Persistence {
        Persistence(how: "systemd-networkd/udev .link file (applied when the device appears; copy NamePolicy= and MACAddressPolicy= from 99-default.link)",
                    file: "/etc/systemd/network/10-vxsw-\(ifname).link",
                    snippet: "[Match]\nOriginalName=\(ifname)\n\n[Link]\n" + lines.joined(separator: "\n"))
    }

    static func udev(_ ifname: String, _ commands: [String]) -> Persistence {
        Persistence(how: "udev rule",
                    file: "/etc/udev/rules.d/70-vxsw-tune.rules",
                    snippet: commands.map { "ACTION==\"add\", SUBSYSTEM==\"net\", KERNEL==\"\(ifname)\", RUN+=\"/usr/sbin/\($0)\"" }
                        .joined(separator: "\n"))
    }

    static func ifupdown(_ ifname: String, _ commands: [String]) -> Persistence {
        Persistence(how: "ifupdown2 stanza", file: "/etc/network/interfaces",
                    snippet: "iface \(ifname)\n" + commands.map { "    post-up /usr/sbin/\($0)" }.joined(separator: "\n"))
    }

    static func sysctl(_ pairs: [(String, String)]) -> Persistence {
        Persistence(how: "sysctl.d file (loaded by systemd-sysctl at boot)", file: "/etc/sysctl.d/90-vxsw.conf",
                    snippet: pairs.map { "\($0.0) = \($0.1)" }.joined(separator: "\n"))
    }

    /// For an ethtool change: .link keys when systemd has them, udev and ifupdown2 otherwise too.
    static func ethtool(_ ifname: String, _ change: Change, linkKeys: [String]) -> [Persistence] {
        var out: [Persistence] = []
        if !linkKeys.isEmpty { out.append(link(ifname, linkKeys)) }
        out.append(udev(ifname, [change.command]))
        out.append(ifupdown(ifname, [change.command]))
        return out
    }
}
