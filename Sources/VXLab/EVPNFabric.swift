import Foundation
import VXConfig
import VXLabKit
import VXSwitch

/// An EVPN fabric of any number of hypervisors on one shared underlay, for the system tests
/// and the route benchmark:
///
/// ```
///   vm11  vm12            vm21  vm22            vm31 ...
///     tap11 tap12           tap21 tap22           tap31
///  +-------------+      +----------------+      +-------------+      +--------+   +--------+
///  | hv1: vxsw   |      | hv2: FRR +     |      | hv3: vxsw   |      | rr:    |   | gobgp: |
///  | 198.18.0.1  |      | br/vx per VNI  |      | 198.18.0.3  |      | FRR RR |   | gobgpd |
///  +-----ul0-----+      +------ul0-------+      +-----ul0-----+      +--ul0---+   +--ul0---+
///        |                      |                      |                 |            |
///  ======+======================+======== br0 (underlay namespace) ======+============+====
///                               198.18.0.0/24, MTU 1600
/// ```
/// Each node is a namespace with `ul0` (198.18.0.HOST/24) plugged into the underlay bridge.
/// A node runs vxsw (its own process, config and control socket), FRR with a kernel bridge
/// and vxlan device per VNI (`advertise-all-vni`), an FRR route reflector, or gobgpd.
/// `teardown()` stops every process this fabric started (by PID) and removes every namespace.
public final class EVPNFabric {
    public static let asn = 65000
    public static let underlayMTU = 1600

    /// `router`: a namespace routing with the kernel's own vxlan device, which the test sets up
    /// (an exit node behind a type-5 prefix); its "VMs" are routed interfaces, not bridged.
    public enum Kind: String, Sendable { case vxsw, frr, routeReflector, gobgp, router }

    public final class Node {
        public let name: String
        public let kind: Kind
        public let namespace: NetworkNamespace
        /// 198.18.0.HOST: underlay address, VTEP, router-id and BGP address.
        public let address: String
        public let directory: String
        public var vnis: [UInt32]
        public var controlSocket: String { directory + "/vxsw.sock" }
        public fileprivate(set) var vxsw: ChildProcess?
        public fileprivate(set) var frr: FRRInstance?
        public fileprivate(set) var gobgp: GoBGPInstance?

        init(name: String, kind: Kind, namespace: NetworkNamespace, address: String, directory: String, vnis: [UInt32]) {
            self.name = name
            self.kind = kind
            self.namespace = namespace
            self.address = address
            self.directory = directory
            self.vnis = vnis
        }
    }

    public struct VM {
        public let name: String
        public let namespace: NetworkNamespace
        public let node: String
        public let vni: UInt32
        public let address: String
        public let tap: String
        public let mac: String
        /// The VM's interface: eth0, or eth1 after a move.
        public var interface = "eth0"
    }

    public let prefix: String
    public let workDir: String
    public let binary: String
    public let underlay: NetworkNamespace
    public private(set) var nodes: [Node] = []
    public private(set) var vms: [VM] = []
    private var extraNamespaces: [NetworkNamespace] = []
    let log: (String) -> Void

    /// `prefix` names every namespace (keep it short: `PREFIX-hv1`); `binary` is vxsw.
    public init(prefix: String, workDir: String, binary: String, log: @escaping (String) -> Void = { _ in }) throws {
        self.prefix = prefix
        self.workDir = workDir
        self.binary = binary
        self.log = log
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        underlay = try NetworkNamespace("\(prefix)-ul")
        do {
            try underlay.exec(["ip", "link", "add", "br0", "type", "bridge"])
            try underlay.exec(["ip", "link", "set", "br0", "mtu", String(Self.underlayMTU), "up"])
        } catch {
            underlay.remove()
            throw error
        }
    }

    public func node(_ name: String) -> Node { nodes.first { $0.name == name }! }

    /// A bare namespace (`PREFIX-name`) that `teardown()` removes, for what a test builds itself
    /// (an FRR VRF's namespace, a VM on a hand-made bridge).
    public func addNamespace(_ name: String) throws -> NetworkNamespace {
        let ns = try NetworkNamespace("\(prefix)-\(name)")
        extraNamespaces.append(ns)
        return ns
    }
    public func vm(_ name: String) -> VM { vms.first { $0.name == name }! }

    /// A node at 198.18.0.HOST. For `.frr`, a bridge `brVNI` and a vxlan device `vxVNI` per VNI
    /// (nolearning, bridge port learning off), as FRR's `advertise-all-vni` wants them.
    @discardableResult
    public func addNode(_ name: String, host: Int, kind: Kind, vnis: [UInt32] = []) throws -> Node {
        let ns = try NetworkNamespace("\(prefix)-\(name)")
        let address = "198.18.0.\(host)"
        let node = Node(name: name, kind: kind, namespace: ns, address: address, directory: workDir + "/" + name, vnis: vnis)
        nodes.append(node)
        try FileManager.default.createDirectory(atPath: node.directory, withIntermediateDirectories: true)
        log("\(name): \(kind.rawValue) at \(address)")
        try addVeth("ul0", in: ns, name, in: underlay, mtu: Self.underlayMTU)
        try underlay.exec(["ip", "link", "set", name, "master", "br0"])
        try ns.exec(["ip", "addr", "add", "\(address)/24", "dev", "ul0"])
        if kind == .frr, !vnis.isEmpty { try addKernelVNIs(node, vnis) }
        return node
    }

    /// brVNI + vxVNI for each VNI, in one `ip -batch` (4k VNIs: one process, not 20k).
    func addKernelVNIs(_ node: Node, _ vnis: [UInt32]) throws {
        var script = ""
        for vni in vnis {
            script += "link add br\(vni) type bridge\n"
            script += "link add vx\(vni) type vxlan id \(vni) local \(node.address) dstport 4789 dev ul0 nolearning\n"
            script += "link set vx\(vni) mtu 1500 master br\(vni) up\n"
            script += "link set vx\(vni) type bridge_slave learning off neigh_suppress off\n"
            script += "link set br\(vni) up\n"
        }
        let path = node.directory + "/vnis.ip-batch"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try node.namespace.exec(["ip", "-batch", path])
    }

    /// A VM: a namespace with eth0 (ADDRESS/24, the given MAC or a random one) whose peer
    /// `tap` is in the node; on an FRR node it joins `brVNI`. On a running vxsw node it is
    /// attached with `vxsw port add` (`attach: false` leaves that to the test); otherwise the
    /// node's vxsw config lists it when vxsw starts.
    @discardableResult
    public func addVM(_ name: String, on nodeName: String, vni: UInt32, address: String, mac: String? = nil,
                      tap: String? = nil, attach: Bool = true) throws -> VM {
        let node = node(nodeName)
        let ns = try NetworkNamespace("\(prefix)-\(name)")
        extraNamespaces.append(ns)
        let tap = tap ?? "tap" + name.dropFirst(2)
        try plug(ns, tap: tap, into: node, vni: vni, address: address, mac: mac, attach: attach)
        let realMAC = try ns.exec(["cat", "/sys/class/net/eth0/address"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let vm = VM(name: name, namespace: ns, node: nodeName, vni: vni, address: address, tap: tap, mac: realMAC)
        vms.append(vm)
        log("\(name): \(address) (\(realMAC)) in VNI \(vni) on \(nodeName) (\(tap))")
        return vm
    }

    /// Moves a VM to another node, the way a live migration does: the VM resumes there on a
    /// new interface `eth1` (same MAC, same address) while the source still has the MAC in its
    /// FDB. The old `eth0` stays up (so the source bridge does not flush it) but goes silent:
    /// no address, no ARP, no IPv6. Delete it (`ip link del eth0` in the VM) to end the source side.
    @discardableResult
    public func moveVM(_ name: String, to nodeName: String, tap: String? = nil) throws -> VM {
        guard let i = vms.firstIndex(where: { $0.name == name }) else { throw LabError("no VM \(name)") }
        let old = vms[i]
        let ns = old.namespace
        try ns.exec(["ip", "addr", "flush", "dev", old.interface])
        try ns.exec(["sysctl", "-qw", "net.ipv6.conf.\(old.interface).disable_ipv6=1"])
        try ns.exec(["ip", "link", "set", old.interface, "arp", "off"])
        let tap = tap ?? old.tap
        let interface = old.interface == "eth0" ? "eth1" : "eth0"
        try plug(ns, interface: interface, tap: tap, into: node(nodeName), vni: old.vni, address: old.address, mac: old.mac, attach: true)
        let moved = VM(name: old.name, namespace: ns, node: nodeName, vni: old.vni, address: old.address, tap: tap, mac: old.mac,
                       interface: interface)
        vms[i] = moved
        return moved
    }

    private func plug(_ ns: NetworkNamespace, interface: String = "eth0", tap: String, into node: Node, vni: UInt32, address: String,
                      mac: String?, attach: Bool) throws {
        try addVeth(interface, in: ns, tap, in: node.namespace)
        if let mac {
            try ns.exec(["ip", "link", "set", interface, "address", mac])
        }
        try ns.exec(["ip", "addr", "add", "\(address)/24", "dev", interface])
        if attach || node.kind != .vxsw { try attachTap(tap, on: node, vni: vni) }
    }

    /// Plugs an interface of the node (a VM's veth peer, a qemu guest's tap) into VNI `vni` the
    /// way its hypervisor does: the bridge `brVNI` on an FRR node, `vxsw port add` on a running
    /// vxsw node (a vxsw that is not running yet takes its ports from the config); then sets
    /// it up (qemu leaves a `script=no` tap down).
    public func attachTap(_ tap: String, on node: Node, vni: UInt32) throws {
        switch node.kind {
        case .frr:
            try node.namespace.exec(["ip", "link", "set", tap, "master", "br\(vni)"])
        case .router:
            break
        case .vxsw:
            if node.vxsw != nil {
                let r = try control(node.name, ["port", "add", tap, "--vni", String(vni)])
                guard r.succeeded else { throw LabError("vxsw port add \(tap) on \(node.name): \(r.output) \(r.error)") }
            }
        default:
            throw LabError("\(node.name) (\(node.kind.rawValue)) hosts no VMs")
        }
        try node.namespace.exec(["ip", "link", "set", tap, "up"])
    }

    // MARK: vxsw

    /// hv's vxsw configuration: its VTEP, ul0, its VNIs and VMs, and the BGP section.
    /// `vniOverrides` is YAML for `bgp.vnis` (indented by 4), e.g. route targets; `metrics` the
    /// Prometheus endpoint's ADDRESS:PORT inside the node's namespace, or "off"; `bgpExtra` more
    /// YAML lines for `bgp:` (indented by 2), e.g. `  dup-addr-detection: { freeze: permanent }`;
    /// `gateways` a VNI's `gateway:` value (`{ ipv4: 10.1.0.1/24 }`), `vrfs` the `vrfs:` list (indented by 2);
    /// `fdbExtra` more YAML lines for `fdb:` (indented by 2), e.g. `  max-entries: 262144`.
    public func switchConfig(_ node: Node, peers: [String], agingTime: Int = 300, vniOverrides: String? = nil, frames: Int = 8192,
                             metrics: String = "off", bgpExtra: String? = nil, gateways: [UInt32: String] = [:],
                             vrfs: String? = nil, fdbExtra: String? = nil) -> String {
        let ports = vms.filter { $0.node == node.name }
        return """
            # Generated by EVPNFabric: \(node.name)'s switch.
            vtep:
              ipv4: \(node.address)
              udp-port: 4789
            uplink:
              interface: ul0
            vnis:
            \(node.vnis.map { "  - vni: \($0)" + (gateways[$0].map { "\n    gateway: \($0)" } ?? "") }.joined(separator: "\n"))
            \(vrfs.map { "vrfs:\n" + $0 } ?? "")
            ports:
            \(ports.isEmpty ? "  []" : ports.map { "  - name: \($0.tap)\n    vni: \($0.vni)" }.joined(separator: "\n"))
            fdb:
              aging-time: \(agingTime)
            \(fdbExtra ?? "")
            datapath:
              frames: \(frames)
              ring-size: 2048
              poll: adaptive
            control:
              socket: \(node.controlSocket)
              metrics: \(metrics)
              state-file: off
            bgp:
              asn: \(Self.asn)
              router-id: \(node.address)
              peers:
            \(peers.map { "    - { address: \($0), remote-as: internal }" }.joined(separator: "\n"))
            \(vniOverrides.map { "  vnis:\n" + $0 } ?? "")
            \(bgpExtra ?? "")

            """
    }

    /// Starts vxsw on a `.vxsw` node (iBGP to each of `peers`) and waits for its control socket.
    public func startVxsw(_ name: String, peers: [String], agingTime: Int = 300, vniOverrides: String? = nil, frames: Int = 8192,
                          metrics: String = "off", bgpExtra: String? = nil, gateways: [UInt32: String] = [:],
                          vrfs: String? = nil, fdbExtra: String? = nil) throws {
        let node = node(name)
        let config = node.directory + "/vxsw.yaml"
        try switchConfig(node, peers: peers, agingTime: agingTime, vniOverrides: vniOverrides, frames: frames, metrics: metrics,
                         bgpExtra: bgpExtra, gateways: gateways, vrfs: vrfs, fdbExtra: fdbExtra)
            .write(toFile: config, atomically: true, encoding: .utf8)
        log("\(name): vxsw run --config \(config)")
        node.vxsw = try startSwitchProcess(binary: binary, config: config, socket: node.controlSocket, in: node.namespace,
                                           logPath: node.directory + "/vxsw.log", what: "vxsw on \(name)")
    }

    /// Stops vxsw on the node (SIGTERM); returns its exit status.
    @discardableResult
    public func stopVxsw(_ name: String) -> Int32 {
        let node = node(name)
        defer { node.vxsw = nil }
        return node.vxsw?.stop() ?? -1
    }

    /// `vxsw ARGS --socket ...` against the node's switch.
    @discardableResult
    public func control(_ name: String, _ args: [String]) throws -> CommandResult {
        try VXLabKit.run([binary] + args + ["--socket", node(name).controlSocket], check: false)
    }

    /// `vxsw show ARGS --json` against the node's switch.
    public func show(_ name: String, _ args: [String]) throws -> JSONValue {
        let out = try VXLabKit.run([binary, "show"] + args + ["--json", "--socket", node(name).controlSocket]).output
        return try JSONDecoder().decode(JSONValue.self, from: Data(out.utf8))
    }

    /// The node's vxsw FDB entries (all VNIs, or one).
    public func macs(_ name: String, vni: UInt32? = nil) throws -> [MACView] {
        try (show(name, ["mac"] + (vni.map { ["--vni", String($0)] } ?? [])).decode() as MACTable).entries
    }

    public func vniViews(_ name: String) throws -> [VNIView] { try show(name, ["vni"]).decode() }

    /// True when every BGP peer of the node's vxsw is Established.
    public func vxswSessionsUp(_ name: String) -> Bool {
        guard let peers = (try? show(name, ["bgp", "l2vpn", "evpn", "summary"]))?["peers"]?.objectValue, !peers.isEmpty else { return false }
        return peers.values.allSatisfy { $0["state"]?.stringValue == "Established" }
    }

    // MARK: FRR and GoBGP

    /// FRR (zebra + bgpd) on an `.frr` or `.routeReflector` node with the given bgpd config.
    public func startFRR(_ name: String, bgpdConfig: String, zebraConfig: String = "", vrfs: [String: NetworkNamespace] = [:]) throws {
        let node = node(name)
        log("\(name): FRR (zebra + bgpd)" + (vrfs.isEmpty ? "" : ", VRFs on network namespaces: \(vrfs.keys.sorted().joined(separator: ", "))"))
        node.frr = try FRRInstance(in: node.namespace, directory: node.directory + "/frr", bgpdConfig: bgpdConfig,
                                   zebraConfig: zebraConfig, vrfs: vrfs)
    }

    /// A hypervisor's FRR config: iBGP to `peers`, `advertise-all-vni`, fast timers.
    public func frrLeafConfig(_ node: Node, peers: [String]) -> String {
        """
        hostname \(node.name)
        log file \(node.directory)/frr/bgpd.log
        router bgp \(Self.asn)
         bgp router-id \(node.address)
         no bgp default ipv4-unicast
        \(peers.map { " neighbor \($0) remote-as \(Self.asn)\n neighbor \($0) timers 3 9\n neighbor \($0) timers connect 1" }.joined(separator: "\n"))
         address-family l2vpn evpn
        \(peers.map { "  neighbor \($0) activate" }.joined(separator: "\n"))
          advertise-all-vni
         exit-address-family

        """
    }

    /// A route reflector's FRR config: every client in one peer group, no VNIs of its own.
    public func frrRouteReflectorConfig(_ node: Node, clients: [String]) -> String {
        """
        hostname \(node.name)
        log file \(node.directory)/frr/bgpd.log
        router bgp \(Self.asn)
         bgp router-id \(node.address)
         bgp cluster-id \(node.address)
         no bgp default ipv4-unicast
         neighbor HV peer-group
         neighbor HV remote-as \(Self.asn)
         neighbor HV timers 3 9
         neighbor HV timers connect 1
        \(clients.map { " neighbor \($0) peer-group HV" }.joined(separator: "\n"))
         address-family l2vpn evpn
          neighbor HV activate
          neighbor HV route-reflector-client
         exit-address-family

        """
    }

    /// True when the FRR route reflector `rr` has an Established session to each of `clients`.
    public func routeReflectorSessionsUp(_ rr: Node, _ clients: [Node]) -> Bool {
        guard let text = try? rr.frr?.vtysh("show bgp l2vpn evpn summary json"),
              let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let peers = json["peers"] as? [String: Any] else { return false }
        return clients.allSatisfy { (peers[$0.address] as? [String: Any])?["state"] as? String == "Established" }
    }

    /// gobgpd on a `.gobgp` node.
    public func startGoBGP(_ name: String, neighbors: [GoBGPInstance.Neighbor], logLevel: String = "info") throws -> GoBGPInstance {
        let node = node(name)
        log("\(name): gobgpd")
        let instance = try GoBGPInstance(in: node.namespace, directory: node.directory + "/gobgp",
                                         config: GoBGPInstance.config(asn: Self.asn, routerID: node.address, neighbors: neighbors),
                                         logLevel: logLevel)
        node.gobgp = instance
        return instance
    }

    // MARK: traffic

    /// `ping -c COUNT` from a namespace; (reached, summary line).
    public func ping(_ from: NetworkNamespace, _ to: String, count: Int = 2) throws -> (Bool, String) {
        let r = try from.exec(["ping", "-c", String(count), "-i", "0.2", "-W", "2", to], check: false)
        let summary = r.output.split(separator: "\n").first { $0.contains("packets transmitted") }.map(String.init) ?? r.error
        return (r.succeeded, summary)
    }

    /// Logs of every daemon, for a failure message.
    public func logs(last: Int = 1500) -> String {
        var s = ""
        for n in nodes {
            if let v = n.vxsw { s += "--- \(n.name) vxsw\n\(v.log.suffix(last))\n" }
            if n.frr != nil { s += "--- \(n.name) bgpd.log\n\(((try? String(contentsOfFile: n.directory + "/frr/bgpd.log", encoding: .utf8)) ?? "").suffix(last))\n" }
            if let g = n.gobgp { s += "--- \(n.name) gobgpd\n\(g.log.suffix(last))\n" }
        }
        return s
    }

    /// Stops every daemon (by PID) and removes every namespace. Idempotent.
    public func teardown() {
        for n in nodes {
            n.vxsw?.stop()
            n.vxsw = nil
            n.gobgp?.stop()
            n.gobgp = nil
            n.frr?.stop()
            n.frr = nil
        }
        for ns in extraNamespaces.reversed() { ns.remove() }
        for n in nodes.reversed() { n.namespace.remove() }
        underlay.remove()
    }

    deinit { teardown() }
}
