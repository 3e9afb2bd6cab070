// What `vxsw tune` reads from the host, as plain data. `Inspector` fills it
// through a HostReader; the rules (Rules*.swift) only look at this data.

public enum Mode: String, Codable, Sendable, CaseIterable {
    /// vxsw's AF_XDP data plane on pinned worker CPUs.
    case afxdp
    /// The kernel path (bridge + vxlan device), vxsw only as control plane.
    case kernel
}

/// How a port's frames reach vxsw (vxsw's port config `io:`): `auto` = a packet
/// socket with the virtio-net header for taps, AF_XDP for everything else.
public enum PortIOSetting: String, Codable, Sendable, CaseIterable {
    case auto, xdp, packet
}

/// What vxsw is set to do; the recommendations depend on it.
public struct TuneOptions: Codable, Equatable, Sendable {
    public var uplink: String?
    /// VM-facing ports (or any other interface to inspect).
    public var ports: [String]
    public var mode: Mode
    public var workers: [Int]
    public var overlayMTU: Int
    /// Port name → its configured `io`, when vxsw's config is known (absent: not known).
    public var portIO: [String: PortIOSetting]

    public init(uplink: String? = nil, ports: [String] = [], mode: Mode = .afxdp, workers: [Int] = [], overlayMTU: Int = 1500,
                portIO: [String: PortIOSetting] = [:]) {
        self.uplink = uplink; self.ports = ports; self.mode = mode; self.workers = workers; self.overlayMTU = overlayMTU
        self.portIO = portIO
    }
}

public struct IRQInfo: Codable, Equatable, Sendable {
    public var number: Int
    /// The action name from /proc/interrupts ("eth0-TxRx-0", "virtio2-input.0").
    public var name: String
    public var affinity: Reading<[Int]>
}

public struct InterfaceInspection: Codable, Equatable, Sendable {
    public enum Role: String, Codable, Sendable { case uplink, port }
    public var name: String
    public var role: Role
    public var mtu: Reading<Int>
    public var driver: Reading<DriverInfo>
    /// Driver name from sysfs (device/driver link), when ethtool cannot say.
    public var sysfsDriver: Reading<String>
    public var numaNode: Reading<Int>
    public var queues: Reading<Int>
    public var rings: Reading<RingParams>
    public var channels: Reading<Channels>
    public var coalesce: Reading<Coalesce>
    /// Only the features the rules look at (see Inspector.featureNames).
    public var features: Reading<Features>
    public var privateFlags: Reading<[String: Bool]>
    public var irqs: Reading<[IRQInfo]>
    public var rpFilter: Reading<Int>
    public var xdp: XDPSupport
    /// The XDP program attached now, if any.
    public var xdpAttached: Reading<XDPAttachment>
    /// net.ipv6.conf.NAME.disable_ipv6 (missing when the host has no IPv6).
    public var ipv6Disabled: Reading<Int>
    /// The host's own IPv6 addresses on it (/proc/net/if_inet6).
    public var ipv6Addresses: Reading<[String]>

    /// The driver name from ethtool, else from sysfs.
    public var driverName: String? { driver.value?.driver ?? sysfsDriver.value }
    /// A tun/tap device (driver "tun"; ethtool's bus-info says "tap" or "tun").
    public var isTun: Bool { driverName == "tun" }
}

public struct ConntrackState: Codable, Equatable, Sendable {
    public var loaded: Bool
    /// Entries for UDP 4789 in the table right now (nil: table not readable).
    public var vxlanEntries: Int?
}

public struct SystemInspection: Codable, Equatable, Sendable {
    public var kernelRelease: Reading<String>
    public var onlineCPUs: Reading<[Int]>
    /// CPU → its SMT siblings (itself included), for the worker CPUs.
    public var smtSiblings: [Int: Reading<[Int]>]
    /// CPU → NUMA node, for the worker CPUs.
    public var cpuNode: [Int: Reading<Int>]
    /// CPU → scaling governor, for the worker CPUs (or all online ones when no workers are given).
    public var governors: [Int: Reading<String>]
    /// Dotted sysctl name → value.
    public var sysctls: [String: Reading<String>]
    public var irqbalanceRunning: Reading<Bool>
    public var conntrack: Reading<ConntrackState>
}

public struct Inspection: Codable, Equatable, Sendable {
    public var options: TuneOptions
    public var system: SystemInspection
    public var interfaces: [InterfaceInspection]
}
