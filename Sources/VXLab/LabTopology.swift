import Foundation
import VXLabKit

/// The lab: two hypervisors and four VMs in network namespaces.
///
/// ```
///   vm11 (VNI 1000)   vm12 (VNI 2000)              vm21 (VNI 1000)   vm22 (VNI 2000)
///     eth0              eth0                          eth0              eth0
///      |                 |                             |                 |
///    tap11             tap12                         tap21             tap22
///   +-------------------------+   underlay link    +------------------------------+
///   | hv1: vxsw (AF_XDP, XDP) |-ul0 ---------- ul0-| hv2: br1000+vx1000,          |
///   | VTEP 198.18.0.1         |  MTU 1600          |      br2000+vx2000 (kernel)  |
///   | fd00:18::1              |                    | VTEP 198.18.0.2 / fd00:18::2 |
///   +-------------------------+                    +------------------------------+
/// ```
/// VNI 1000 is 198.19.10.0/24, VNI 2000 is 198.19.20.0/24. vm12 also holds 198.19.10.12, an
/// address of VNI 1000's subnet that lives in VNI 2000: reaching it from VNI 1000 would be a leak.
/// Everything is removed by `teardown()` (also called on failure and on Ctrl-C).
public final class LabTopology {
    public enum Underlay: String, Sendable, CaseIterable { case ipv4, ipv6 }
    /// Where remote VTEPs and MACs come from: static flood lists and data-plane learning, or
    /// EVPN (hv2 runs FRR with `advertise-all-vni`, vxsw its BGP EVPN speaker; no static entries).
    public enum ControlPlane: String, Sendable { case `static`, evpn }

    public struct VM {
        public let name: String
        public let namespace: NetworkNamespace
        public let vni: UInt32
        public let address: String
        public let tap: String
        public var mac: String = ""
    }

    public let underlay: Underlay
    public let controlPlane: ControlPlane
    public static let asn = 65000
    public let hv1: NetworkNamespace
    public let hv2: NetworkNamespace
    public private(set) var vms: [VM] = []
    public let hv1VTEP: String
    public let hv2VTEP: String
    public static let underlayMTU = 1600
    public static let vnis: [UInt32] = [1000, 2000]
    private var namespaces: [NetworkNamespace] = []

    /// Rx/tx queues of the underlay veth (hv2's flows spread over hv1's rx queues by hash).
    public let uplinkQueues: Int

    public init(underlay: Underlay, controlPlane: ControlPlane = .static, prefix: String = "vxlab\(labTag)",
                uplinkQueues: Int = 1, log: (String) -> Void = { _ in }) throws {
        self.underlay = underlay
        self.uplinkQueues = uplinkQueues
        self.controlPlane = controlPlane
        hv1VTEP = underlay == .ipv4 ? "198.18.0.1" : "fd00:18::1"
        hv2VTEP = underlay == .ipv4 ? "198.18.0.2" : "fd00:18::2"
        hv1 = try NetworkNamespace("\(prefix)-hv1")
        do {
            hv2 = try NetworkNamespace("\(prefix)-hv2")
        } catch {
            hv1.remove()
            throw error
        }
        namespaces = [hv1, hv2]
        do {
            try build(prefix: prefix, log: log)
        } catch {
            teardown()
            throw error
        }
    }

    private func build(prefix: String, log: (String) -> Void) throws {
        log("underlay: hv1 ul0 <-> hv2 ul0, MTU \(Self.underlayMTU), \(underlay.rawValue)")
        try addVeth("ul0", in: hv1, "ul0", in: hv2, mtu: Self.underlayMTU, queues: uplinkQueues)
        // A veth takes XDP redirects (vxsw's fast path) only when its peer runs NAPI: GRO on.
        // A real NIC or a VM's tap needs nothing like it.
        try hv2.exec(["ethtool", "-K", "ul0", "gro", "on"])
        for (ns, v4, v6) in [(hv1, "198.18.0.1", "fd00:18::1"), (hv2, "198.18.0.2", "fd00:18::2")] {
            try ns.exec(["ip", "addr", "add", "\(v4)/24", "dev", "ul0"])
            try ns.exec(["ip", "addr", "add", "\(v6)/64", "dev", "ul0", "nodad"])
        }
        // hv2: the plain Linux way, a bridge and a kernel vxlan device per VNI — with static
        // flooding to hv1, or (EVPN) FRR's way: no learning on the vxlan port, zebra fills the FDB.
        for vni in Self.vnis {
            let evpn = controlPlane == .evpn
            log("hv2: br\(vni) + vx\(vni) (kernel vxlan, VNI \(vni), \(evpn ? "FDB from FRR's EVPN routes" : "flood to \(hv1VTEP)"))")
            try hv2.exec(["ip", "link", "add", "br\(vni)", "type", "bridge"])
            try hv2.exec(["ip", "link", "add", "vx\(vni)", "type", "vxlan", "id", String(vni),
                          "local", hv2VTEP, "dstport", "4789", "dev", "ul0"] + (evpn ? ["nolearning"] : []))
            try hv2.exec(["ip", "link", "set", "vx\(vni)", "mtu", "1500", "master", "br\(vni)", "up"])
            try hv2.exec(["ip", "link", "set", "br\(vni)", "up"])
            if evpn {
                try hv2.exec(["ip", "link", "set", "vx\(vni)", "type", "bridge_slave", "learning", "off"])
            } else {
                try hv2.exec(["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vx\(vni)", "dst", hv1VTEP])
            }
        }
        let plan: [(String, NetworkNamespace, UInt32, String)] = [
            ("vm11", hv1, 1000, "198.19.10.11"), ("vm12", hv1, 2000, "198.19.20.12"),
            ("vm21", hv2, 1000, "198.19.10.21"), ("vm22", hv2, 2000, "198.19.20.22"),
        ]
        for (name, hv, vni, address) in plan {
            let ns = try NetworkNamespace("\(prefix)-\(name)")
            namespaces.append(ns)
            let tap = "tap" + name.dropFirst(2)
            log("\(name): \(address) in VNI \(vni), port \(tap) on \(hv === hv1 ? "hv1 (vxsw)" : "hv2 (br\(vni))")")
            try addVeth("eth0", in: ns, tap, in: hv)
            try ns.exec(["ethtool", "-K", "eth0", "gro", "on"]) // takes redirects from tap (see ul0)
            try ns.exec(["ip", "addr", "add", "\(address)/24", "dev", "eth0"])
            if hv === hv2 { try hv2.exec(["ip", "link", "set", tap, "master", "br\(vni)"]) }
            var vm = VM(name: name, namespace: ns, vni: vni, address: address, tap: tap)
            vm.mac = try ns.exec(["cat", "/sys/class/net/eth0/address"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            vms.append(vm)
        }
        // The leak detector: an address of VNI 1000's subnet that exists only inside VNI 2000.
        try vm("vm12").namespace.exec(["ip", "addr", "add", "198.19.10.12/24", "dev", "eth0"])
    }

    public func vm(_ name: String) -> VM { vms.first { $0.name == name }! }

    /// vxsw's configuration for hv1.
    public func switchConfig(controlSocket: String, metrics: String = "off", agingTime: Int = 300,
                             fastPath: String = "true", workers: String? = nil, attach: String? = nil,
                             frames: Int = 8192) -> String {
        let ports = vms.filter { $0.namespace !== hv2 && ["vm11", "vm12"].contains($0.name) }
        let family = underlay == .ipv4 ? "ipv4" : "ipv6"
        return """
        # Generated by `vxsw lab`: hv1's switch.
        vtep:
          \(family): \(hv1VTEP)
          udp-port: 4789
        uplink:
          interface: ul0
        vnis:
        \(Self.vnis.map { "  - vni: \($0)" + (controlPlane == .static ? "\n    flood: [\(hv2VTEP)]" : "") }.joined(separator: "\n"))
        ports:
        \(ports.map { "  - name: \($0.tap)\n    vni: \($0.vni)" }.joined(separator: "\n"))
        fdb:
          aging-time: \(agingTime)
        datapath:
        \(workers.map { "  workers: \($0)\n" } ?? "")\(attach.map { "  attach: \($0)\n" } ?? "")  frames: \(frames)
          ring-size: 2048
          poll: adaptive
          fast-path: \(fastPath)   # true: every veth peer here has GRO on (see build), so XDP may redirect into them
        control:
          socket: \(controlSocket)
          metrics: \(metrics)
          state-file: \((controlSocket as NSString).deletingLastPathComponent)/state.json
        \(controlPlane == .evpn ? """
        bgp:
          asn: \(Self.asn)
          router-id: 198.18.0.1
          peers:
            - { address: \(hv2VTEP), remote-as: internal }
        """ : "")

        """
    }

    /// hv2's FRR: iBGP to hv1 in the same AS (auto RTs AS:VNI match), `advertise-all-vni`,
    /// graceful restart with forwarding preserved, so vxsw (as helper) keeps FRR's routes across a
    /// session reset. FRR 8.4 itself never keeps EVPN routes for a restarting peer: its helper
    /// loop (`FOREACH_AFI_SAFI_NSF`) stops at SAFI_MPLS_VPN and leaves out SAFI_EVPN.
    public func frrConfig(logDirectory: String) -> String {
        """
        hostname hv2
        log file \(logDirectory)/bgpd.log
        router bgp \(Self.asn)
         bgp router-id 198.18.0.2
         bgp graceful-restart
         bgp graceful-restart preserve-fw-state
         no bgp default ipv4-unicast
         neighbor \(hv1VTEP) remote-as \(Self.asn)
         neighbor \(hv1VTEP) timers 3 9
         address-family l2vpn evpn
          neighbor \(hv1VTEP) activate
          advertise-all-vni
         exit-address-family

        """
    }

    /// Removes every namespace (and with them every veth, bridge and vxlan device). Idempotent.
    public func teardown() {
        for ns in namespaces.reversed() { ns.remove() }
    }

    deinit { teardown() }
}
