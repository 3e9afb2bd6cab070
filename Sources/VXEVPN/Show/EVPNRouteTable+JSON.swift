/// `show bgp l2vpn evpn route [type T] json` in FRR 8.4's shape: an object keyed by route
/// distinguisher, each `{"rd": RD, PREFIX: {"prefix", "prefixLen", "paths": [[path], …]}}`, and
/// `numPrefix`, `numPaths`; with `vni N`, one VNI's table: the prefixes at the top (no RD level).
/// A path has FRR's keys (`valid`, `bestpath`, `pathFrom`, `routeType`, `ethTag`, `macLen`,
/// `mac`, `ipLen`, `ip`, `locPrf`, `weight`, `peerId` — "(unspec)" for vxsw's own —, `path`,
/// `origin`, `stale`, `extendedCommunity.string`, `nexthops[].ip/afi/used`) and vxsw's extra
/// keys `label` (Label1[/Label2]) and `pmsi`; of a received path also `metric`,
/// `atomicAggregate`, `aggregatorAs` and `aggregatorId` when sent and kept (an attribute
/// discarded under RFC 7606 is absent). Left out: `selectionReason` and the next hop's `hostname`. No extra key at the top: FRR's consumers walk it.
extension EVPNRouteTable {
    static let counts: Set<String> = ["numPrefix", "numPaths"]

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: FRRJSONKey.self)
        var prefixes = 0
        if vni != nil {
            prefixes = try Self.encodePrefixes(routes, into: &c)
        } else {
            var byRD: [String: [EVPNRouteEntry]] = [:]
            for r in routes { byRD[r.rd, default: []].append(r) }
            for (rd, rows) in byRD {
                var d = c.nestedContainer(keyedBy: FRRJSONKey.self, forKey: FRRJSONKey(rd))
                try d.encode(rd, forKey: FRRJSONKey("rd"))
                prefixes += try Self.encodePrefixes(rows, into: &d)
            }
        }
        try c.encode(prefixes, forKey: FRRJSONKey("numPrefix"))
        try c.encode(routes.count, forKey: FRRJSONKey("numPaths"))
    }

    /// Each prefix once, with all its paths; returns how many prefixes.
    static func encodePrefixes(_ rows: [EVPNRouteEntry], into c: inout KeyedEncodingContainer<FRRJSONKey>) throws -> Int {
        var byPrefix: [String: [EVPNRouteEntry]] = [:]
        for r in rows { byPrefix[r.prefix, default: []].append(r) }
        for (prefix, paths) in byPrefix {
            try c.encode(PrefixJSON(prefix: prefix, paths: paths.map { [PathJSON($0)] }), forKey: FRRJSONKey(prefix))
        }
        return byPrefix.count
    }

    /// Either shape: an object under a key holding `rd` is an RD's, else a prefix's.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: FRRJSONKey.self)
        var routes: [EVPNRouteEntry] = [], byVNI = false
        for k in c.entryKeys(except: Self.counts) {
            let inner = try c.nestedContainer(keyedBy: FRRJSONKey.self, forKey: k)
            if let rd = try inner.decodeIfPresent(String.self, forKey: FRRJSONKey("rd")) {
                for p in inner.entryKeys(except: ["rd"]) {
                    routes += try inner.decode(PrefixJSON.self, forKey: p).entries(rd: rd)
                }
            } else {
                byVNI = true
                routes += try c.decode(PrefixJSON.self, forKey: k).entries(rd: "")
            }
        }
        routes.sort { ($0.rd, $0.prefix, $0.local ? 0 : 1, $0.peer ?? "") < ($1.rd, $1.prefix, $1.local ? 0 : 1, $1.peer ?? "") }
        self.init(routerID: "", routes: routes, vni: byVNI ? 0 : nil)
    }

    struct PrefixJSON: Codable {
        var prefix: String
        var prefixLen = 352
        var paths: [[PathJSON]]

        func entries(rd: String) -> [EVPNRouteEntry] { paths.flatMap { $0 }.map { $0.entry(rd: rd, prefix: prefix) } }
    }

    struct PathJSON: Codable {
        struct Communities: Codable { var string: String }
        struct NextHop: Codable { var ip: String; var afi: String; var used: Bool }
        var valid = true
        var bestpath: Bool?
        var pathFrom: String
        var routeType: UInt8
        var ethTag: UInt32
        var macLen: Int?
        var mac: String?
        var ipLen: Int?
        var ip: String?
        var locPrf: UInt32?
        var weight: Int
        var peerId: String
        var path: String
        var origin: String
        var stale: Bool?
        var extendedCommunity: Communities
        var nexthops: [NextHop]
        var label: String?
        var pmsi: String?
        var metric: UInt32?
        var atomicAggregate: Bool?
        var aggregatorAs: UInt32?
        var aggregatorId: String?

        static let origins = ["i": "IGP", "e": "EGP", "?": "incomplete"]

        /// FRR's one string back into communities: a word without a colon continues the one
        /// before ("MM:5, sticky MAC"), except "Default" ("Default Gateway").
        static func communities(_ text: String) -> [String] {
            var out: [String] = []
            for w in text.split(separator: " ").map(String.init) {
                if !w.contains(":"), w != "Default", !w.hasPrefix("0x"), let last = out.popLast() { out.append(last + " " + w) } else { out.append(w) }
            }
            return out
        }

        init(_ r: EVPNRouteEntry) {
            bestpath = r.best ? true : nil
            pathFrom = r.pathFrom; routeType = r.routeType; ethTag = r.ethTag
            macLen = r.mac == nil ? nil : 48; mac = r.mac; ipLen = r.ipLen; ip = r.ip
            locPrf = r.localPref; weight = r.weight
            peerId = r.local ? "(unspec)" : r.peer ?? ""
            path = r.path; origin = Self.origins[r.origin] ?? r.origin
            stale = r.stale ? true : nil
            extendedCommunity = Communities(string: r.extendedCommunities.joined(separator: " "))
            nexthops = [NextHop(ip: r.nextHop, afi: r.nextHop.contains(":") ? "ipv6" : "ipv4", used: true)]
            label = r.label; pmsi = r.pmsi
            metric = r.med; atomicAggregate = r.atomicAggregate ? true : nil
            aggregatorAs = r.aggregatorAS; aggregatorId = r.aggregatorID
        }

        func entry(rd: String, prefix: String) -> EVPNRouteEntry {
            let local = peerId == "(unspec)"
            return EVPNRouteEntry(
                rd: rd, routeType: routeType, prefix: prefix, nextHop: nexthops.first?.ip ?? "", localPref: locPrf, weight: weight,
                path: path, origin: Self.origins.first { $0.value == origin }?.key ?? origin,
                extendedCommunities: Self.communities(extendedCommunity.string), pmsi: pmsi, label: label,
                best: bestpath ?? false, local: local, stale: stale ?? false, peer: local ? nil : peerId,
                ethTag: ethTag, mac: mac, ip: ip, ipLen: ipLen, pathFrom: pathFrom,
                med: metric, atomicAggregate: atomicAggregate ?? false, aggregatorAS: aggregatorAs, aggregatorID: aggregatorId)
        }
    }
}
