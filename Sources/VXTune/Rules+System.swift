// Host-wide rules: conntrack, rp_filter, network sysctls, and notes that hold
// for one driver only (marked driverSpecific).

extension Rules {
    static func systemRules(_ i: Inspection) -> [Finding] {
        conntrack(i) + rpFilter(i) + sysctls(i)
    }

    static func conntrack(_ i: Inspection) -> [Finding] {
        let why = "every tracked VXLAN packet pays a conntrack lookup (and an entry per 5-tuple: VXLAN varies the source port per inner flow), and a full table drops new flows"
        guard case .value(let c) = i.system.conntrack else {
            return [.cannotTell("conntrack.unknown", "system", "whether conntrack is loaded", i.system.conntrack.error!, why: why)]
        }
        guard c.loaded else {
            return [Finding(id: "conntrack.not-loaded", severity: .info, subject: "system", found: "nf_conntrack is not loaded", why: why)]
        }
        let notrack = "nft -f - <<'EOF'\ntable inet vxsw_notrack {\n  chain pre { type filter hook prerouting priority raw; udp dport 4789 notrack; }\n  chain out { type filter hook output priority raw; udp dport 4789 notrack; }\n}\nEOF"
        let persist = [Persistence(how: "nftables ruleset (loaded by nftables.service)", file: "/etc/nftables.d/vxsw-notrack.nft",
                                   snippet: "table inet vxsw_notrack {\n  chain pre { type filter hook prerouting priority raw; udp dport 4789 notrack; }\n  chain out { type filter hook output priority raw; udp dport 4789 notrack; }\n}")]
        switch c.vxlanEntries {
        case .some(let n) where n > 0:
            return [Finding(id: "conntrack.tracks-vxlan", severity: .warn, subject: "system",
                            found: "nf_conntrack is loaded and tracks \(n) UDP 4789 flow(s)", why: why, advice: [notrack], persist: persist)]
        case .some:
            return [Finding(id: "conntrack.loaded", severity: .info, subject: "system",
                            found: "nf_conntrack is loaded; no UDP 4789 entries right now (no VXLAN traffic yet, or already exempt)",
                            why: why, advice: [notrack], persist: persist)]
        case .none:
            return [Finding(id: "conntrack.loaded", severity: .info, subject: "system",
                            found: "nf_conntrack is loaded; cannot tell whether it tracks UDP 4789 (/proc/net/nf_conntrack not readable)",
                            why: why, advice: [notrack], persist: persist, cannotTell: true)]
        }
    }

    static func rpFilter(_ i: Inspection) -> [Finding] {
        let why = "strict reverse-path filtering (1) drops VXLAN packets from a VTEP whose route points out another interface — common with ECMP or asymmetric underlay routing; loose (2) keeps spoofing protection"
        guard let uplink = i.interfaces.first(where: { $0.role == .uplink }) else { return [] }
        guard case .value(let all) = i.system.sysctls["net.ipv4.conf.all.rp_filter"]?.flatMap({ Reading<Int>.parse($0) }) ?? .unknown(.missing("rp_filter")),
              case .value(let dev) = uplink.rpFilter else {
            return [Finding(id: "rpfilter.unknown", severity: .info, subject: uplink.name,
                            found: "cannot tell rp_filter for \(uplink.name)", why: why, cannotTell: true)]
        }
        let effective = max(all, dev)
        guard effective == 1 else {
            return [Finding(id: "rpfilter.ok", severity: .info, subject: uplink.name,
                            found: "rp_filter effective \(effective) (all \(all), \(uplink.name) \(dev))", why: why)]
        }
        var pairs = [("net.ipv4.conf.\(uplink.name).rp_filter", "2")]
        if all == 1 { pairs.append(("net.ipv4.conf.all.rp_filter", "2")) }
        return [Finding(id: "rpfilter.strict", severity: .warn, subject: uplink.name,
                        found: "rp_filter strict on \(uplink.name) (all \(all), \(uplink.name) \(dev); the kernel uses the larger)", why: why,
                        changes: pairs.map { Change.sysctl(name: $0.0, value: $0.1) }, persist: [Persist.sysctl(pairs)])]
    }

    static func sysctls(_ i: Inspection) -> [Finding] {
        let kernel = i.options.mode == .kernel
        struct Want { var name: String; var min: Int; var severity: Severity; var why: String }
        let wants = [
            Want(name: "net.core.netdev_max_backlog", min: 16384, severity: kernel ? .warn : .info,
                 why: "the per-CPU backlog queues frames handed over by veth/tap (without NAPI) and RPS; at 10G the default 1000 overflows in bursts (softnet_stat column 2)"),
            Want(name: "net.core.netdev_budget", min: 600, severity: .info,
                 why: "frames one softirq round may process; at 300 a busy 10G queue yields before its ring is drained (softnet_stat column 3, time_squeeze)"),
            Want(name: "net.core.rmem_max", min: 16 << 20, severity: .info,
                 why: "caps socket receive buffers: matters for TCP/UDP endpoints on this host (and benchmarks), not for forwarded VXLAN"),
            Want(name: "net.core.wmem_max", min: 16 << 20, severity: .info,
                 why: "caps socket send buffers: matters for TCP/UDP endpoints on this host (and benchmarks), not for forwarded VXLAN"),
        ]
        var out: [Finding] = []
        var pairs: [(String, String)] = []
        var changes: [Change] = []
        var found: [String] = []
        var severity = Severity.info
        var whys: [String] = []
        for w in wants {
            guard let reading = i.system.sysctls[w.name] else { continue }
            guard case .value(let text) = reading, let v = Int(text) else {
                out.append(.cannotTell("sysctl.unknown", "system", w.name, reading.error ?? .failed(w.name, "not a number"), why: w.why))
                continue
            }
            if v < w.min {
                pairs.append((w.name, "\(w.min)"))
                changes.append(.sysctl(name: w.name, value: "\(w.min)"))
                found.append("\(w.name) = \(v) (< \(w.min))")
                whys.append("\(w.name): \(w.why)")
                severity = max(severity, w.severity)
            }
        }
        if !changes.isEmpty {
            out.append(Finding(id: "sysctl.low", severity: severity, subject: "system", found: found.joined(separator: ", "),
                               why: whys.joined(separator: "; "), changes: changes, persist: [Persist.sysctl(pairs)]))
        }
        let poll = ["net.core.busy_poll", "net.core.busy_read"].compactMap { n in i.system.sysctls[n]?.value.map { "\(n) = \($0)" } }
        if !poll.isEmpty {
            out.append(Finding(id: "sysctl.busy-poll", severity: .info, subject: "system", found: poll.joined(separator: ", "),
                               why: i.options.mode == .afxdp
                                   ? "vxsw asks for busy polling per AF_XDP socket (SO_PREFER_BUSY_POLL, SO_BUSY_POLL); the global values only affect other sockets"
                                   : "global busy polling trades CPU for socket latency; it does not speed up forwarded VXLAN"))
        }
        return out
    }

    /// Knowledge about one driver; every finding here is marked driverSpecific.
    static func driverNotes(_ nic: InterfaceInspection, _ o: TuneOptions) -> [Finding] {
        switch nic.driverName {
        case "ixgbe":
            return [Finding(id: "driver.ixgbe.itr", severity: .info, subject: nic.name,
                            found: "ixgbe: InterruptThrottleRate is a module parameter of Intel's out-of-tree ixgbe only; the in-tree driver ignores it",
                            why: "interrupt moderation on in-tree ixgbe is set with ethtool -C (rx-usecs, checked above); ITR 1 in the out-of-tree driver means adaptive",
                            driverSpecific: true)]
        case "mlx5_core":
            let why = "CQE compression packs several completions into one PCIe write: fewer PCIe transactions per small packet, more pps on PCIe-bound hosts; no effect on large frames"
            guard case .value(let flags) = nic.privateFlags, let on = flags["rx_cqe_compress"] else {
                return [Finding(id: "driver.mlx5.cqe-compress", severity: .info, subject: nic.name,
                                found: "mlx5: cannot tell rx_cqe_compress (private flags: \(nic.privateFlags.error.map { "\($0)" } ?? "flag not listed"))",
                                why: why, driverSpecific: true, cannotTell: true)]
            }
            return [Finding(id: "driver.mlx5.cqe-compress", severity: .info, subject: nic.name,
                            found: "mlx5: rx_cqe_compress \(on ? "on" : "off")", why: why,
                            advice: on ? [] : ["ethtool --set-priv-flags \(nic.name) rx_cqe_compress on"],
                            persist: on ? [] : [Persist.udev(nic.name, ["ethtool --set-priv-flags \(nic.name) rx_cqe_compress on"])],
                            driverSpecific: true)]
        case "virtio_net":
            guard o.mode == .afxdp, case .value(let c) = nic.channels else { return [] }
            return [Finding(id: "driver.virtio.queues", severity: .info, subject: nic.name,
                            found: "virtio_net: \(c.combined) of \(c.maxCombined) queue pairs in use",
                            why: "virtio_net native XDP uses extra queue pairs for XDP_TX/redirect; with fewer pairs than CPUs XDP attach fails or shares locked queues. More pairs come from the hypervisor (queues=N)",
                            driverSpecific: true)]
        case "tun":
            return [Finding(id: "driver.tun", severity: .info, subject: nic.name,
                            found: "tun/tap (\(nic.driver.value?.bus ?? "?")): no rings, no IRQs, no channels to set, coalescing only as rx-frames batching",
                            why: "the tun driver refuses ethtool -G, -L and -C rx-usecs/adaptive-rx, so none is checked or recommended on it; its queues come from the hypervisor (tap multi_queue, virtio-net queues=N)",
                            driverSpecific: true)]
        case "veth":
            return [Finding(id: "driver.veth", severity: .info, subject: nic.name,
                            found: "veth: no ring sizes, no interrupt coalescing, no IRQs (software device)",
                            why: "the cannot-tell findings for rings and coalescing are expected on veth; its NAPI runs on the sending CPU",
                            driverSpecific: true)]
        default:
            return []
        }
    }
}

extension Reading where Value == Int {
    static func parse(_ text: String) -> Reading<Int> {
        Int(text).map { .value($0) } ?? .unknown(.failed("parsing", "not an integer: \(text)"))
    }
}
