// Rules for tun/tap devices (driver "tun"), in place of the NIC rules that do
// not apply to them: a tap has no rings, IRQs or settable channels, its only
// "coalescing" is rx-frames batching, and its offload features belong to the
// process holding its fd (qemu sets them with TUNSETOFFLOAD). Every command
// here is one the tun driver accepts.

extension Rules {
    static func tapRules(_ nic: InterfaceInspection, _ o: TuneOptions) -> [Finding] {
        tapOffloads(nic) + (nic.role == .port ? tapXDP(nic, o) + tapIPv6(nic) : [])
    }

    /// Reports the owner's offloads; recommends no `ethtool -K`.
    static func tapOffloads(_ nic: InterfaceInspection) -> [Finding] {
        let why = "a tap's offloads are what its owner (qemu, through TUNSETOFFLOAD) says the guest accepts; the kernel masks everything else (tun_net_fix_features), so `ethtool -K` on a tap changes nothing, and qemu sets them again when the guest renegotiates. Frames vxsw writes toward the guest (GRO-coalesced, partial checksums) that the tap cannot take are segmented and checksummed by the kernel in software on the way in (validate_xmit_skb)"
        guard case .value(let f) = nic.features else {
            return [.cannotTell("tap.offloads.unknown", nic.name, "the tap's offloads", nic.features.error!, why: why)]
        }
        let shown = ["tx-checksum-ip-generic", "tx-tcp-segmentation", "tx-tcp6-segmentation", "tx-udp-segmentation"]
        let state = shown.compactMap { n in f[n].map { "\(n) \($0.active ? "on" : "off")" } }.joined(separator: ", ")
        guard let tso = f["tx-tcp-segmentation"], !tso.active else {
            return [Finding(id: "tap.offloads", severity: .info, subject: nic.name, found: "set by the tap's owner: " + state, why: why)]
        }
        return [Finding(id: "tap.offloads.no-tso", severity: .info, subject: nic.name,
                        found: "set by the tap's owner: \(state) — the guest does not take TSO frames (or no VM holds the tap yet)",
                        why: why + "; without TSO on the tap, every frame vxsw coalesces for this guest is cut up again by the host kernel",
                        advice: ["check the VM's virtio-net device: guest_tso4, guest_tso6, guest_csum (qemu's defaults are on)",
                                 "in the guest: ethtool -k eth0 | grep -e rx-gro-hw -e large-receive   # turning these off withdraws TSO from the tap"])]
    }

    /// A tap read through AF_XDP (io: xdp) or carrying an XDP program.
    static func tapXDP(_ nic: InterfaceInspection, _ o: TuneOptions) -> [Finding] {
        guard o.mode == .afxdp else { return [] }
        let why = "an AF_XDP socket gets each frame in one umem chunk and without the virtio-net header: a guest TSO super-frame (up to 64 KB, its MSS in that header) cannot arrive whole — the XDP path drops it or passes it by vxsw — and the guest's TCP stalls or crawls. With io auto (or packet) vxsw reads a tap through a packet socket with PACKET_VNET_HDR, gets the super-frame whole and segments it itself"
        let configured = o.portIO[nic.name]
        let config = [Persistence(how: "vxsw's configuration (read at start)", file: "vxsw's config file (--config)",
                                  snippet: "ports:\n  - name: \(nic.name)\n    io: auto")]
        if configured == .xdp {
            return [Finding(id: "tap.io-xdp", severity: .warn, subject: nic.name,
                            found: "tap \(nic.name) is configured io: xdp", why: why,
                            advice: ["set io: auto (or packet) for port \(nic.name) in vxsw's config and restart vxsw"], persist: config)]
        }
        if let attached = nic.xdpAttached.value, attached != .none {
            let modes: [String] = switch attached {
            case .native: ["xdpdrv"]
            case .generic: ["xdpgeneric"]
            case .offload: ["xdpoffload"]
            default: ["xdpdrv", "xdpgeneric"]
            }
            return [Finding(id: "tap.xdp-attached", severity: .warn, subject: nic.name,
                            found: "an XDP program (\(attached.rawValue)) is attached to tap \(nic.name)\(configured.map { ", configured io: \($0.rawValue)" } ?? "")",
                            why: why + "; vxsw attaches none with io auto/packet (and its own XDP links end with it), so this is a running vxsw with io: xdp or another tool's program, and it sees every guest frame before vxsw does",
                            advice: modes.map { "ip link set dev \(nic.name) \($0) off   # fails with EBUSY while a program holds it through a bpf link: stop that program" },
                            persist: configured == nil ? config : [])]
        }
        if configured == nil, case .unknown(let e) = nic.xdpAttached {
            return [.cannotTell("tap.io.unknown", nic.name, "how vxsw reads tap \(nic.name) (no config given, and the attached XDP program: \(e))", e, why: why)]
        }
        return [Finding(id: "tap.io.ok", severity: .info, subject: nic.name,
                        found: "no XDP program on tap \(nic.name)" + (configured.map { ", configured io: \($0.rawValue)" } ?? " (vxsw's config not given)"),
                        why: why)]
    }

    /// The host's IPv6 on a VM port.
    static func tapIPv6(_ nic: InterfaceInspection) -> [Finding] {
        // Missing: the host runs without IPv6 (ipv6.disable=1); nothing to say.
        guard case .value(let disabled) = nic.ipv6Disabled, disabled == 0 else { return [] }
        let name = nic.name
        let addresses = nic.ipv6Addresses.value ?? []
        let pattern = name.prefix(while: \.isLetter).isEmpty ? name : name.prefix(while: \.isLetter) + "*"
        let pairs = [("net.ipv6.conf.\(name).disable_ipv6", "1")]
        return [Finding(id: "tap.ipv6", severity: .info, subject: name,
                        found: "IPv6 is on for tap \(name): " + (addresses.isEmpty
                            ? "no host address yet (the host adds a link-local one once a VM brings the tap up)"
                            : "host address \(addresses.joined(separator: ", "))"),
                        why: "with IPv6 on, the host stack treats the tap as one of its own links: it puts a link-local address on it, sends its own duplicate-address, router and MLD solicitations/reports into the VM and answers neighbour solicitations for its address — frames vxsw did not switch, from a node the guest's segment does not have. vxsw reads a tap through a packet socket and needs no address on it. sysctl.d does not cover a tap at boot: the tap is created at every VM start (often under another name), so set it when the hypervisor creates the tap",
                        changes: pairs.map { Change.sysctl(name: $0.0, value: $0.1) },
                        persist: [
                            Persistence(how: "qemu -netdev tap,script=FILE: runs with the tap's name once qemu created it, before the guest starts",
                                        file: "/etc/qemu-ifup",
                                        snippet: "#!/bin/sh\nsysctl -qw \"net.ipv6.conf.$1.disable_ipv6=1\"\nip link set dev \"$1\" up"),
                            Persistence(how: "libvirt hook (executable; the domain XML is on stdin; 'started' runs after qemu began, so the first solicitations may be out already)",
                                        file: "/etc/libvirt/hooks/qemu",
                                        snippet: "#!/bin/sh\n[ \"$2\" = started ] || exit 0\nfor dev in $(sed -n \"s/.*<target dev='\\([^']*\\)'.*/\\1/p\"); do\n  case \"$dev\" in \(pattern)) sysctl -qw \"net.ipv6.conf.$dev.disable_ipv6=1\";; esac\ndone"),
                            Persistence(how: "systemd hosts: udev (99-systemd.rules) re-applies sysctl.d's net.ipv6.conf.* lines to every new interface — asynchronously, possibly after the tap came up",
                                        file: "/etc/sysctl.d/90-vxsw-taps.conf",
                                        snippet: "net.ipv6.conf.\(pattern).disable_ipv6 = 1"),
                        ])]
    }
}
