import VXCore

/// `show bgp l2vpn evpn summary` (FRR layout); its JSON (FRR's shape) is in `BGPSummary+JSON.swift`.
public struct BGPSummary: Codable, Sendable {
    public var routerID: String
    public var localAS: UInt32
    public var peers: [PeerSummary]
    /// Routes in the RIB: received (every peer's Adj-RIB-In) and advertised (FRR's `ribCount`).
    public var ribCount: Int = 0

    public struct PeerSummary: Codable, Sendable {
        public var neighbor: String
        public var remoteAS: UInt32
        public var messagesReceived: Int
        public var messagesSent: Int
        /// Seconds in the current state (up or down).
        public var upDownSeconds: Int
        public var state: BGPState
        public var prefixesReceived: Int
        public var prefixesSent: Int
        public var description: String?
        public var lastError: String?
        public var gracefulRestartStale: Bool
        public var connectionsEstablished: Int = 0
        public var connectionsDropped: Int = 0
        /// When the session came up (Unix seconds), while Established.
        public var establishedEpoch: Int? = nil

        /// FRR's Up/Down column: "never" for a peer that was never up.
        public var upDownText: String {
            state != .established && connectionsEstablished == 0 ? "never" : upDown(upDownSeconds)
        }
    }

    /// `l2vpnHeading`: FRR's `show bgp summary` puts the family's heading above.
    public func formatted(l2vpnHeading: Bool = false) -> String {
        var s = l2vpnHeading ? "\nL2VPN EVPN Summary (VRF default):\n" : ""
        s += "BGP router identifier \(routerID), local AS number \(localAS) vrf-id 0\n"
        s += "BGP table version 0\nRIB entries \(ribCount)\nPeers \(peers.count)\n\n"
        s += "Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc\n"
        for p in peers {
            let state = p.state == .established ? String(p.prefixesReceived) : p.state.rawValue
            s += pad(p.neighbor, 16) + "4 " + lpad(String(p.remoteAS), 10) + lpad(String(p.messagesReceived), 10)
            s += lpad(String(p.messagesSent), 10) + lpad("0", 9) + lpad("0", 5) + lpad("0", 5) + " "
            s += lpad(p.upDownText, 8) + " " + lpad(state, 12) + " " + lpad(String(p.prefixesSent), 8)
            s += " " + (p.description ?? "N/A") + "\n"
        }
        s += "\nTotal number of neighbors \(peers.count)\n"
        return s
    }
}

/// One path of `show bgp l2vpn evpn`.
public struct EVPNRouteEntry: Codable, Sendable {
    public var rd: String
    public var routeType: UInt8
    public var prefix: String
    public var nextHop: String
    public var localPref: UInt32?
    public var weight: Int
    public var path: String
    public var origin: String
    public var extendedCommunities: [String]
    public var pmsi: String?
    /// MAC/IP routes: "L2VNI" or "L2VNI/L3VNI" (Label1/Label2), as FRR's `Label`.
    public var label: String? = nil
    public var best: Bool
    public var local: Bool
    public var stale: Bool
    public var peer: String?
    /// The route's fields as FRR's JSON lists them: Ethernet tag, MAC, IP (type 2: the host's;
    /// type 3: the originator; type 5: the prefix's address) and its length in bits.
    public var ethTag: UInt32 = 0
    public var mac: String? = nil
    public var ip: String? = nil
    public var ipLen: Int? = nil
    /// "internal" (from an iBGP peer) or "external" (an eBGP peer, or vxsw's own, as FRR says).
    public var pathFrom: String = "external"
    /// The received attributes beyond those above that vxsw kept (FRR's `metric`,
    /// `atomicAggregate`, `aggregatorAs`, `aggregatorId`): absent when discarded or not sent.
    public var med: UInt32? = nil
    public var atomicAggregate = false
    public var aggregatorAS: UInt32? = nil
    public var aggregatorID: String? = nil
}

/// `show bgp l2vpn evpn route [vni N] [type T]`; its JSON (FRR's shape) is in
/// `EVPNRouteTable+JSON.swift`.
public struct EVPNRouteTable: Codable, Sendable {
    /// Not in FRR's JSON: the CLI takes it from `show bgp l2vpn evpn summary` for the text.
    public var routerID: String
    public var routes: [EVPNRouteEntry]
    /// The request's filters: with `vni`, one VNI's table (keyed by prefix, no RD level, as FRR).
    public var vni: UInt32? = nil
    public var routeType: UInt8? = nil

    public func formatted() -> String {
        var s = "BGP table version is 0, local router ID is \(routerID)\n"
        s += "Status codes: s suppressed, d damped, h history, * valid, > best, i - internal\n"
        s += "Origin codes: i - IGP, e - EGP, ? - incomplete\n"
        s += "EVPN type-1 prefix: [1]:[EthTag]:[ESI]:[IPlen]:[VTEP-IP]:[Frag-id]\n"
        s += "EVPN type-2 prefix: [2]:[EthTag]:[MAClen]:[MAC]:[IPlen]:[IP]\n"
        s += "EVPN type-3 prefix: [3]:[EthTag]:[IPlen]:[OrigIP]\n"
        s += "EVPN type-4 prefix: [4]:[ESI]:[IPlen]:[OrigIP]\n"
        s += "EVPN type-5 prefix: [5]:[EthTag]:[IPlen]:[IP]\n\n"
        s += "   Network          Next Hop            Metric LocPrf Weight Path\n"
        if vni == nil { s += "                    Extended Community\n" }
        var lastRD: String? = nil
        for r in routes {
            if vni == nil, r.rd != lastRD { s += "Route Distinguisher: \(r.rd)\n"; lastRD = r.rd }
            s += (r.stale ? "S" : "*") + (r.best ? ">" : " ") + (r.pathFrom == "internal" ? "i" : " ") + r.prefix + "\n"
            s += String(repeating: " ", count: 20) + pad(r.nextHop, 16) + String(repeating: " ", count: 10)
            s += lpad(r.localPref.map(String.init) ?? "", 7) + lpad(String(r.weight), 7) + " " + (r.path.isEmpty ? "" : r.path + " ") + r.origin + "\n"
            s += String(repeating: " ", count: 20) + r.extendedCommunities.joined(separator: " ") + "\n"
        }
        let prefixes = Set(routes.map { (vni == nil ? $0.rd : "") + " " + $0.prefix }).count
        s += "\nDisplayed \(prefixes) prefixes (\(routes.count) paths)" + (routeType != nil && vni == nil ? " (of requested type)" : "") + "\n"
        return s
    }
}

/// One VNI of `show evpn vni [N]`; its JSON (FRR's shapes) is in `EVPNVNIInfo+JSON.swift`.
public struct EVPNVNIInfo: Codable, Sendable {
    public var vni: UInt32
    public var rd: String
    public var importRTs: [String]
    public var exportRTs: [String]
    public var localMACs: Int
    public var remoteMACs: Int
    public var arps: Int
    public var remoteVTEPs: [String]
    /// "L2", or "L3" for a VRF's L3 VNI (FRR's `show evpn vni` lists both).
    public var type: String = "L2"
    /// The tenant VRF the VNI belongs to; "default" outside one.
    public var tenantVRF: String = "default"
    /// The switch's VTEP address (FRR's `vtepIp`).
    public var localVTEP: String = ""
    /// An L3 VNI's router MAC and L2 VNIs.
    public var routerMAC: String? = nil
    public var l2VNIs: [UInt32]? = nil

    public init(vni: UInt32, rd: String, importRTs: [String], exportRTs: [String], localMACs: Int, remoteMACs: Int, arps: Int,
                remoteVTEPs: [String], type: String = "L2", tenantVRF: String = "default", localVTEP: String = "",
                routerMAC: String? = nil, l2VNIs: [UInt32]? = nil) {
        self.vni = vni; self.rd = rd; self.importRTs = importRTs; self.exportRTs = exportRTs
        self.localMACs = localMACs; self.remoteMACs = remoteMACs; self.arps = arps; self.remoteVTEPs = remoteVTEPs
        self.type = type; self.tenantVRF = tenantVRF; self.localVTEP = localVTEP; self.routerMAC = routerMAC; self.l2VNIs = l2VNIs
    }

    var isL3: Bool { type == "L3" }

    public static func formatted(_ rows: [EVPNVNIInfo]) -> String {
        var s = "VNI        Type VxLAN IF              # MACs   # ARPs   # Remote VTEPs  Tenant VRF\n"
        for v in rows {
            s += pad(String(v.vni), 10) + " " + pad(v.type, 4) + " " + pad("vxsw", 21) + " " + pad(String(v.localMACs + v.remoteMACs), 8)
            s += " " + pad(v.isL3 ? "0" : String(v.arps), 8) + " " + pad(v.isL3 ? "n/a" : String(v.remoteVTEPs.count), 15) + " \(v.tenantVRF)\n"
        }
        return s
    }

    /// FRR's `show evpn vni N` (detail), without the lines of a Linux device vxsw does not have
    /// (ifindex, SVI), with the VNI's route distinguisher and targets (vxsw's lines) at the end.
    public func detail() -> String {
        var s = "VNI: \(vni)\n"
        if isL3 {
            s += "  Type: L3\n  Tenant VRF: \(tenantVRF)\n  Local Vtep Ip: \(localVTEP)\n  Vxlan-Intf: vxsw\n  State: Up\n"
            s += "  Router MAC: \(routerMAC ?? "")\n  L2 VNIs: \((l2VNIs ?? []).map(String.init).joined(separator: " "))\n"
        } else {
            s += " Type: L2\n Tenant VRF: \(tenantVRF)\n VxLAN interface: vxsw\n Local VTEP IP: \(localVTEP)\n Mcast group: 0.0.0.0\n"
            s += remoteVTEPs.isEmpty ? " No remote VTEPs known for this VNI\n"
                : " Remote VTEPs for this VNI:\n" + remoteVTEPs.map { "  \($0) flood: HER\n" }.joined()
            s += " Number of MACs (local and remote) known for this VNI: \(localMACs + remoteMACs)\n"
            s += " Number of ARPs (IPv4 and IPv6, local and remote) known for this VNI: \(arps)\n"
            s += " Advertise-gw-macip: No\n Advertise-svi-macip: No\n"
        }
        if !rd.isEmpty {
            s += " RD: \(rd)\n Import Route Target: \(importRTs.joined(separator: " "))\n Export Route Target: \(exportRTs.joined(separator: " "))\n"
        }
        return s
    }
}

/// `show evpn mac vni N`; its JSON (FRR's shape) is in `EVPNMACTable+JSON.swift`.
public struct EVPNMACTable: Codable, Sendable {
    public var vni: UInt32
    public var macs: [Entry]

    public struct Entry: Codable, Sendable {
        public var mac: String
        public var type: String        // "local" or "remote"
        public var vtep: String?       // remote VTEP (FRR's `remoteVtep`)
        public var ip: String?
        /// Every IP of the MAC (its MAC/IP routes; `ip` is the first).
        public var ips: [String]
        public var localSequence: UInt32
        public var remoteSequence: UInt32
        public var sticky: Bool
        /// FRR's keys: moves counted in the current dup-addr-detection window, and whether the
        /// MAC is a duplicate.
        public var detectionCount: Int
        public var isDuplicate: Bool
        /// A local MAC's port (FRR's `intf`), filled in by the switch from its FDB.
        public var intf: String? = nil

        public init(mac: String, type: String, vtep: String?, ip: String?, ips: [String], localSequence: UInt32, remoteSequence: UInt32,
                    sticky: Bool, detectionCount: Int, isDuplicate: Bool, intf: String? = nil) {
            self.mac = mac; self.type = type; self.vtep = vtep; self.ip = ip; self.ips = ips
            self.localSequence = localSequence; self.remoteSequence = remoteSequence; self.sticky = sticky
            self.detectionCount = detectionCount; self.isDuplicate = isDuplicate; self.intf = intf
        }
    }

    public init(vni: UInt32, macs: [Entry]) { self.vni = vni; self.macs = macs }

    public func formatted() -> String {
        "Number of MACs (local and remote) known for this VNI: \(macs.count)\n" + rows()
    }

    /// FRR's legend, header and rows (D: a duplicate, vxsw's flag).
    func rows() -> String {
        var s = "Flags: N=sync-neighs, I=local-inactive, P=peer-active, X=peer-proxy, D=duplicate\n"
        s += "MAC               Type   Flags Intf/Remote ES/VTEP            VLAN  Seq #'s\n"
        for m in macs {
            s += pad(m.mac, 17) + " " + pad(m.type, 6) + " " + pad(m.isDuplicate ? "D" : "", 5) + " "
            s += pad(m.intf ?? m.vtep ?? "", 30) + " " + pad("", 5) + " \(m.localSequence)/\(m.remoteSequence)\n"
        }
        return s
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
func upDown(_ seconds: Int) -> String {
    let d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    if d > 0 { return "\(d)d\(two(h))h\(two(m))m" }
    return "\(two(h)):\(two(m)):\(two(s))"
}
