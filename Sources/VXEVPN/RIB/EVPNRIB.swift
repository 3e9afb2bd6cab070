import VXCore

/// (VNI, MAC): the key of the per-VNI MAC table.
public struct VNIMAC: Hashable, Sendable, Comparable {
    public var vni: VNI
    public var mac: MACAddress
    public init(_ vni: VNI, _ mac: MACAddress) { self.vni = vni; self.mac = mac }
    public static func < (a: Self, b: Self) -> Bool { (a.vni, a.mac) < (b.vni, b.mac) }
    /// One word (24-bit VNI above the 48-bit MAC): the RIB's per-MAC tables hash it once per route.
    public func hash(into h: inout Hasher) { h.combine(hashWord) }
    /// Set and Dictionary hash the word once, one-shot (see `MACAddress._rawHashValue`).
    public func _rawHashValue(seed: Int) -> Int { hashWord._rawHashValue(seed: seed) }
    /// The VNI's low 16 bits above the MAC (VNIs 65536 apart share a word; `==` tells them apart).
    var hashWord: UInt64 { UInt64(vni.value) << 48 | mac.raw }
}

/// (VNI, IP): the key of the per-VNI neighbour (ARP/ND) table.
public struct VNIIP: Hashable, Sendable, Comparable {
    public var vni: VNI
    public var ip: IPAddress
    public init(_ vni: VNI, _ ip: IPAddress) { self.vni = vni; self.ip = ip }
    public static func < (a: Self, b: Self) -> Bool { (a.vni, a.ip) < (b.vni, b.ip) }
}

/// A local VM's IP learned from its ARP/ND: the MAC it is at, and the MAC mobility sequence
/// of its MAC/IP route (above any remote claim it took over, RFC 7432 §15).
public struct LocalIP: Sendable, Hashable {
    public var mac: MACAddress
    public var sequence: UInt32
}

/// What every route of one UPDATE shares: its peer and path attributes, kept once per UPDATE
/// (an UPDATE carries ~100 routes; 1M routes arrive in ~9k UPDATEs), not copied into each
/// Adj-RIB-In entry, which stays small.
public final class ReceivedAttributes: Sendable, Hashable {
    public let peer: String
    public let nextHop: IPAddress
    public let routeTargets: [RouteTarget]
    public let extendedCommunities: [ExtendedCommunity]
    public let pmsi: PMSITunnel?
    public let asPath: String
    public let origin: Origin?
    public let localPref: UInt32?
    /// Kept to be shown (`show bgp l2vpn evpn route`: FRR's `metric`, `atomicAggregate`,
    /// `aggregatorAs`/`aggregatorId`), so an attribute-discard (RFC 7606) is observable.
    public let med: UInt32?
    public let atomicAggregate: Bool
    public let aggregator: Aggregator?
    /// MAC mobility (RFC 7432 §15), found once per UPDATE: best-path selection reads it per route.
    public let sequence: UInt32
    public let sticky: Bool

    public init(peer: String, nextHop: IPAddress, extendedCommunities: [ExtendedCommunity], pmsi: PMSITunnel?,
                asPath: String, origin: Origin?, localPref: UInt32?, med: UInt32? = nil, atomicAggregate: Bool = false,
                aggregator: Aggregator? = nil) {
        self.peer = peer; self.nextHop = nextHop; self.routeTargets = extendedCommunities.routeTargets
        self.extendedCommunities = extendedCommunities; self.pmsi = pmsi; self.asPath = asPath; self.origin = origin
        self.localPref = localPref; self.med = med; self.atomicAggregate = atomicAggregate; self.aggregator = aggregator
        let mobility = extendedCommunities.macMobility
        sequence = mobility.sequence; sticky = mobility.sticky
    }

    public static func == (a: ReceivedAttributes, b: ReceivedAttributes) -> Bool {
        a === b || (a.peer, a.nextHop, a.asPath, a.origin, a.localPref) == (b.peer, b.nextHop, b.asPath, b.origin, b.localPref)
            && (a.med, a.atomicAggregate, a.aggregator) == (b.med, b.atomicAggregate, b.aggregator)
            && a.extendedCommunities == b.extendedCommunities && a.pmsi == b.pmsi
    }

    public func hash(into h: inout Hasher) { h.combine(peer); h.combine(nextHop); h.combine(extendedCommunities) }
}

/// A route received from a peer (Adj-RIB-In entry), reduced to what EVPN needs: the NLRI and
/// the attributes of the UPDATE it came in.
public struct ReceivedRoute: Sendable, Hashable {
    public var route: EVPNRoute
    public var attributes: ReceivedAttributes
    public var stale = false

    public init(route: EVPNRoute, attributes: ReceivedAttributes) { self.route = route; self.attributes = attributes }

    public var peer: String { attributes.peer }
    public var nextHop: IPAddress { attributes.nextHop }
    public var routeTargets: [RouteTarget] { attributes.routeTargets }
    public var extendedCommunities: [ExtendedCommunity] { attributes.extendedCommunities }
    public var pmsi: PMSITunnel? { attributes.pmsi }
    public var asPath: String { attributes.asPath }
    public var origin: Origin? { attributes.origin }
    public var localPref: UInt32? { attributes.localPref }
    public var med: UInt32? { attributes.med }
    public var atomicAggregate: Bool { attributes.atomicAggregate }
    public var aggregator: Aggregator? { attributes.aggregator }
    public var sequence: UInt32 { attributes.sequence }
    public var sticky: Bool { attributes.sticky }
}

/// AGGREGATOR's AS and BGP identifier (RFC 4271 §5.1.7; 4-octet AS when both sides have it).
public struct Aggregator: Sendable, Hashable {
    public var asn: UInt32
    public var id: UInt32

    /// From the attribute's value as the decoder kept it: 6 bytes (2-octet AS) or 8 (4-octet).
    init?(_ value: [UInt8]) {
        guard value.count == 6 || value.count == 8 else { return nil }
        let asBytes = value.count - 4
        asn = value.prefix(asBytes).reduce(0) { $0 << 8 | UInt32($1) }
        id = value.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    var idText: String { "\(id >> 24).\((id >> 16) & 0xFF).\((id >> 8) & 0xFF).\(id & 0xFF)" }
}

/// A local VNI's EVPN instance: RD and route targets, auto (FRR's way) or configured.
public struct VNIInstance: Sendable, Hashable {
    public var vni: VNI
    public var rd: RouteDistinguisher
    public var importRTs: [RouteTarget]
    public var exportRTs: [RouteTarget]
    public var rdIsAuto: Bool
    public var rtIsAuto: Bool
}

/// A route vxsw originates, before per-peer attributes (AS_PATH, LOCAL_PREF) are added.
public struct ExportedRoute: Sendable, Hashable {
    public var route: EVPNRoute
    public var vni: VNI
    public var extendedCommunities: [ExtendedCommunity]
    public var pmsi: PMSITunnel?
}

/// A MAC the switch learned on a local port.
public struct LocalMAC: Sendable, Hashable {
    public var ip: IPAddress?
    public var sequence: UInt32
    public var sticky: Bool
    /// A remote route with a higher sequence took the MAC over; our route is withdrawn.
    public var movedAway = false
}

/// The EVPN RIB: Adj-RIB-In per peer, local MACs and VNIs, the routes vxsw exports, and the
/// forwarding state pushed to the data plane. Not thread-safe: the speaker drives it on its
/// event loop (tests drive it directly).
public final class EVPNRIB {
    public let asn: UInt32
    public let routerID: IPAddress
    public let vtep: IPAddress
    var vniConfig: [VNI: VNIConfig] = [:]
    let autoRTRFC8365: Bool
    /// Duplicate address detection (FRR's `dup-addr-detection`).
    public internal(set) var detector: DuplicateDetector
    /// The same per (VNI, IP) (FRR's per-neighbour detection).
    public internal(set) var ipDetector: DuplicateIPDetector
    public weak var dataplane: EVPNDataplane?
    /// Called when exported routes change: announced (new or changed) and withdrawn.
    var onExport: (_ announce: [ExportedRoute], _ withdraw: [EVPNRoute]) -> Void = { _, _ in }
    /// Called when a MAC is found duplicate (the speaker starts the freeze timer).
    var onDuplicate: (VNIMAC) -> Void = { _ in }
    /// Called when an IP is found duplicate (the speaker starts the freeze timer).
    var onDuplicateIP: (VNIIP) -> Void = { _ in }
    var now: () -> Double

    public internal(set) var vnis: [VNI: VNIInstance] = [:] { didSet { vnisByImportRTCache = nil } }
    /// Local VNIs by import RT, rebuilt after `vnis` changes: a route is reconciled only in the
    /// VNIs that import it (4k VNIs: one lookup per route, not 4k reconciles).
    var vnisByImportRTCache: [RouteTarget: [VNI]]?
    var nextRDIndex: UInt16 = 1
    var rdIndex: [VNI: UInt16] = [:]
    /// Adj-RIB-In: every peer's routes, flat (`AdjRIBIn`); the indexes below hold its slots.
    var adjRIBIn = AdjRIBIn()
    /// Peer → route key → route, built for `show`.
    public var adjIn: [String: [EVPNRouteKey: ReceivedRoute]] { adjRIBIn.byPeer }
    var byMAC: [MACAddress: SmallSet<RouteRef>] = [:]
    /// MAC/IP routes by IP, and the order they arrived in: an IP that two MACs claim (a floating
    /// IP moved to another VM) goes to the newer claim (`ipOwner`).
    var byIP: [IPAddress: SmallSet<RouteRef>] = [:]
    var arrivals: UInt64 = 0
    var imets: Set<RouteRef> = []
    /// Type-3 routes by the RTs they carry: a VNI's flood list is found from its import RTs,
    /// without a scan of every type-3 route (4k VNIs, 4k type-3: 16M lookups per VNI otherwise).
    var imetsByRT: [RouteTarget: Set<RouteRef>] = [:]
    /// Type-5 routes by prefix.
    var byPrefix: [IPPrefix: Set<RouteRef>] = [:]
    public internal(set) var localMACs: [VNIMAC: LocalMAC] = [:]
    /// Local VMs' IPs (ARP/ND), and the IPs of each local MAC.
    public internal(set) var localIPs: [VNIIP: LocalIP] = [:]
    public internal(set) var localIPsOfMAC: [VNIMAC: Set<IPAddress>] = [:]
    /// Exported routes (the base of every peer's Adj-RIB-Out).
    public internal(set) var exported: [EVPNRouteKey: ExportedRoute] = [:]
    /// The keys of `exported`'s MAC/IP routes per MAC: what a local MAC's export replaces,
    /// found without a scan of every exported route (200k local MACs: one lookup each, not 200k).
    var exportedKeysOfMAC: [VNIMAC: Set<EVPNRouteKey>] = [:]
    /// What the data plane currently has.
    public internal(set) var installed: [VNIMAC: InstalledMAC] = [:]
    public internal(set) var flood: [VNI: Set<IPAddress>] = [:]
    /// Tenant VRFs by L3 VNI, and the VRF of each L2 VNI in one.
    public internal(set) var vrfs: [VNI: VRFInstance] = [:]
    var vrfOfVNI: [VNI: VNI] = [:]
    /// Local hosts the gateways learned: their MAC/IP routes (with the L3 VNI in a VRF).
    public internal(set) var localHosts: [VNIMAC: Set<IPAddress>] = [:]
    /// Remote host routes the data plane has.
    public internal(set) var installedHosts: [VRFHost: InstalledHostRoute] = [:]
    /// Remote prefix routes (type 5) the data plane has.
    public internal(set) var installedPrefixes: [VRFPrefix: InstalledHostRoute] = [:]

    typealias RouteRef = AdjRIBIn.RouteRef
    /// A remote MAC as installed: its VTEP, every IP its MAC/IP routes from that VTEP carry (that
    /// no newer claim took), its sequence.
    public struct InstalledMAC: Sendable, Hashable {
        public var vtep: IPAddress
        public var ips: [IPAddress]
        public var seq: UInt32
        public var ip: IPAddress? { ips.first }
    }

    public init(asn: UInt32, routerID: IPAddress, vtep: IPAddress, vnis: [VNIConfig] = [], autoRTRFC8365: Bool = false, vrfs: [VRFConfig] = [],
                duplicateAddressDetection: DuplicateAddressDetectionConfig = .init(), tableCapacity: Int? = nil,
                now: @escaping () -> Double) {
        self.asn = asn; self.routerID = routerID; self.vtep = vtep; self.autoRTRFC8365 = autoRTRFC8365
        self.detector = DuplicateDetector(config: duplicateAddressDetection)
        self.ipDetector = DuplicateIPDetector(config: duplicateAddressDetection); self.now = now
        for c in vnis { vniConfig[VNI(unchecked: c.vni)] = c }
        makeVRFs(vrfs)
        // Sized for the data plane's capacity once (`EVPNConfig.tableCapacity`): no rehash of
        // every entry each time a table doubles while a full table streams in.
        if let n = tableCapacity.map({ min(max($0, 0), 1 << 20) }), n > 0 {
            byMAC.reserveCapacity(n)
            installed.reserveCapacity(n)
            adjRIBIn.peerTableCapacity = n
        }
    }

    // MARK: routes from peers

    /// Applies one decoded UPDATE from `peer`.
    public func apply(_ update: BGPUpdate, from peer: String) {
        dataplane?.beginBatch()
        defer { dataplane?.endBatch() }
        var touched = Touched()
        let id = adjRIBIn.peerID(peer)
        for r in update.evpnWithdrawn { remove(peer: id, r.key, &touched) }
        let a = update.attributes
        let announced = update.evpnAnnounced
        if let nh = a.mpReach?.nextHop, !announced.isEmpty {
            let shared = ReceivedAttributes(peer: peer, nextHop: nh, extendedCommunities: a.extendedCommunities, pmsi: a.pmsiTunnel,
                                            asPath: a.asPathString, origin: a.origin, localPref: a.localPref, med: a.med,
                                            atomicAggregate: a.atomicAggregate, aggregator: a.aggregator.flatMap(Aggregator.init))
            for r in announced { add(ReceivedRoute(route: r, attributes: shared), peer: id, &touched) }
        }
        settle(touched)
    }

    /// Removes every route of `peer` (session down without graceful restart), or only its stale ones.
    public func dropRoutes(of peer: String, onlyStale: Bool = false) {
        dataplane?.beginBatch()
        defer { dataplane?.endBatch() }
        var touched = Touched()
        if let id = adjRIBIn.existingPeerID(peer) {
            for key in adjRIBIn.keys(peer: id, onlyStale: onlyStale) { remove(peer: id, key, &touched) }
        }
        settle(touched)
    }

    /// Graceful restart helper: keep the peer's routes (and forwarding) but mark them stale.
    public func markStale(_ peer: String) {
        if let id = adjRIBIn.existingPeerID(peer) { adjRIBIn.markStale(peer: id) }
    }

    public var routeCount: Int { adjRIBIn.count }
    public func routeCount(from peer: String) -> Int { adjRIBIn.existingPeerID(peer).map { adjRIBIn.count(peer: $0) } ?? 0 }
    /// Routes of `peer` imported into at least one local VNI or VRF: the ones vxsw uses.
    public func importedRouteCount(from peer: String) -> Int {
        guard let id = adjRIBIn.existingPeerID(peer) else { return 0 }
        return adjRIBIn.routes(peer: id).values.filter { r in !importingVNIs(r).isEmpty || importedIntoVRF(r) }.count
    }

    /// What an UPDATE changed: the (VNI, MAC) pairs of the VNIs importing an added or removed
    /// route, and the VNIs whose flood list may change.
    struct Touched {
        var macs = Set<VNIMAC>(), hosts = Set<IPAddress>(), prefixes = Set<IPPrefix>()
        var floodVNIs = Set<VNI>()
    }

    /// The local VNIs `r` is imported into (`imported(r, into:)` for each, without a scan of every VNI).
    func importingVNIs(_ r: ReceivedRoute) -> [VNI] {
        guard r.nextHop != vtep else { return [] }
        let index: [RouteTarget: [VNI]]
        if let cached = vnisByImportRTCache { index = cached } else {
            var built: [RouteTarget: [VNI]] = [:]
            for (vni, inst) in vnis { for rt in Set(inst.importRTs) { built[rt, default: []].append(vni) } }
            vnisByImportRTCache = built
            index = built
        }
        if r.routeTargets.count == 1 { return index[r.routeTargets[0]] ?? [] }
        var out = Set<VNI>()
        for rt in r.routeTargets { out.formUnion(index[rt] ?? []) }
        return Array(out)
    }

    func touch(_ r: ReceivedRoute, mac: MACAddress, _ t: inout Touched) {
        for vni in importingVNIs(r) { t.macs.insert(VNIMAC(vni, mac)) }
    }

    func add(_ r: ReceivedRoute, peer id: Int, _ t: inout Touched) {
        let (ref, replaced) = adjRIBIn.insert(r, peer: id)
        // An implicit replacement (same key again) may have left VNIs the old route was imported into.
        if let old = replaced {
            if case .macIP(let m) = old.route { touch(old, mac: m.mac, &t) }
            if case .imet = old.route {
                t.floodVNIs.formUnion(importingVNIs(old))
                for rt in old.routeTargets { imetsByRT[rt]?.remove(ref) }
            }
        }
        switch r.route {
        case .macIP(let m):
            byMAC[m.mac, default: []].insert(ref); touch(r, mac: m.mac, &t)
            if let ip = m.ip {
                byIP[ip, default: []].insert(ref)
                t.hosts.insert(ip)
                arrivals &+= 1
                adjRIBIn.setArrival(ref, arrivals)
                touchClaimants(of: ip, &t)
            }
        case .imet:
            imets.insert(ref)
            for rt in r.routeTargets { imetsByRT[rt, default: []].insert(ref) }
            t.floodVNIs.formUnion(importingVNIs(r))
        case .prefix(let p): byPrefix[p.prefix, default: []].insert(ref); t.prefixes.insert(p.prefix)
        case .other: break
        }
    }

    /// Every MAC that claims `ip` is reconciled: the IP's owner may have changed.
    func touchClaimants(of ip: IPAddress, _ t: inout Touched) {
        for ref in byIP[ip] ?? [] {
            if let r = adjRIBIn[ref], case .macIP(let m) = r.route { touch(r, mac: m.mac, &t) }
        }
    }

    func remove(peer id: Int, _ key: EVPNRouteKey, _ t: inout Touched) {
        guard let (ref, old) = adjRIBIn.remove(peer: id, key) else { return }
        switch old.route {
        case .macIP(let m):
            byMAC[m.mac]?.remove(ref)
            if byMAC[m.mac]?.isEmpty ?? false { byMAC[m.mac] = nil }
            touch(old, mac: m.mac, &t)
            if let ip = m.ip {
                byIP[ip]?.remove(ref)
                t.hosts.insert(ip)
                touchClaimants(of: ip, &t)
                if byIP[ip]?.isEmpty ?? false { byIP[ip] = nil }
            }
        case .imet:
            imets.remove(ref)
            for rt in old.routeTargets {
                imetsByRT[rt]?.remove(ref)
                if imetsByRT[rt]?.isEmpty ?? false { imetsByRT[rt] = nil }
            }
            t.floodVNIs.formUnion(importingVNIs(old))
        case .prefix(let p):
            byPrefix[p.prefix]?.remove(ref)
            if byPrefix[p.prefix]?.isEmpty ?? false { byPrefix[p.prefix] = nil }
            t.prefixes.insert(p.prefix)
        case .other: break
        }
    }

    func settle(_ t: Touched) {
        for k in t.macs.sorted() { reconcile(k) }
        if !t.floodVNIs.isEmpty { reconcileFlood(t.floodVNIs) }
        // A local VM's IP can only lose to a remote claim in a VNI importing the claim: those in `t.macs`.
        if !localIPs.isEmpty, !t.hosts.isEmpty {
            let touchedVNIs = Set(t.macs.map(\.vni)).sorted()
            for ip in t.hosts.sorted() { for vni in touchedVNIs { reconcileLocalIP(VNIIP(vni, ip)) } }
        }
        if !vrfs.isEmpty {
            for ip in t.hosts.sorted() { reconcileHost(ip) }
            for p in t.prefixes.sorted() { reconcilePrefix(p) }
        }
    }

    // MARK: import and best path

    /// A route is imported into every local VNI whose import RTs it carries, unless it is ours
    /// (next hop = our VTEP, e.g. reflected back).
    func imported(_ r: ReceivedRoute, into vni: VNI) -> Bool {
        guard r.nextHop != vtep, let inst = vnis[vni] else { return false }
        return r.routeTargets.contains { inst.importRTs.contains($0) }
    }

    /// Remote candidates for (vni, mac), best first: sticky, then higher MAC mobility sequence
    /// (RFC 7432 §15), then lower VTEP address, then peer (a stable tie-break).
    public func remoteCandidates(_ k: VNIMAC) -> [ReceivedRoute] {
        var rs: [ReceivedRoute] = []
        for ref in byMAC[k.mac] ?? [] {
            if let r = adjRIBIn[ref], imported(r, into: k.vni) { rs.append(r) }
        }
        if rs.count < 2 { return rs }
        return rs.sorted { a, b in
            if a.sticky != b.sticky { return a.sticky }
            if a.sequence != b.sequence { return a.sequence > b.sequence }
            if a.nextHop != b.nextHop { return a.nextHop < b.nextHop }
            if a.peer != b.peer { return a.peer < b.peer }
            return a.route.key < b.route.key
        }
    }

    /// Brings the data plane (and our own type-2 routes) in line with the best route for (vni, mac).
    /// A frozen duplicate keeps what it has (FRR: a duplicate remote MAC is not installed).
    func reconcile(_ k: VNIMAC) {
        if detector.isFrozen(k) { return }
        let remotes = remoteCandidates(k)
        var want: InstalledMAC? = nil
        if let best = remotes.first {
            // Every IP the best VTEP advertises with the MAC (a VM's IPv4 and IPv6, several IPv4s),
            // unless a newer MAC/IP route gave the IP to another MAC.
            var ips: [IPAddress] = []
            for r in remotes where r.nextHop == best.nextHop {
                if let ip = macIPRoute(r)?.ip, !ips.contains(ip), ipOwner(k.vni, ip) == k.mac { ips.append(ip) }
            }
            ips.sort()
            want = InstalledMAC(vtep: best.nextHop, ips: ips, seq: best.sequence)
            if var local = localMACs[k] {
                let remoteWins = !local.sticky && (best.sticky || best.sequence > local.sequence)
                if remoteWins && !local.movedAway {
                    local.movedAway = true
                    localMACs[k] = local
                    let frozen = recordMove(k, local: false, vtep: best.nextHop)
                    writeExport(k)
                    // Found duplicate with a freeze: our route is withdrawn, the remote one not installed.
                    if frozen { return }
                } else if !remoteWins {
                    want = nil
                }
            }
        }
        // One lookup: the new state goes in, and what was there says whether anything changed.
        let have = want.map { installed.updateValue($0, forKey: k) } ?? installed.removeValue(forKey: k)
        guard have != want else { return }
        if let w = want {
            dataplane?.installRemoteMAC(vni: k.vni, mac: k.mac, ips: w.ips, vtep: w.vtep, seq: w.seq)
        } else {
            dataplane?.withdrawRemoteMAC(vni: k.vni, mac: k.mac)
        }
    }

    func macIPRoute(_ r: ReceivedRoute) -> EVPNMACIPRoute? { if case .macIP(let m) = r.route { return m } else { return nil } }

    /// The MAC `ip` belongs to in `vni`: a local VM's (ARP/ND) unless a remote MAC/IP route has
    /// a higher MAC mobility sequence; else, of the MAC/IP routes for it imported there, the one
    /// with the highest sequence, then the one that arrived last. So when a floating IP moves to
    /// another VM (a gratuitous ARP behind another VTEP, or here), the new claim takes the
    /// neighbour entry even while the old route is not withdrawn yet, and ARP/ND suppression
    /// never answers with the old MAC once the new claim is in.
    func ipOwner(_ vni: VNI, _ ip: IPAddress) -> MACAddress? {
        let best = remoteIPClaim(vni, ip)
        if let local = localIPs[VNIIP(vni, ip)], best.map({ $0.seq <= local.sequence }) ?? true { return local.mac }
        return best?.mac
    }

    /// The best remote claim of `ip` in `vni` (highest sequence, then newest), with its VTEP.
    func remoteIPClaim(_ vni: VNI, _ ip: IPAddress) -> (seq: UInt32, order: UInt64, mac: MACAddress, vtep: IPAddress)? {
        var best: (seq: UInt32, order: UInt64, mac: MACAddress, vtep: IPAddress)?
        for ref in byIP[ip] ?? [] {
            guard let r = adjRIBIn[ref], imported(r, into: vni), let m = macIPRoute(r) else { continue }
            let c = (seq: r.sequence, order: adjRIBIn.arrival(ref), mac: m.mac, vtep: r.nextHop)
            if best.map({ (c.seq, c.order) > ($0.seq, $0.order) }) ?? true { best = c }
        }
        return best
    }

    /// Flood lists: the originators (PMSI IR endpoint, else next hop) of imported type-3 routes;
    /// only those of `scope` when given (the VNIs an UPDATE's type-3 routes are imported into).
    func reconcileFlood(_ scope: Set<VNI>? = nil) {
        var want: [VNI: Set<IPAddress>] = [:]
        var candidates = imets
        if let scope {
            candidates = []
            for vni in scope { for rt in vnis[vni]?.importRTs ?? [] { candidates.formUnion(imetsByRT[rt] ?? []) } }
        }
        for ref in candidates {
            guard let r = adjRIBIn[ref], case .imet(let im) = r.route else { continue }
            if let p = r.pmsi, p.tunnelType != PMSITunnel.ingressReplication { continue }
            let endpoint = r.pmsi?.ingressReplicationEndpoint ?? im.originator
            guard endpoint != vtep else { continue }
            for vni in importingVNIs(r) where scope?.contains(vni) ?? true { want[vni, default: []].insert(endpoint) }
        }
        let vnisToCheck = scope ?? Set(want.keys).union(flood.keys)
        for vni in vnisToCheck.sorted() {
            let w = want[vni] ?? [], h = flood[vni] ?? []
            for ip in h.subtracting(w).sorted() { dataplane?.removeFloodVTEP(vni: vni, vtep: ip) }
            for ip in w.subtracting(h).sorted() { dataplane?.addFloodVTEP(vni: vni, vtep: ip) }
            flood[vni] = w.isEmpty ? nil : w
        }
    }
}
