import VXCore

/// `show bgp l2vpn evpn summary` (FRR layout) and its JSON form.
public struct BGPSummary: Codable, Sendable {
    public var routerID: String
    public var localAS: UInt32
    public var peers: [PeerSummary]

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
    }

    public func formatted() -> String {
        var s = "BGP router identifier \(routerID), local AS number \(localAS) vrf-id 0\n"
        s += "Peers \(peers.count)\n\n"
        s += "Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd   PfxSnt Desc\n"
        for p in peers {
            let state = p.state == .established ? String(p.prefixesReceived) : p.state.rawValue
            s += pad(p.neighbor, 16) + "4 " + lpad(String(p.remoteAS), 10) + lpad(String(p.messagesReceived), 10)
            s += lpad(String(p.messagesSent), 10) + lpad("0", 9) + lpad("0", 5) + lpad("0", 5) + " "
            s += lpad(upDown(p.upDownSeconds), 8) + " " + lpad(state, 12) + " " + lpad(String(p.prefixesSent), 8)
            s += " " + (p.description ?? "N/A") + "\n"
        }
        s += "\nTotal number of neighbors \(peers.count)\n"
        return s
    }
}

/// One row of `show bgp l2vpn evpn`.
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
}

public struct EVPNRouteTable: Codable, Sendable {
    public var routerID: String
    public var routes: [EVPNRouteEntry]

    public func formatted() -> String {
        var s = "BGP table version is 1, local router ID is \(routerID)\n"
        s += "Status codes: s suppressed, d damped, h history, * valid, > best, i - internal, S Stale\n"
        s += "Origin codes: i - IGP, e - EGP, ? - incomplete\n"
        s += "EVPN type-2 prefix: [2]:[EthTag]:[MAClen]:[MAC]:[IPlen]:[IP]\n"
        s += "EVPN type-3 prefix: [3]:[EthTag]:[IPlen]:[OrigIP]\n\n"
        s += "   Network          Next Hop            Metric LocPrf Weight Path\n"
        var lastRD: String? = nil
        for r in routes {
            if r.rd != lastRD { s += "Route Distinguisher: \(r.rd)\n"; lastRD = r.rd }
            let status = (r.stale ? "S" : "*") + (r.best ? ">" : " ") + (r.localPref != nil && !r.local ? "i" : " ")
            s += status + r.prefix + "\n"
            let path = (r.path.isEmpty ? "" : r.path + " ") + r.origin
            s += String(repeating: " ", count: 20) + pad(r.nextHop, 20) + lpad("", 7)
            s += lpad(r.localPref.map(String.init) ?? "", 7) + lpad(String(r.weight), 6) + " " + path + "\n"
            s += String(repeating: " ", count: 20) + r.extendedCommunities.joined(separator: " ") + "\n"
        }
        s += "\nDisplayed \(routes.count) prefixes (\(routes.count) paths)\n"
        return s
    }
}

/// One row of `show evpn vni`.
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

    public static func formatted(_ rows: [EVPNVNIInfo]) -> String {
        var s = "VNI        Type VxLAN IF              # MACs   # ARPs   # Remote VTEPs  Tenant VRF\n"
        for v in rows {
            let l3 = v.type == "L3"
            s += pad(String(v.vni), 10) + " " + pad(v.type, 4) + " " + pad("vxsw", 21) + " " + pad(String(v.localMACs + v.remoteMACs), 8)
            s += " " + pad(l3 ? "0" : String(v.arps), 8) + " " + pad(l3 ? "n/a" : String(v.remoteVTEPs.count), 15) + " \(v.tenantVRF)\n"
        }
        return s
    }
}

/// `show evpn mac vni N`.
public struct EVPNMACTable: Codable, Sendable {
    public var vni: UInt32
    public var macs: [Entry]

    public struct Entry: Codable, Sendable {
        public var mac: String
        public var type: String        // "local" or "remote"
        public var vtep: String?       // remote VTEP
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
    }

    public func formatted() -> String {
        var s = "Number of MACs (local and remote) known for this VNI: \(macs.count)\n"
        s += "Flags: N=sync-neighs, I=local-inactive, P=peer-active, X=peer-proxy, D=duplicate\n"
        s += "MAC               Type   Flags Intf/Remote ES/VTEP            VLAN  Seq #'s\n"
        for m in macs {
            s += pad(m.mac, 17) + " " + pad(m.type, 6) + " " + pad(m.isDuplicate ? "D" : "", 5) + " "
            s += pad(m.vtep ?? "", 30) + " " + pad("", 5) + " \(m.localSequence)/\(m.remoteSequence)\n"
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
