// Reads everything the rules need, through any HostReader.

public struct Inspector<Host: HostReader> {
    public let host: Host

    public init(host: Host) { self.host = host }

    /// The netdev features the rules look at (ETH_SS_FEATURES names).
    public static var featureNames: [String] {
        [
            "tx-udp_tnl-segmentation", "tx-udp_tnl-csum-segmentation", "rx-udp_tunnel-port-offload",
            "rx-gro", "rx-lro", "rx-gro-hw", "rx-udp-gro-forwarding",
            "tx-generic-segmentation", "tx-tcp-segmentation", "tx-tcp6-segmentation", "tx-udp-segmentation",
            "rx-checksum", "tx-checksum-ipv4", "tx-checksum-ipv6", "tx-checksum-ip-generic",
        ]
    }

    static var sysctlNames: [String] {
        [
            "net.core.rmem_max", "net.core.wmem_max", "net.core.netdev_max_backlog", "net.core.netdev_budget",
            "net.core.busy_poll", "net.core.busy_read", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter",
        ]
    }

    public func inspect(_ options: TuneOptions) -> Inspection {
        let system = inspectSystem(options)
        var names: [(String, InterfaceInspection.Role)] = []
        if let u = options.uplink { names.append((u, .uplink)) }
        for p in options.ports where p != options.uplink { names.append((p, .port)) }
        let interrupts = host.readFile("/proc/interrupts")
        let interfaces = names.map { inspectInterface($0.0, role: $0.1, interrupts: interrupts, kernel: system.kernelRelease.value) }
        return Inspection(options: options, system: system, interfaces: interfaces)
    }

    // MARK: interfaces

    func inspectInterface(_ name: String, role: InterfaceInspection.Role,
                          interrupts: Result<String, ReadError>, kernel: String?) -> InterfaceInspection {
        let net = "/sys/class/net/\(name)"
        let driver = Reading(host.driverInfo(name))
        let sysfsDriver = Reading(host.readLink("\(net)/device/driver").map { lastComponent($0) })
        let numa = Reading(host.readInt("\(net)/device/numa_node"))
        let queues = Reading(host.listDirectory("\(net)/queues").map { $0.filter { $0.hasPrefix("rx-") }.count })
        let wanted = Set(Self.featureNames)
        let features = Reading(host.features(name).map { $0.filter { wanted.contains($0.key) } })
        var inspection = InterfaceInspection(
            name: name, role: role,
            mtu: Reading(host.readInt("\(net)/mtu")),
            driver: driver, sysfsDriver: sysfsDriver,
            numaNode: numa, queues: queues,
            rings: Reading(host.rings(name)),
            channels: Reading(host.channels(name)),
            coalesce: Reading(host.coalesce(name)),
            features: features,
            privateFlags: Reading(host.privateFlags(name)),
            irqs: .unknown(.missing("IRQs")),
            rpFilter: Reading(host.readInt("/proc/sys/net/ipv4/conf/\(name)/rp_filter")),
            xdp: DriverKnowledge.xdp(driver: nil),
            xdpAttached: Reading(host.xdpAttachment(name)),
            ipv6Disabled: Reading(host.readInt("/proc/sys/net/ipv6/conf/\(name)/disable_ipv6")),
            ipv6Addresses: Reading(host.readFile("/proc/net/if_inet6").map { Self.ipv6Addresses(name, table: $0) }))
        inspection.xdp = DriverKnowledge.xdp(driver: inspection.driverName, kernelRelease: kernel)
        inspection.irqs = Reading(interrupts).map { queueIRQs(name, bus: driver.value?.bus, table: $0) }
        return inspection
    }

    /// The NIC's queue interrupts: actions named after the interface
    /// ("eth0-TxRx-3"), virtio queues of its device ("virtio2-input.0"), mlx5
    /// completion vectors of its PCI function ("mlx5_comp3@pci:0000:3b:00.0").
    func queueIRQs(_ ifname: String, bus: String?, table: String) -> [IRQInfo] {
        let device = host.readLink("/sys/class/net/\(ifname)/device").map { lastComponent($0) }
        let virtio = (try? device.get()).flatMap { $0.hasPrefix("virtio") ? $0 : nil }
        var out: [IRQInfo] = []
        for line in table.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = fields.first, first.hasSuffix(":"), let irq = Int(first.dropLast()),
                  let action = fields.last.map(String.init) else { continue }
            let mine = action == ifname || action.hasPrefix(ifname + "-") || action.hasPrefix(ifname + "@")
                || virtio.map { action.hasPrefix($0 + "-input") || action.hasPrefix($0 + "-output") } ?? false
                || (bus.map { !$0.isEmpty && action.hasSuffix("@pci:" + $0) && action.contains("comp") } ?? false)
            guard mine else { continue }
            let affinity = host.readTrimmed("/proc/irq/\(irq)/smp_affinity_list").flatMap { text in
                CPUList.parse(text).map { .success($0) } ?? .failure(.failed("parsing /proc/irq/\(irq)/smp_affinity_list", text))
            }
            out.append(IRQInfo(number: irq, name: action, affinity: Reading(affinity)))
        }
        return out
    }

    /// The addresses of `ifname` in /proc/net/if_inet6
    /// ("fe80000000000000889600fffee041e0 02 40 20 80 vnet0"), as text.
    static func ipv6Addresses(_ ifname: String, table: String) -> [String] {
        table.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count == 6, f[5] == ifname, f[0].count == 32 else { return nil }
            let hex = Array(f[0])
            let groups = (0..<8).map { i in String(Int(String(hex[(i * 4)..<(i * 4 + 4)]), radix: 16) ?? 0, radix: 16) }
            return compressIPv6(groups)
        }
    }

    /// RFC 5952 text: the longest run of two or more zero groups becomes "::".
    static func compressIPv6(_ groups: [String]) -> String {
        var best = (start: -1, len: 0), i = 0
        while i < groups.count {
            var j = i
            while j < groups.count && groups[j] == "0" { j += 1 }
            if j - i > best.len { best = (i, j - i) }
            i = max(j, i + 1)
        }
        guard best.len >= 2 else { return groups.joined(separator: ":") }
        return groups[..<best.start].joined(separator: ":") + "::" + groups[(best.start + best.len)...].joined(separator: ":")
    }

    // MARK: system

    func inspectSystem(_ options: TuneOptions) -> SystemInspection {
        let cpu = "/sys/devices/system/cpu"
        let online = Reading(host.readTrimmed("\(cpu)/online").flatMap { text in
            CPUList.parse(text).map { .success($0) } ?? .failure(.failed("parsing \(cpu)/online", text))
        })
        var siblings: [Int: Reading<[Int]>] = [:]
        var nodes: [Int: Reading<Int>] = [:]
        var governors: [Int: Reading<String>] = [:]
        for c in options.workers {
            siblings[c] = Reading(host.readTrimmed("\(cpu)/cpu\(c)/topology/thread_siblings_list").flatMap { text in
                CPUList.parse(text).map { .success($0) } ?? .failure(.failed("parsing thread_siblings_list", text))
            })
            nodes[c] = Reading(host.listDirectory("\(cpu)/cpu\(c)").flatMap { names in
                let node = names.first { $0.hasPrefix("node") && Int($0.dropFirst(4)) != nil }
                return node.map { .success(Int($0.dropFirst(4))!) } ?? .failure(.missing("\(cpu)/cpu\(c)/node*"))
            })
        }
        for c in options.workers.isEmpty ? (online.value ?? []) : options.workers {
            governors[c] = Reading(host.readTrimmed("\(cpu)/cpu\(c)/cpufreq/scaling_governor"))
        }
        var sysctls: [String: Reading<String>] = [:]
        for name in Self.sysctlNames {
            sysctls[name] = Reading(host.readTrimmed(Self.sysctlPath(name)))
        }
        return SystemInspection(
            kernelRelease: Reading(host.readTrimmed("/proc/sys/kernel/osrelease")),
            onlineCPUs: online, smtSiblings: siblings, cpuNode: nodes, governors: governors,
            sysctls: sysctls,
            irqbalanceRunning: Reading(processRunning("irqbalance")),
            conntrack: Reading(conntrack()))
    }

    public static func sysctlPath(_ dotted: String) -> String {
        "/proc/sys/" + dotted.replacingDots()
    }

    func processRunning(_ comm: String) -> Result<Bool, ReadError> {
        host.listDirectory("/proc").map { names in
            names.contains { name in
                name.allSatisfy(\.isNumber) && (try? host.readTrimmed("/proc/\(name)/comm").get()) == comm
            }
        }
    }

    func conntrack() -> Result<ConntrackState, ReadError> {
        let modules = host.readFile("/proc/modules")
        let table = host.readFile("/proc/net/nf_conntrack")
        let builtinOrLoaded = (try? modules.get())?.split(separator: "\n").contains { $0.hasPrefix("nf_conntrack ") } ?? false
        let loaded = builtinOrLoaded || (try? table.get()) != nil
            || (try? host.readFile("/proc/sys/net/netfilter/nf_conntrack_max").get()) != nil
        if case .failure(let e) = modules, case .failure = table { return .failure(e) }
        let entries = (try? table.get()).map { text in
            text.split(separator: "\n").filter { line in
                line.contains(" udp ") && (line.contains("dport=4789 ") || line.contains("sport=4789 "))
            }.count
        }
        return .success(ConntrackState(loaded: loaded, vxlanEntries: entries))
    }
}

func lastComponent(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}

extension String {
    /// "net.core.rmem_max" → "net/core/rmem_max" (interface names with dots are not expected here).
    func replacingDots() -> String { String(map { $0 == "." ? "/" : $0 }) }
}

extension Inspector {
    /// The interface of the IPv4 default route (/proc/net/route), the usual uplink.
    public func defaultRouteInterface() -> String? {
        guard case .success(let text) = host.readFile("/proc/net/route") else { return nil }
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if f.count > 2, f[1] == "00000000" { return String(f[0]) }
        }
        return nil
    }
}
