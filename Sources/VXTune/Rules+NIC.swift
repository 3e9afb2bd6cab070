// Per-interface rules: rings, channels, coalescing, offloads, MTU, rp_filter, XDP.

extension Rules {
    static func nicRules(_ nic: InterfaceInspection, _ o: TuneOptions) -> [Finding] {
        if case .unknown(let e) = nic.mtu, case .missing = e {
            return [Finding(id: "interface.missing", severity: .critical, subject: nic.name,
                            found: "interface \(nic.name) not found (\(e))",
                            why: "nothing on it can be inspected; check the name and the network namespace")]
        }
        // tun refuses ethtool -G/-L/-C and ignores -K on the owner's offloads: Rules+Tap instead.
        if nic.isTun { return tapRules(nic, o) + mtu(nic, o) }
        return rings(nic) + channels(nic, o) + coalesce(nic, o) + offloads(nic, o) + mtu(nic, o) + xdp(nic, o)
    }

    static func rings(_ nic: InterfaceInspection) -> [Finding] {
        let why = "a small rx ring overflows during bursts (a 10G burst fills 512 descriptors in ~40 µs at 64-byte frames) and drops show up as rx_missed/rx_no_buffer"
        switch nic.rings {
        case .unknown(let e):
            return [.cannotTell("rings.unknown", nic.name, "ring sizes", e, why: why)]
        case .value(let r):
            let rx = min(r.rxMax, targetRing), tx = min(r.txMax, targetRing)
            guard r.rxMax > 0, r.rx < rx || r.tx < tx else {
                return [Finding(id: "rings.ok", severity: .info, subject: nic.name,
                                found: "rings rx \(r.rx)/\(r.rxMax) tx \(r.tx)/\(r.txMax) (current/max)", why: why)]
            }
            let change = Change.rings(interface: nic.name, rx: max(rx, r.rx), tx: max(tx, r.tx))
            return [Finding(id: "rings.below-max", severity: r.rx < 1024 ? .warn : .info, subject: nic.name,
                            found: "rings rx \(r.rx)/\(r.rxMax) tx \(r.tx)/\(r.txMax) (current/max)",
                            why: why + "; changing rings resets the link briefly on most drivers",
                            changes: [change],
                            persist: Persist.ethtool(nic.name, change, linkKeys: ["RxBufferSize=\(max(rx, r.rx))", "TxBufferSize=\(max(tx, r.tx))"]))]
        }
    }

    static func channels(_ nic: InterfaceInspection, _ o: TuneOptions) -> [Finding] {
        let why = o.mode == .afxdp
            ? "vxsw binds one AF_XDP socket per rx queue per worker; RSS spreads VXLAN flows (by outer UDP source port) across queues, so every worker needs a queue"
            : "the kernel path scales with rx queues: each queue's NAPI runs on its own CPU"
        switch nic.channels {
        case .unknown(let e):
            return [.cannotTell("channels.unknown", nic.name, "channels", e, why: why)]
        case .value(let c):
            let found = "rx queues \(c.rxQueues) (max \(c.maxRxQueues)): combined \(c.combined)/\(c.maxCombined), rx \(c.rx)/\(c.maxRx), tx \(c.tx)/\(c.maxTx)"
            let want = o.mode == .afxdp && !o.workers.isEmpty ? UInt32(o.workers.count) : c.maxRxQueues
            guard c.rxQueues < want, c.maxRxQueues > c.rxQueues else {
                return [Finding(id: "channels.ok", severity: .info, subject: nic.name, found: found, why: why)]
            }
            var n = c
            let target = min(want, c.maxRxQueues)
            if c.maxCombined > 0 { n.combined = min(target, c.maxCombined) } else { n.rx = min(target, c.maxRx); n.tx = min(max(c.tx, target), c.maxTx) }
            let change = Change.channels(interface: nic.name, n)
            let keys = c.maxCombined > 0 ? ["CombinedChannels=\(n.combined)"] : ["RxChannels=\(n.rx)", "TxChannels=\(n.tx)"]
            return [Finding(id: "channels.too-few", severity: .warn, subject: nic.name, found: found,
                            why: why + "; changing channels rebuilds the queues (a short outage) and moves their IRQs",
                            changes: [change], persist: Persist.ethtool(nic.name, change, linkKeys: keys))]
        }
    }

    static func coalesce(_ nic: InterfaceInspection, _ o: TuneOptions) -> [Finding] {
        let why = "rx-usecs 0 without adaptive coalescing raises one interrupt per frame, which costs a CPU core long before 10G; very long delays add latency to every VXLAN packet"
        switch nic.coalesce {
        case .unknown(let e):
            return [.cannotTell("coalesce.unknown", nic.name, "interrupt coalescing", e, why: why)]
        case .value(let c):
            let found = "rx-usecs \(c.rxUsecs), rx-frames \(c.rxFrames), adaptive-rx \(c.adaptiveRx ? "on" : "off")"
            if !c.adaptiveRx && c.rxUsecs == 0 && c.rxFrames <= 1 {
                let change = o.mode == .kernel
                    ? Change.coalesce(interface: nic.name, rxUsecs: nil, adaptiveRx: true)
                    : Change.coalesce(interface: nic.name, rxUsecs: 16, adaptiveRx: nil)
                let keys = o.mode == .kernel ? ["UseAdaptiveRxCoalesce=yes"] : ["RxCoalesceSec=16us"]
                return [Finding(id: "coalesce.per-frame", severity: .warn, subject: nic.name, found: found,
                                why: why + (o.mode == .afxdp ? "; for AF_XDP a short fixed delay (16 µs) keeps latency low and batches large" : "; adaptive lets the driver trade latency for throughput by load"),
                                changes: [change], persist: Persist.ethtool(nic.name, change, linkKeys: keys))]
            }
            if !c.adaptiveRx && c.rxUsecs > 100 {
                let change = Change.coalesce(interface: nic.name, rxUsecs: 50, adaptiveRx: nil)
                return [Finding(id: "coalesce.slow", severity: .info, subject: nic.name, found: found, why: why,
                                changes: [change], persist: Persist.ethtool(nic.name, change, linkKeys: ["RxCoalesceSec=50us"]))]
            }
            return [Finding(id: "coalesce.ok", severity: .info, subject: nic.name, found: found, why: why)]
        }
    }

    static func offloads(_ nic: InterfaceInspection, _ o: TuneOptions) -> [Finding] {
        guard case .value(let f) = nic.features else {
            return [.cannotTell("offloads.unknown", nic.name, "offload features", nic.features.error!,
                                why: "VXLAN segmentation, GRO and checksum offloads decide how many CPU cycles each Gbit costs")]
        }
        var out: [Finding] = []
        func state(_ name: String) -> String {
            guard let s = f[name] else { return "\(name) n/a" }
            return "\(name) \(s.active ? "on" : "off")\(s.changeable ? "" : " [fixed]")"
        }
        /// Features that are off now but can be turned on.
        func canEnable(_ names: [String]) -> [String] { names.filter { f[$0].map { !$0.active && $0.changeable } ?? false } }
        func canDisable(_ names: [String]) -> [String] { names.filter { f[$0].map { $0.active && $0.changeable } ?? false } }
        func enableFinding(_ id: String, _ names: [String], _ severity: Severity, _ why: String, linkKeys: [String] = []) {
            let found = names.map(state).joined(separator: ", ")
            let off = canEnable(names)
            if off.isEmpty {
                let missing = names.allSatisfy { f[$0].map { !$0.active } ?? true }
                out.append(Finding(id: id + (missing ? ".not-available" : ".ok"), severity: .info, subject: nic.name,
                                   found: found + (missing ? " — the NIC cannot do it; the kernel does it in software" : ""), why: why))
            } else {
                let change = Change.features(interface: nic.name, Dictionary(uniqueKeysWithValues: off.map { ($0, true) }))
                out.append(Finding(id: id + ".off", severity: severity, subject: nic.name, found: found, why: why,
                                   changes: [change], persist: Persist.ethtool(nic.name, change, linkKeys: linkKeys)))
            }
        }

        let kernelPath = o.mode == .kernel || nic.role == .port
        enableFinding("offload.udp-tnl-tso", ["tx-udp_tnl-segmentation", "tx-udp_tnl-csum-segmentation"],
                      kernelPath && nic.role == .uplink ? .warn : .info,
                      kernelPath ? "with it the NIC cuts 64 KB VXLAN super-frames into MTU frames and fills in inner and outer checksums; without it the kernel segments in software, several times the CPU per Gbit"
                                 : "used only by traffic the host itself sends through the kernel vxlan device; vxsw's AF_XDP path builds MTU-sized frames itself")
        if nic.role == .uplink {
            enableFinding("offload.udp-tunnel-port", ["rx-udp_tunnel-port-offload"], .info,
                          "lets the NIC recognise UDP 4789 as VXLAN: inner-header RSS and inner checksum validation on receive")
        }
        enableFinding("offload.checksum", ["rx-checksum", "tx-checksum-ip-generic", "tx-checksum-ipv4", "tx-checksum-ipv6"].filter { f[$0] != nil },
                      .warn, "without checksum offload every frame is checksummed by the CPU, and GSO/TSO turn off with it", linkKeys: [])

        // GRO / LRO / hardware GRO depend on the path.
        let lro = f["rx-lro"], hwgro = f["rx-gro-hw"], gro = f["rx-gro"]
        let found = ["rx-gro", "rx-lro", "rx-gro-hw"].map(state).joined(separator: ", ")
        if o.mode == .afxdp && nic.role == .uplink {
            let bad = canDisable(["rx-lro", "rx-gro-hw"])
            if !bad.isEmpty {
                let change = Change.features(interface: nic.name, Dictionary(uniqueKeysWithValues: bad.map { ($0, false) }))
                out.append(Finding(id: "offload.lro-with-xdp", severity: .critical, subject: nic.name, found: found,
                                   why: "XDP sees one frame per buffer: drivers refuse to attach a native XDP program while LRO or hardware GRO is on, and merged frames could not be decapsulated one by one",
                                   changes: [change], persist: Persist.ethtool(nic.name, change, linkKeys: ["LargeReceiveOffload=false", "GenericReceiveOffloadHardware=false"])))
            } else if (lro?.active ?? false) || (hwgro?.active ?? false) {
                out.append(Finding(id: "offload.lro-with-xdp.fixed", severity: .warn, subject: nic.name, found: found,
                                   why: "LRO/hardware GRO is on and this driver does not let it be turned off: native XDP attach will fail (virtio_net: the host must offer VIRTIO_NET_F_CTRL_GUEST_OFFLOADS); only generic (skb) XDP will work, at kernel-path speed"))
            }
        } else if let l = lro, l.active {
            let change = Change.features(interface: nic.name, ["rx-lro": false])
            out.append(Finding(id: "offload.lro-forwarding", severity: .warn, subject: nic.name, found: found,
                               why: "LRO merges frames irreversibly; on a bridged or forwarding path the merged frames cannot be re-segmented faithfully (the kernel turns LRO off on bridge ports for this reason). Use GRO instead",
                               changes: l.changeable ? [change] : [],
                               persist: l.changeable ? Persist.ethtool(nic.name, change, linkKeys: ["LargeReceiveOffload=false"]) : []))
        }
        if let g = gro, !g.active, g.changeable, o.mode == .kernel || nic.driverName == "veth" {
            let change = Change.features(interface: nic.name, ["rx-gro": true])
            out.append(Finding(id: "offload.gro-off", severity: .warn, subject: nic.name, found: found,
                               why: nic.driverName == "veth" && o.mode == .afxdp
                                   ? "veth only runs NAPI (needed for XDP redirect into it and for generic-XDP AF_XDP receive) when GRO is on"
                                   : "GRO merges the TCP segments inside VXLAN into large frames, so the stack does its work once per 64 KB instead of per packet",
                               changes: [change], persist: Persist.ethtool(nic.name, change, linkKeys: ["GenericReceiveOffload=true"])))
        }
        return out
    }

    static func mtu(_ nic: InterfaceInspection, _ o: TuneOptions) -> [Finding] {
        let why = "VXLAN adds 50 bytes over IPv4 (outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8) and 70 over IPv6; if the underlay MTU is smaller, full-size overlay frames are fragmented or silently dropped (no PMTUD for bridged traffic)"
        guard case .value(let mtu) = nic.mtu else {
            return [.cannotTell("mtu.unknown", nic.name, "the MTU", nic.mtu.error!, why: why)]
        }
        if nic.role == .uplink {
            let v4 = o.overlayMTU + 50, v6 = o.overlayMTU + 70
            let advice = ["ip link set dev \(nic.name) mtu \(v6)   # (disruptive: not applied by --apply; the whole underlay path must carry it)"]
            let persist = [Persist.link(nic.name, ["MTUBytes=\(v6)"]),
                           Persistence(how: "ifupdown2 stanza", file: "/etc/network/interfaces", snippet: "iface \(nic.name)\n    mtu \(v6)")]
            if mtu < v4 {
                return [Finding(id: "mtu.underlay-too-small", severity: .critical, subject: nic.name,
                                found: "underlay MTU \(mtu) < overlay MTU \(o.overlayMTU) + 50 = \(v4)", why: why, advice: advice, persist: persist)]
            }
            if mtu < v6 {
                return [Finding(id: "mtu.underlay-ipv4-only", severity: .info, subject: nic.name,
                                found: "underlay MTU \(mtu) carries overlay MTU \(o.overlayMTU) over an IPv4 underlay (needs \(v4)), not over IPv6 (needs \(v6))",
                                why: why, advice: advice, persist: persist)]
            }
            return [Finding(id: "mtu.ok", severity: .info, subject: nic.name,
                            found: "underlay MTU \(mtu) ≥ overlay \(o.overlayMTU) + 70", why: why)]
        }
        if mtu > o.overlayMTU {
            return [Finding(id: "mtu.port-above-overlay", severity: .warn, subject: nic.name,
                            found: "port MTU \(mtu) > overlay MTU \(o.overlayMTU)",
                            why: "a VM may send frames the overlay is not sized for; they are dropped at encapsulation",
                            advice: ["ip link set dev \(nic.name) mtu \(o.overlayMTU)"])]
        }
        return []
    }

    static func xdp(_ nic: InterfaceInspection, _ o: TuneOptions) -> [Finding] {
        let x = nic.xdp
        let found = "native XDP \(x.native.rawValue), AF_XDP zero-copy \(x.zeroCopy.rawValue) — \(x.basis)"
        let why = "native XDP runs before the kernel allocates an skb; generic XDP runs after, at kernel-bridge speed. Zero-copy AF_XDP avoids one copy per frame (copy mode measured ~0.8 Mpps per core here)"
        var severity = Severity.info
        if o.mode == .afxdp && nic.role == .uplink && x.native == .unknown { severity = .warn }
        return [Finding(id: "xdp.support", severity: severity, subject: nic.name, found: found, why: why,
                        driverSpecific: true, cannotTell: x.native == .unknown)]
    }
}
