// CPU placement rules: queue IRQs vs worker CPUs, irqbalance, NUMA, SMT, governor.

extension Rules {
    static func cpuRules(_ i: Inspection) -> [Finding] {
        var out: [Finding] = []
        for nic in i.interfaces where nic.role == .uplink { out += irqAffinity(nic, i) + numa(nic, i) }
        return out + irqbalance(i) + smt(i) + governor(i)
    }

    static func irqAffinity(_ nic: InterfaceInspection, _ i: Inspection) -> [Finding] {
        let o = i.options
        let why = o.mode == .afxdp
            ? "an uplink queue interrupt on a worker CPU runs the driver's NAPI poll in the middle of the worker's batch loop: the worker stalls, latency jumps and the rx ring overflows"
            : "each rx queue's NAPI runs where its interrupt is delivered; all queues on one CPU make that CPU the bottleneck"
        guard case .value(let irqs) = nic.irqs else {
            return [.cannotTell("irq.unknown", nic.name, "queue IRQs", nic.irqs.error!, why: why)]
        }
        if irqs.isEmpty {
            return [Finding(id: "irq.none", severity: .info, subject: nic.name,
                            found: "no queue interrupts found for \(nic.name) in /proc/interrupts (virtual device, or a naming vxsw does not know)",
                            why: why, cannotTell: true)]
        }
        let persist = [
            Persistence(how: "irqbalance: keep it off the worker CPUs", file: "/etc/default/irqbalance",
                        snippet: "IRQBALANCE_BANNED_CPULIST=\(CPUList.format(o.workers))"),
            Persistence(how: "IRQ numbers change across boots: re-apply from a oneshot unit", file: "/etc/systemd/system/vxsw-tune.service",
                        snippet: "[Unit]\nAfter=network-online.target\n[Service]\nType=oneshot\nExecStart=/usr/bin/vxsw tune --uplink \(nic.name) --mode \(o.mode.rawValue)\(o.workers.isEmpty ? "" : " --workers \(CPUList.format(o.workers))") --apply --yes\n[Install]\nWantedBy=multi-user.target"),
        ]
        let unknown = irqs.filter { $0.affinity.value == nil }
        let summary = irqs.map { "\($0.number) \($0.name) → \($0.affinity.value.map(CPUList.format) ?? "?")" }.joined(separator: "; ")
        if o.mode == .afxdp && !o.workers.isEmpty {
            let workers = Set(o.workers)
            let onWorkers = irqs.filter { ($0.affinity.value ?? []).contains(where: workers.contains) }
            guard !onWorkers.isEmpty else {
                return [Finding(id: unknown.isEmpty ? "irq.ok" : "irq.partly-unknown", severity: .info, subject: nic.name,
                                found: "queue IRQs off the worker CPUs \(CPUList.format(o.workers)): \(summary)", why: why, cannotTell: !unknown.isEmpty)]
            }
            let others = (i.system.onlineCPUs.value ?? []).filter { !workers.contains($0) }
            if others.isEmpty {
                return [Finding(id: "irq.on-workers", severity: .warn, subject: nic.name,
                                found: "queue IRQs on worker CPUs and no other CPU is online: \(summary)",
                                why: why + "; leave at least one CPU (on the NIC's NUMA node) to the kernel")]
            }
            let changes = onWorkers.map { Change.irqAffinity(irq: $0.number, cpus: others) }
            return [Finding(id: "irq.on-workers", severity: .warn, subject: nic.name,
                            found: "\(onWorkers.count) of \(irqs.count) queue IRQs may run on worker CPUs \(CPUList.format(o.workers)): \(summary)",
                            why: why, changes: changes, persist: persist)]
        }
        let targets = Set(irqs.compactMap { $0.affinity.value }.filter { $0.count == 1 }.map { $0[0] })
        let online = i.system.onlineCPUs.value ?? []
        if irqs.count > 1, targets.count == 1, online.count > 1, unknown.isEmpty,
           irqs.allSatisfy({ $0.affinity.value?.count == 1 }) {
            let changes = irqs.enumerated().map { Change.irqAffinity(irq: $0.element.number, cpus: [online[$0.offset % online.count]]) }
            return [Finding(id: "irq.one-cpu", severity: .warn, subject: nic.name,
                            found: "all \(irqs.count) queue IRQs on CPU \(targets.first!): \(summary)", why: why, changes: changes, persist: persist)]
        }
        return [Finding(id: "irq.ok", severity: .info, subject: nic.name, found: "queue IRQs: \(summary)", why: why, cannotTell: !unknown.isEmpty)]
    }

    static func irqbalance(_ i: Inspection) -> [Finding] {
        let o = i.options
        let why = "irqbalance moves interrupts every 10 s by load; it knows nothing about vxsw's pinned workers and will put queue IRQs on them"
        guard case .value(let running) = i.system.irqbalanceRunning else {
            return [.cannotTell("irqbalance.unknown", "system", "whether irqbalance runs", i.system.irqbalanceRunning.error!, why: why)]
        }
        if running && o.mode == .afxdp && !o.workers.isEmpty {
            return [Finding(id: "irqbalance.running", severity: .warn, subject: "system",
                            found: "irqbalance is running and may move uplink IRQs onto workers \(CPUList.format(o.workers))", why: why,
                            advice: ["IRQBALANCE_BANNED_CPULIST=\(CPUList.format(o.workers)) in /etc/default/irqbalance, then systemctl restart irqbalance"],
                            persist: [Persistence(how: "irqbalance configuration", file: "/etc/default/irqbalance",
                                                  snippet: "IRQBALANCE_BANNED_CPULIST=\(CPUList.format(o.workers))")])]
        }
        return [Finding(id: running ? "irqbalance.running" : "irqbalance.not-running", severity: .info, subject: "system",
                        found: "irqbalance \(running ? "is" : "is not") running", why: why)]
    }

    static func numa(_ nic: InterfaceInspection, _ i: Inspection) -> [Finding] {
        let why = "a worker on another NUMA node than the NIC crosses the socket interconnect for every DMA'd frame: roughly a third less throughput and higher latency"
        guard case .value(let node) = nic.numaNode else {
            return [Finding(id: "numa.unknown", severity: .info, subject: nic.name,
                            found: "no NUMA node for \(nic.name) (\(nic.numaNode.error!)): a virtual device or a single-node host", why: why, cannotTell: true)]
        }
        if node < 0 {
            return [Finding(id: "numa.none", severity: .info, subject: nic.name, found: "\(nic.name) reports no NUMA locality (numa_node -1): single-node host or VM", why: why)]
        }
        let far = i.options.workers.filter { c in i.system.cpuNode[c]?.value.map { $0 != node } ?? false }
        if !far.isEmpty {
            return [Finding(id: "numa.far-workers", severity: .warn, subject: nic.name,
                            found: "\(nic.name) is on NUMA node \(node); workers \(CPUList.format(far)) are not", why: why,
                            advice: ["choose --workers from /sys/devices/system/node/node\(node)/cpulist"])]
        }
        return [Finding(id: "numa.ok", severity: .info, subject: nic.name, found: "\(nic.name) on NUMA node \(node), workers on the same node", why: why)]
    }

    static func smt(_ i: Inspection) -> [Finding] {
        let workers = Set(i.options.workers)
        var out: [Finding] = []
        var seen = Set<Int>()
        for c in i.options.workers.sorted() where !seen.contains(c) {
            guard let reading = i.system.smtSiblings[c] else { continue }
            guard case .value(let sib) = reading else {
                out.append(.cannotTell("smt.unknown", "cpu\(c)", "SMT siblings of CPU \(c)", reading.error!,
                                       why: "two busy-polling workers on one physical core share its execution units"))
                continue
            }
            seen.formUnion(sib)
            let others = sib.filter { $0 != c }
            let shared = others.filter(workers.contains)
            if !shared.isEmpty {
                out.append(Finding(id: "smt.workers-share-core", severity: .warn, subject: "cpu\(c)",
                                   found: "workers \(CPUList.format([c] + shared)) are SMT siblings of one physical core",
                                   why: "two polling workers on one core each get roughly 60% of a core; pick one thread per core",
                                   advice: ["use --workers with one CPU per core (see /sys/devices/system/cpu/cpu\(c)/topology/thread_siblings_list)"]))
            } else if !others.isEmpty {
                out.append(Finding(id: "smt.sibling-busy", severity: .info, subject: "cpu\(c)",
                                   found: "worker CPU \(c) shares its core with CPU \(CPUList.format(others))",
                                   why: "work on the sibling thread slows the worker; keep it idle (isolcpus / systemd CPUAffinity)"))
            }
        }
        return out
    }

    static func governor(_ i: Inspection) -> [Finding] {
        let why = "a power-saving governor lowers the clock between bursts and needs milliseconds to ramp up: the first packets of every burst are slow, and pps drops"
        let readings = i.system.governors.sorted { $0.key < $1.key }
        if readings.isEmpty { return [] }
        if readings.allSatisfy({ if case .unknown(.missing) = $0.value { return true } else { return false } }) {
            return [Finding(id: "governor.none", severity: .info, subject: "system",
                            found: "no cpufreq interface (typical in VMs): the CPU frequency is not under this kernel's control", why: why)]
        }
        let slow = readings.filter { $0.value.value.map { $0 != "performance" } ?? false }
        if slow.isEmpty {
            return [Finding(id: "governor.ok", severity: .info, subject: "system", found: "governor performance on the inspected CPUs", why: why)]
        }
        let changes = slow.map { Change.governor(cpu: $0.key, governor: "performance") }
        return [Finding(id: "governor.powersave", severity: .warn, subject: "system",
                        found: "CPU " + slow.map { "\($0.key): \($0.value.value!)" }.joined(separator: ", "), why: why,
                        changes: changes,
                        persist: [Persistence(how: "kernel command line", file: "/etc/default/grub",
                                              snippet: "GRUB_CMDLINE_LINUX=\"... cpufreq.default_governor=performance\"")])]
    }
}
