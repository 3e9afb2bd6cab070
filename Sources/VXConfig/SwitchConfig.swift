import VXCore

/// The switch configuration, read from YAML (`SwitchConfig.load(path:)`) or built in code.
///
/// Every section but `vnis`/`ports` and `vtep` has defaults; unknown keys are rejected and every
/// error names the field (`vnis[1].vni: 16777216 is out of range (1..16777215)`).
/// The full format, with an example, is in `Sources/VXConfig/README.md`:
///
/// ```yaml
/// vtep:
///   ipv4: 198.18.0.1          # local VTEP address(es); at least one of ipv4/ipv6
///   ipv6: fd00:18::1
///   udp-port: 4789             # default 4789
///   udp6-zero-checksum: false  # RFC 6935; default false (compute the IPv6 outer UDP checksum)
///   verify-udp-checksum: { ipv4: false, ipv6: true }  # drop received non-zero wrong ones; these defaults
///   source-port-range: 49152-65535
///   accept: known              # decapsulate from: known (flood lists, static entries, EVPN routes) | any
///   max-learned: 1024          # with accept: any, most VTEPs learned from the data plane (1..2048)
/// uplink:                      # optional: without it the switch only joins local ports
///   interface: ul0
///   queues: all                # or a list [0, 1]
///   mtu: auto                  # or a number; inner frames must fit MTU - 50 (IPv4) / - 70 (IPv6)
/// vnis:
///   - vni: 1000
///     flood: [198.18.0.2]      # static head-end replication list (remote VTEPs)
///     mac-limit: 4096          # most MACs learned in this VNI; default fdb.vni-mac-limit; 0 or off = none
///     learn-remote: true       # learn MACs from decapsulated frames; default true
///     carry-tagged: false      # carry 802.1Q-tagged frames (access ports, decap); default false
///     gateway:                 # optional, for a VNI in a VRF: the anycast gateway (the same on every host)
///       ipv4: 10.1.0.1/24      # the gateway's address; the length gives the connected subnet
///       ipv6: fd00:1::1/64
///       mac: 00:00:5e:00:01:01 # default 00:00:5e:00:01:01
/// vrfs:                        # optional: tenant VRFs, routing between their L2 VNIs (symmetric IRB)
///   - name: tenant1
///     l3-vni: 5000             # not also in vnis; unique
///     router-mac: auto         # default auto: 02:76 + the low 32 bits of the VTEP address (ipv4, else ipv6)
///     route-targets: { import: ["65001:5000"], export: ["65001:5000"] }  # default auto: ASN:L3VNI
///     vnis: [1000]             # the L2 VNIs in it; a VNI is in one VRF at most
///     advertise-subnets: false # default false: with bgp, the gateways' subnets as type-5 routes
///     advertise-prefixes: [10.10.0.0/16]  # optional: more type-5 routes (aggregates), no host bits
/// ports:
///   - name: tap101i0
///     vni: 1000                # access port
///     complete-checksums: true # default true
///     mac-limit: 64            # most MACs learned on this port; default fdb.port-mac-limit; 0 or off = none
///   - name: trunk0
///     trunk: { 100: 1000, 200: 2000 }   # 802.1Q VLAN id -> VNI
///     native-vni: 1000         # optional: untagged frames
/// datapath:
///   workers: [1]               # CPUs for worker threads; default: the first CPU we may run on
///   ring-size: 4096            # power of two, 64..16384 (rx, tx, fill, completion)
///   frame-size: 4096           # 2048 or 4096
///   frames: 16384              # UMEM frames: half shared out to the sockets to receive into, half for tx
///   batch-size: 64             # 1..256; also each socket's share of a worker loop (fairness)
///   poll: adaptive             # busy | adaptive | interrupt
///   attach: auto               # native | generic | auto (native, else generic: e.g. a macvlan)
///   numa: auto                 # auto | NODE
///   fast-path: auto            # known unicast in XDP: auto (not into veths) | true | false
///   busy-poll: off             # or { timeout-us: 20, budget: 64, prefer: true }: AF_XDP busy polling
///   tunnel-gso: true           # guests' super-frames to remote VTEPs leave whole (tunnel GSO)
/// fdb:
///   aging-time: 300            # seconds; 0 = never age
///   max-entries: 131072        # MACs the table holds, all VNIs together (also sizes the EVPN RIB's tables up front)
///   max-neighbors: 24576       # IP → MAC entries for ARP/ND suppression, all VNIs together
///   vni-mac-limit: auto        # each VNI's MAC limit unless it sets one; auto = max-entries / 4; off = none
///   port-mac-limit: auto       # each VM port's MAC limit unless it sets one; auto = max-entries / 8; off = none
///   static:
///     - { vni: 1000, mac: "02:00:00:00:00:01", port: tap101i0 }
///     - { vni: 1000, mac: "02:00:00:00:00:02", vtep: 198.18.0.2 }
/// control:
///   socket: /run/vxsw/vxsw.sock
///   metrics: 127.0.0.1:9469    # Prometheus text format; "off" to disable
///   state-file: /var/lib/vxsw/state.json  # run-time ports and static MACs kept across restarts; "off"
/// bgp:                         # optional: the EVPN speaker
///   asn: 65001
///   router-id: 198.18.0.1
///   peers: [{ address: 198.18.0.2, remote-as: 65002 }]
///   dup-addr-detection: { max-moves: 5, time: 180, freeze: false }  # FRR's defaults; false: off
/// storm-control:               # flooding each VM port may cause, frames/s; 0 = no limit; "off" = none
///   broadcast: 2000
///   multicast: 5000
///   unknown-unicast: 10000
/// ```
public struct SwitchConfig: Equatable, Sendable {
    public var vtep: VTEP
    public var uplink: Uplink?
    public var vnis: [VNIConfig]
    public var ports: [Port]
    public var datapath: Datapath
    public var fdb: FDB
    public var control: Control
    /// Storm control of every VM port that sets none itself (`Port.stormControl`).
    public var stormControl: StormLimits = SwitchConfig.defaultStormControl
    /// Flooding a VM may cause by default, frames per second: ARP, DHCP and a host's neighbour
    /// discovery stay far below; a VM flooding garbage is held to this, not to line rate.
    public static let defaultStormControl = StormLimits(broadcast: 2_000, multicast: 5_000, unknownUnicast: 10_000)
    public var bgp: BGPConfig?
    /// Tenant VRFs: routing between their L2 VNIs through anycast gateways.
    public var vrfs: [VRFConfig]

    public init(
        vtep: VTEP, uplink: Uplink? = nil, vnis: [VNIConfig] = [], ports: [Port] = [],
        datapath: Datapath = .init(), fdb: FDB = .init(), control: Control = .init(), bgp: BGPConfig? = nil,
        vrfs: [VRFConfig] = []
    ) {
        self.vrfs = vrfs
        self.vtep = vtep
        self.uplink = uplink
        self.vnis = vnis
        self.ports = ports
        self.datapath = datapath
        self.fdb = fdb
        self.control = control
        self.bgp = bgp
    }

    /// The VNI entry for `vni`, if declared.
    public func vni(_ vni: VNI) -> VNIConfig? { vnis.first { $0.vni == vni } }
    /// The port named `name`, if configured.
    public func port(named name: String) -> Port? { ports.first { $0.name == name } }
    /// The VRF named `name`, if configured.
    public func vrf(named name: String) -> VRFConfig? { vrfs.first { $0.name == name } }
    /// The VRF an L2 VNI belongs to, if any.
    public func vrf(of vni: VNI) -> VRFConfig? { vrfs.first { $0.vnis.contains(vni) } }

    /// The connected subnets of `vrf`: its L2 VNIs' gateway prefixes (IPv4 and IPv6).
    public func subnets(of vrf: VRFConfig) -> [IPPrefix] {
        vnis.filter { vrf.vnis.contains($0.vni) }.flatMap { v in
            [v.gateway?.ipv4, v.gateway?.ipv6].compactMap { $0.flatMap { IPPrefix($0.address, length: Int($0.length)) } }
        }
    }

    /// The router MAC of `vrf`: its `router-mac`, or one derived from the VTEP address (stable
    /// across restarts, different per host): 02:76 (locally administered, unicast) and the low
    /// 32 bits of the IPv4 VTEP address (else the IPv6 one).
    public func routerMAC(of vrf: VRFConfig) -> MACAddress {
        if let mac = vrf.routerMAC { return mac }
        let low = UInt64(vtep.ipv4?.v4 ?? UInt32(truncatingIfNeeded: vtep.ipv6?.lo ?? 1))
        return MACAddress(raw: 0x0276_0000_0000 | low)
    }
}

extension SwitchConfig {
    /// The highest `vtep.max-learned`: half the VTEP table (4096), so the other half is always
    /// there for flood lists, static entries and EVPN routes.
    public static let maxLearnedVTEPs = 2048

    /// The local tunnel endpoint.
    public struct VTEP: Equatable, Sendable {
        public var ipv4: IPAddress?
        public var ipv6: IPAddress?
        public var udpPort: UInt16
        /// RFC 6935: send IPv6 outer UDP with a zero checksum. Default false: compute it.
        public var udp6ZeroChecksum: Bool
        /// Outer UDP source ports, chosen by a hash of the inner flow (ECMP entropy).
        public var sourcePortRange: ClosedRange<UInt16>
        /// Verify received non-zero outer UDP checksums, per family, and drop wrong ones
        /// (`bad_udp_checksum`). Default: IPv6 yes (its only integrity check), IPv4 no (the
        /// IPv4 header checksum and the inner frame's own checksums cover it; senders mostly send 0).
        public var verifyUDPChecksumV4: Bool
        public var verifyUDPChecksumV6: Bool
        /// `accept` / `max-learned`: which source VTEPs are decapsulated from. Default `known`:
        /// only VTEPs of flood lists, static entries and EVPN routes; a frame from any other is
        /// dropped (`unknown_vtep`). `any`: every source, and remote learning adds the VTEPs it
        /// sees, at most `max-learned` of them (a new one past that: `vtep_limit`); they go once
        /// no MAC has pointed at them for the FDB aging time. Both change with `vxsw reload`.
        public var admission = VTEPAdmission()

        public init(
            ipv4: IPAddress? = nil, ipv6: IPAddress? = nil, udpPort: UInt16 = 4789,
            udp6ZeroChecksum: Bool = false, sourcePortRange: ClosedRange<UInt16> = 49152...65535,
            verifyUDPChecksumV4: Bool = false, verifyUDPChecksumV6: Bool = true
        ) {
            self.ipv4 = ipv4
            self.ipv6 = ipv6
            self.udpPort = udpPort
            self.udp6ZeroChecksum = udp6ZeroChecksum
            self.sourcePortRange = sourcePortRange
            self.verifyUDPChecksumV4 = verifyUDPChecksumV4
            self.verifyUDPChecksumV6 = verifyUDPChecksumV6
        }

        /// Our address of the same family as `remote`, if we have one.
        public func localAddress(toward remote: IPAddress) -> IPAddress? { remote.isIPv4 ? ipv4 : ipv6 }
    }

    /// The underlay NIC.
    public struct Uplink: Equatable, Sendable {
        public var interface: String
        public var queues: Queues
        public var mtu: MTU

        public init(interface: String, queues: Queues = .all, mtu: MTU = .auto) {
            self.interface = interface
            self.queues = queues
            self.mtu = mtu
        }

        public enum Queues: Equatable, Sendable {
            /// Every combined/rx queue the NIC has (one AF_XDP socket each).
            case all
            case list([UInt32])
        }

        public enum MTU: Equatable, Sendable {
            /// Read the interface's MTU.
            case auto
            case fixed(Int)
        }

        /// Outer headers added in front of an inner Ethernet frame, counted against the underlay
        /// MTU: IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 = 50; IPv6 (40) = 70.
        public static func encapOverhead(ipv6: Bool) -> Int { ipv6 ? 70 : 50 }

        /// The largest overlay (inner IP) MTU an underlay `mtu` carries.
        public static func overlayMTU(underlay mtu: Int, ipv6: Bool) -> Int { mtu - encapOverhead(ipv6: ipv6) }
    }

    /// One VXLAN segment.
    public struct VNIConfig: Equatable, Sendable {
        public var vni: VNI
        /// Static head-end replication list: remote VTEPs that receive this VNI's BUM traffic.
        public var flood: [IPAddress]
        /// Most MACs learned in this VNI; nil: `fdb.vni-mac-limit`; 0 = unlimited
        /// (`SwitchConfig.macLimit(of:)`, `SwitchConfig+MACLimits.swift`).
        public var macLimit: Int?
        /// Learn inner source MACs behind remote VTEPs from decapsulated frames.
        public var learnRemote: Bool
        /// Carry VLAN-tagged frames: taken from access ports and delivered after decapsulation.
        /// Off (the default), both are dropped (`tagged_on_access`, `inner_vlan_tag`; RFC 7348 §6.1).
        public var carryTagged: Bool
        /// The anycast gateway (the VNI must be in a VRF): answers ARP/ND for its addresses,
        /// routes frames sent to its MAC.
        public var gateway: GatewayConfig?

        public init(vni: VNI, flood: [IPAddress] = [], macLimit: Int? = nil, learnRemote: Bool = true,
                    carryTagged: Bool = false, gateway: GatewayConfig? = nil) {
            self.vni = vni
            self.gateway = gateway
            self.flood = flood
            self.macLimit = macLimit
            self.learnRemote = learnRemote
            self.carryTagged = carryTagged
        }
    }

    /// An L2 VNI's anycast gateway: the same on every hypervisor.
    public struct GatewayConfig: Equatable, Sendable {
        /// The gateway's IPv4 address with the connected subnet's length (10.1.0.1/24).
        public var ipv4: InterfaceAddress?
        public var ipv6: InterfaceAddress?
        public var mac: MACAddress

        public static let defaultMAC = MACAddress(0x00, 0x00, 0x5E, 0x00, 0x01, 0x01)

        public init(ipv4: InterfaceAddress? = nil, ipv6: InterfaceAddress? = nil, mac: MACAddress = defaultMAC) {
            self.ipv4 = ipv4
            self.ipv6 = ipv6
            self.mac = mac
        }
    }

    /// A tenant VRF: an L3 VNI, a router MAC and the L2 VNIs routed between.
    public struct VRFConfig: Equatable, Sendable {
        public var name: String
        public var l3VNI: VNI
        /// nil (`auto`): `SwitchConfig.routerMAC(of:)` derives one from the VTEP address.
        public var routerMAC: MACAddress?
        /// Route targets for the EVPN speaker; nil: auto (ASN:L3VNI, like FRR's `route-target auto`).
        public var importTargets: [String]?
        public var exportTargets: [String]?
        /// The L2 VNIs in this VRF.
        public var vnis: [VNI]
        /// Advertise the gateways' subnets as EVPN type-5 routes (RFC 9136), so other VTEPs
        /// route to hosts here that no type-2 route names yet (silent hosts).
        public var advertiseSubnets: Bool
        /// More prefixes to advertise as type-5 routes (an aggregate of the subnets, say):
        /// addresses in them that no subnet or route here holds get ICMP unreachable.
        public var advertisePrefixes: [IPPrefix]

        public init(name: String, l3VNI: VNI, routerMAC: MACAddress? = nil, importTargets: [String]? = nil,
                    exportTargets: [String]? = nil, vnis: [VNI] = [], advertiseSubnets: Bool = false,
                    advertisePrefixes: [IPPrefix] = []) {
            self.advertiseSubnets = advertiseSubnets
            self.advertisePrefixes = advertisePrefixes
            self.name = name
            self.l3VNI = l3VNI
            self.routerMAC = routerMAC
            self.importTargets = importTargets
            self.exportTargets = exportTargets
            self.vnis = vnis
        }
    }

    /// A VM-facing port (tap or veth).
    public struct Port: Equatable, Sendable {
        public var name: String
        public var mode: Mode
        /// Complete partial (offloaded) checksums of frames the VM sends.
        public var completeChecksums: Bool
        /// How the port's frames reach vxsw: `auto` = a packet socket with the virtio-net
        /// header for taps (guest TSO/GRO), AF_XDP for everything else.
        public var io: IO
        /// This port's storm control; nil: the top-level `storm-control`.
        public var stormControl: StormLimits?
        /// Most MACs learned on this port, all its VNIs together; nil: `fdb.port-mac-limit`;
        /// 0 = unlimited (`SwitchConfig.macLimit(of:)`).
        public var macLimit: Int?

        public init(name: String, mode: Mode, completeChecksums: Bool = true, io: IO = .auto, stormControl: StormLimits? = nil,
                    macLimit: Int? = nil) {
            self.macLimit = macLimit
            self.name = name
            self.mode = mode
            self.completeChecksums = completeChecksums
            self.io = io
            self.stormControl = stormControl
        }

        public enum IO: String, Equatable, Sendable, CaseIterable {
            case auto, xdp, packet
        }

        public enum Mode: Equatable, Sendable {
            /// Untagged frames, all in one VNI.
            case access(VNI)
            /// 802.1Q VLAN id → VNI; untagged frames go to `native` (dropped when nil).
            case trunk(vlans: [UInt16: VNI], native: VNI?)
        }

        /// Every VNI this port carries.
        public var vnis: [VNI] {
            switch mode {
            case .access(let v): return [v]
            case .trunk(let vlans, let native): return Set(vlans.values).union(native.map { [$0] } ?? []).sorted()
            }
        }
    }

    /// AF_XDP and worker settings.
    public struct Datapath: Equatable, Sendable {
        /// CPUs for worker threads; empty = the first CPU in the process's affinity mask.
        public var workers: [Int]
        /// Entries in each rx, tx, fill and completion ring: a power of two, 64...16384.
        public var ringSize: Int
        /// UMEM frame size: 2048 or 4096.
        public var frameSize: Int
        /// UMEM frames, shared by all sockets.
        public var frames: Int
        /// Most frames handled per ring operation: 1...256.
        public var batchSize: Int
        public var poll: Poll
        public var attach: Attach
        /// NUMA node for UMEM and workers; nil = the uplink NIC's node.
        public var numaNode: Int?
        /// Known-unicast encap, decap and local delivery done by the XDP program itself
        /// (BPF/lib/fastpath.h); the rest still goes to the AF_XDP engine. Native XDP only.
        public var fastPath: FastPath
        /// Busy-poll socket options on every AF_XDP socket (SO_BUSY_POLL, SO_BUSY_POLL_BUDGET,
        /// SO_PREFER_BUSY_POLL); nil (`off`): none.
        public var busyPoll: BusyPoll?
        /// Guests' super-frames to remote VTEPs leave whole through a tunnel tap, for the NIC's
        /// tunnel TSO or the kernel's GSO to cut (Linux 6.17+; older kernels: segmented, as off).
        public var tunnelGSO: Bool

        public init(
            workers: [Int] = [], ringSize: Int = 4096, frameSize: Int = 4096, frames: Int = 16384,
            batchSize: Int = 64, poll: Poll = .adaptive, attach: Attach = .auto, numaNode: Int? = nil,
            fastPath: FastPath = .auto, busyPoll: BusyPoll? = nil, tunnelGSO: Bool = true
        ) {
            self.workers = workers
            self.ringSize = ringSize
            self.frameSize = frameSize
            self.frames = frames
            self.batchSize = batchSize
            self.poll = poll
            self.attach = attach
            self.numaNode = numaNode
            self.fastPath = fastPath
            self.busyPoll = busyPoll
            self.tunnelGSO = tunnelGSO
        }

        public struct BusyPoll: Equatable, Sendable {
            /// Microseconds one socket call may spin on the device's NAPI: 1...1000000.
            public var timeoutMicroseconds: Int
            /// Frames per NAPI poll while busy polling: 1...65535.
            public var budget: Int
            /// Ask the kernel to leave the NAPI to busy polling rather than softirqs.
            public var prefer: Bool

            public init(timeoutMicroseconds: Int = 20, budget: Int = 64, prefer: Bool = true) {
                self.timeoutMicroseconds = timeoutMicroseconds
                self.budget = budget
                self.prefer = prefer
            }
        }

        public enum FastPath: String, CaseIterable, Sendable {
            /// On for ports that can take XDP redirects as they are: every driver but veth,
            /// whose peer drops redirected frames unless it has NAPI (GRO on) or XDP of its own.
            case auto
            /// On for every port: the operator has made sure veth peers have GRO on.
            case on
            case off
        }

        public enum Poll: String, CaseIterable, Sendable {
            /// Spin on the rings; lowest latency, one core per worker at 100%.
            case busy
            /// Spin while traffic flows, sleep in poll() when idle.
            case adaptive
            /// Always wait in poll() (need_wakeup).
            case interrupt
        }

        public enum Attach: String, CaseIterable, Sendable {
            /// Driver (native) XDP; fail when the driver lacks it.
            case native
            /// Generic (skb) XDP: works everywhere, slower.
            case generic
            /// Native, falling back to generic with a warning where the driver has no native XDP
            /// (a macvlan, for one); the XDP fast path is then off.
            case auto
        }
    }

    /// Forwarding database settings.
    public struct FDB: Equatable, Sendable {
        /// Seconds before a learned MAC is forgotten; 0 = never.
        public var agingTime: Int
        public var staticEntries: [StaticEntry]
        /// MACs the table holds, all VNIs together (learned, static and EVPN); the table is
        /// preallocated, 24-byte slots at ≤ 3/4 load.
        public var maxEntries: Int
        /// IP → MAC entries (from EVPN MAC/IP routes) ARP/ND suppression holds, all VNIs
        /// together; beyond it a request is flooded, not answered. Preallocated like the FDB.
        public var maxNeighbors: Int
        /// MAC limit of each VNI that sets none (`vnis[i].mac-limit`); nil: auto (a quarter of
        /// `maxEntries`, `defaultVNIMACLimit`); 0: none.
        public var vniMACLimit: Int?
        /// MAC limit of each VM port that sets none (`ports[i].mac-limit`); nil: auto (an eighth
        /// of `maxEntries`, `defaultPortMACLimit`); 0: none.
        public var portMACLimit: Int?

        public init(agingTime: Int = 300, staticEntries: [StaticEntry] = [], maxEntries: Int = 131_072, maxNeighbors: Int = 24_576,
                    vniMACLimit: Int? = nil, portMACLimit: Int? = nil) {
            self.vniMACLimit = vniMACLimit
            self.portMACLimit = portMACLimit
            self.agingTime = agingTime
            self.staticEntries = staticEntries
            self.maxEntries = maxEntries
            self.maxNeighbors = maxNeighbors
        }

        /// A MAC pinned to a local port or a remote VTEP.
        public struct StaticEntry: Equatable, Sendable {
            public var vni: VNI
            public var mac: MACAddress
            public var target: Target

            public init(vni: VNI, mac: MACAddress, target: Target) {
                self.vni = vni
                self.mac = mac
                self.target = target
            }

            public enum Target: Equatable, Sendable {
                case port(String)
                case vtep(IPAddress)
            }
        }
    }

    /// Local management endpoints.
    public struct Control: Equatable, Sendable {
        /// The control socket (root-only, 0600, in a 0700 directory).
        public var socket: String
        /// Where Prometheus metrics are served ("127.0.0.1:9469", "[::1]:9469"); nil = off.
        public var metrics: ListenAddress?
        /// Where run-time ports and static MACs (`vxsw port add`, `vxsw fdb add`) are kept
        /// across restarts (`RunState`, in a 0700 directory); nil (`off`): not kept.
        public var stateFile: String?

        public init(socket: String = "/run/vxsw/vxsw.sock", metrics: ListenAddress? = ListenAddress("127.0.0.1:9469"),
                    stateFile: String? = Self.defaultStateFile) {
            self.socket = socket
            self.metrics = metrics
            self.stateFile = stateFile
        }

        public static let defaultStateFile = "/var/lib/vxsw/state.json"
    }
}
