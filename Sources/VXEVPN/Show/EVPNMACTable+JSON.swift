import VXCore

/// `show evpn mac vni N json` in FRR 8.4's shape: `{"numMacs": N, "macs": {MAC: {...}}}`, each
/// MAC with FRR's keys (`type`, `intf` for a local MAC, `remoteVtep` for a remote one,
/// `localSequence`, `remoteSequence`, `detectionCount`, `isDuplicate`) and, where vxsw has more,
/// the keys of FRR's detail view (`stickyMac`, `neighbors.active`: the MAC's IPs).
extension EVPNMACTable {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: FRRJSONKey.self)
        try c.encode(macs.count, forKey: FRRJSONKey("numMacs"))
        var m = c.nestedContainer(keyedBy: FRRJSONKey.self, forKey: FRRJSONKey("macs"))
        for e in macs { try m.encode(e, forKey: FRRJSONKey(e.mac)) }
    }

    /// The VNI is not in FRR's object: it is the key around it (`EVPNMACTables`), else 0.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: FRRJSONKey.self)
        let m = try c.nestedContainer(keyedBy: FRRJSONKey.self, forKey: FRRJSONKey("macs"))
        let entries = try m.allKeys.map { k -> Entry in
            var e = try m.decode(Entry.self, forKey: k)
            e.mac = k.stringValue
            return e
        }
        self.init(vni: 0, macs: entries.sorted { $0.mac < $1.mac })
    }
}

extension EVPNMACTable.Entry {
    enum CodingKeys: String, CodingKey {
        case type, intf, remoteVtep, localSequence, remoteSequence, detectionCount, isDuplicate, stickyMac, neighbors
    }
    struct Neighbors: Codable { var active: [String] }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encodeIfPresent(intf, forKey: .intf)
        try c.encodeIfPresent(vtep, forKey: .remoteVtep)
        try c.encode(localSequence, forKey: .localSequence)
        try c.encode(remoteSequence, forKey: .remoteSequence)
        try c.encode(detectionCount, forKey: .detectionCount)
        try c.encode(isDuplicate, forKey: .isDuplicate)
        if sticky { try c.encode(true, forKey: .stickyMac) }
        if !ips.isEmpty { try c.encode(Neighbors(active: ips), forKey: .neighbors) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let ips = try c.decodeIfPresent(Neighbors.self, forKey: .neighbors)?.active ?? []
        self.init(mac: "", type: try c.decode(String.self, forKey: .type), vtep: try c.decodeIfPresent(String.self, forKey: .remoteVtep),
                  ip: ips.first, ips: ips, localSequence: try c.decode(UInt32.self, forKey: .localSequence),
                  remoteSequence: try c.decode(UInt32.self, forKey: .remoteSequence),
                  sticky: try c.decodeIfPresent(Bool.self, forKey: .stickyMac) ?? false,
                  detectionCount: try c.decode(Int.self, forKey: .detectionCount), isDuplicate: try c.decode(Bool.self, forKey: .isDuplicate),
                  intf: try c.decodeIfPresent(String.self, forKey: .intf))
    }
}
