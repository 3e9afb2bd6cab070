import VXCore

/// `show evpn arp-cache vni N` (`vni all`: `EVPNARPCaches`): a VNI's neighbours (IP → MAC), local (a VM's ARP/ND) and remote
/// (MAC/IP routes installed), as FRR 8.4 lists them. JSON in FRR's shape: `{"numArpNd": N,
/// IP: {"type", "state", "mac", "remoteVtep" (remote), "localSequence", "remoteSequence",
/// "detectionCount", "isDuplicate"}}`.
public struct EVPNARPCache: Codable, Sendable {
    public var vni: UInt32
    public var neighbors: [Entry]

    public struct Entry: Codable, Sendable, Equatable {
        public var ip: String
        /// "local" or "remote".
        public var type: String
        public var state: String
        public var mac: String
        public var remoteVtep: String?
        public var localSequence: UInt32
        public var remoteSequence: UInt32
        public var detectionCount: Int
        public var isDuplicate: Bool

        public init(ip: String, type: String, mac: String, remoteVtep: String?, localSequence: UInt32, remoteSequence: UInt32,
                    detectionCount: Int, isDuplicate: Bool) {
            self.ip = ip; self.type = type; self.state = "active"; self.mac = mac; self.remoteVtep = remoteVtep
            self.localSequence = localSequence; self.remoteSequence = remoteSequence
            self.detectionCount = detectionCount; self.isDuplicate = isDuplicate
        }

        enum CodingKeys: String, CodingKey {
            case type, state, mac, remoteVtep, localSequence, remoteSequence, detectionCount, isDuplicate
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(ip: "", type: try c.decode(String.self, forKey: .type), mac: try c.decode(String.self, forKey: .mac),
                      remoteVtep: try c.decodeIfPresent(String.self, forKey: .remoteVtep),
                      localSequence: try c.decode(UInt32.self, forKey: .localSequence),
                      remoteSequence: try c.decode(UInt32.self, forKey: .remoteSequence),
                      detectionCount: try c.decode(Int.self, forKey: .detectionCount),
                      isDuplicate: try c.decode(Bool.self, forKey: .isDuplicate))
            state = try c.decode(String.self, forKey: .state)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
            try c.encode(state, forKey: .state)
            try c.encode(mac, forKey: .mac)
            try c.encodeIfPresent(remoteVtep, forKey: .remoteVtep)
            try c.encode(localSequence, forKey: .localSequence)
            try c.encode(remoteSequence, forKey: .remoteSequence)
            try c.encode(detectionCount, forKey: .detectionCount)
            try c.encode(isDuplicate, forKey: .isDuplicate)
        }
    }

    public init(vni: UInt32, neighbors: [Entry]) { self.vni = vni; self.neighbors = neighbors }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: FRRJSONKey.self)
        try c.encode(neighbors.count, forKey: FRRJSONKey("numArpNd"))
        for n in neighbors { try c.encode(n, forKey: FRRJSONKey(n.ip)) }
    }

    /// The VNI is not in FRR's object (0 here).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: FRRJSONKey.self)
        let entries = try c.allKeys.filter { $0.stringValue != "numArpNd" }.map { k -> Entry in
            var e = try c.decode(Entry.self, forKey: k)
            e.ip = k.stringValue
            return e
        }
        self.init(vni: 0, neighbors: entries.sorted { $0.ip < $1.ip })
    }

    /// FRR's text: count, legend, header and rows (D: a duplicate, vxsw's flag).
    public func formatted() -> String {
        "Number of ARPs (local and remote) known for this VNI: \(neighbors.count)\n" + rows()
    }

    /// The legend, header and rows (`vni all` puts its own heading above each VNI's).
    func rows() -> String {
        let width = max(15, neighbors.map(\.ip.count).max() ?? 0)
        var s = "Flags: I=local-inactive, P=peer-active, X=peer-proxy, D=duplicate\n"
        s += pad("Neighbor", width) + " Type   Flags State    MAC               Remote ES/VTEP                 Seq #'s\n"
        for n in neighbors {
            s += pad(n.ip, width) + " " + pad(n.type, 6) + " " + pad(n.isDuplicate ? "D" : "", 5) + " " + pad(n.state, 8) + " "
            s += pad(n.mac, 17) + " " + pad(n.remoteVtep ?? "", 30) + " \(n.localSequence)/\(n.remoteSequence)\n"
        }
        return s
    }
}

extension EVPNRIB {
    /// `show evpn arp-cache vni N`: the local VMs' IPs, then the IPs of installed remote MACs
    /// that are theirs (no local claim wins over them), by IP.
    public func arpCache(_ vni: VNI) -> EVPNARPCache {
        var rows: [(IPAddress, EVPNARPCache.Entry)] = []
        for (key, l) in localIPs where key.vni == vni {
            rows.append((key.ip, .init(ip: key.ip.description, type: "local", mac: l.mac.description, remoteVtep: nil,
                                       localSequence: l.sequence, remoteSequence: remoteIPClaim(vni, key.ip)?.seq ?? 0,
                                       detectionCount: ipDetector.count(key), isDuplicate: ipDetector.isDuplicate(key))))
        }
        for (k, m) in installed where k.vni == vni {
            for ip in m.ips where localIPs[VNIIP(vni, ip)] == nil {
                let key = VNIIP(vni, ip)
                rows.append((ip, .init(ip: ip.description, type: "remote", mac: k.mac.description, remoteVtep: m.vtep.description,
                                       localSequence: 0, remoteSequence: m.seq,
                                       detectionCount: ipDetector.count(key), isDuplicate: ipDetector.isDuplicate(key))))
            }
        }
        return EVPNARPCache(vni: vni.value, neighbors: rows.sorted { $0.0 < $1.0 }.map(\.1))
    }
}
