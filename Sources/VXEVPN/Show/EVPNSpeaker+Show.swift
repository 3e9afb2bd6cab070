import Glibc
import VXCore

/// The data behind the `show` commands, gathered on the speaker's loop.
extension EVPNSpeaker {
    public func summary() async throws -> BGPSummary {
        try await loop.submit { self.makeSummary() }.get()
    }
    /// The routes, all or of one type; with `vni`, those of that VNI's table as FRR's
    /// `show bgp l2vpn evpn route vni N` lists them: ours for the VNI and the received ones it imports.
    public func evpnRoutes(routeType: UInt8? = nil, vni: VNI? = nil) async throws -> EVPNRouteTable {
        try await loop.submit { self.makeRouteTable(routeType: routeType, vni: vni) }.get()
    }
    /// `show evpn vni [N]`: every VNI (L2 and L3), or one.
    public func vnis(_ only: VNI? = nil) async throws -> [EVPNVNIInfo] {
        try await loop.submit { self.makeVNIs().filter { only == nil || $0.vni == only?.value } }.get()
    }
    /// `show evpn mac vni N [duplicate]`: `duplicatesOnly` lists only the duplicates.
    /// `show evpn arp-cache vni N`.
    public func arpCache(vni: VNI) async throws -> EVPNARPCache {
        try await loop.submit { self.rib.arpCache(vni) }.get()
    }

    public func macs(vni: VNI, duplicatesOnly: Bool = false) async throws -> EVPNMACTable {
        try await loop.submit { self.rib.macTable(vni, duplicatesOnly: duplicatesOnly) }.get()
    }

    func makeSummary() -> BGPSummary {
        let now = clock(), epoch = Int(time(nil))
        let received = rib.routeCount
        return BGPSummary(routerID: config.routerID.description, localAS: config.asn, peers: peers.map { p in
            BGPSummary.PeerSummary(neighbor: p.id, remoteAS: p.config.remoteAS, messagesReceived: p.receivedMessages.total,
                                   messagesSent: p.sentMessages.total, upDownSeconds: Int(now - p.stateSince), state: p.state,
                                   prefixesReceived: rib.routeCount(from: p.id),
                                   prefixesSent: p.established == nil ? 0 : rib.exported.count,
                                   description: p.config.description, lastError: p.lastError,
                                   gracefulRestartStale: p.staleTimer != nil,
                                   connectionsEstablished: p.connectionsEstablished, connectionsDropped: p.connectionsDropped,
                                   establishedEpoch: p.state == .established ? epoch - Int(now - p.stateSince) : nil)
        }, ribCount: received + rib.exported.count)
    }

    func makeRouteTable(routeType: UInt8?, vni: VNI? = nil) -> EVPNRouteTable {
        var rows: [(EVPNRouteKey, Int, EVPNRouteEntry)] = []
        let internalPeers = Set(peers.filter { $0.config.remoteAS == config.asn }.map(\.id))
        for e in rib.exported.values where (routeType == nil || e.route.routeType == routeType) && (vni == nil || e.vni == vni) {
            rows.append((e.route.key, 0, EVPNRouteEntry(
                rd: e.route.rd?.description ?? "", routeType: e.route.routeType, prefix: e.route.description,
                nextHop: config.vtep.description, localPref: nil, weight: 32768, path: "", origin: "i",
                extendedCommunities: e.extendedCommunities.map(\.description), pmsi: e.pmsi?.description,
                label: e.route.labelText, best: true, local: true, stale: false, peer: nil).withFields(of: e.route)))
        }
        for (peer, table) in rib.adjIn {
            for r in table.values where (routeType == nil || r.route.routeType == routeType) && (vni.map { rib.imported(r, into: $0) } ?? true) {
                let origin: String = { switch r.origin { case .igp?: return "i"; case .egp?: return "e"; default: return "?" } }()
                rows.append((r.route.key, 1, EVPNRouteEntry(
                    rd: r.route.rd?.description ?? "", routeType: r.route.routeType, prefix: r.route.description,
                    nextHop: r.nextHop.description, localPref: r.localPref, weight: 0, path: r.asPath, origin: origin,
                    extendedCommunities: r.extendedCommunities.map(\.description), pmsi: r.pmsi?.description,
                    label: r.route.labelText, best: isBest(r), local: false, stale: r.stale, peer: peer,
                    pathFrom: internalPeers.contains(peer) ? "internal" : "external", med: r.med, atomicAggregate: r.atomicAggregate,
                    aggregatorAS: r.aggregator?.asn, aggregatorID: r.aggregator?.idText).withFields(of: r.route)))
            }
        }
        rows.sort { ($0.0, $0.1, $0.2.peer ?? "") < ($1.0, $1.1, $1.2.peer ?? "") }
        return EVPNRouteTable(routerID: config.routerID.description, routes: rows.map(\.2), vni: vni?.value, routeType: routeType)
    }

    /// Whether a received route is the one in use for some local VNI or VRF (type 2: installed, as
    /// a MAC or a host route; type 3: flooded to; type 5: installed as a prefix route).
    func isBest(_ r: ReceivedRoute) -> Bool {
        switch r.route {
        case .macIP(let m):
            return rib.vnis.keys.contains { rib.remoteCandidates(VNIMAC($0, m.mac)).first == r }
                || m.ip.map { ip in rib.vrfs.keys.contains { rib.hostCandidates(VRFHost($0, ip)).first?.0 == r } } ?? false
        case .imet:
            return !rib.importingVNIs(r).isEmpty
        case .prefix(let p):
            return rib.vrfs.keys.contains { rib.prefixCandidates(VRFPrefix($0, p.prefix)).first?.0 == r }
        case .other: return false
        }
    }

    func makeVNIs() -> [EVPNVNIInfo] {
        // Grouped by VNI once: 4k VNIs x 1M installed MACs is not scanned per VNI.
        var localByVNI: [VNI: [LocalMAC]] = [:], remoteByVNI: [VNI: [EVPNRIB.InstalledMAC]] = [:]
        for (k, v) in rib.localMACs where !v.movedAway { localByVNI[k.vni, default: []].append(v) }
        // Neighbours as `show evpn arp-cache vni N` lists them: local IPs, and remote ones without a local claim.
        var arpsByVNI: [VNI: Int] = [:]
        for k in rib.localIPs.keys { arpsByVNI[k.vni, default: 0] += 1 }
        for (k, v) in rib.installed {
            remoteByVNI[k.vni, default: []].append(v)
            for ip in v.ips where rib.localIPs[VNIIP(k.vni, ip)] == nil { arpsByVNI[k.vni, default: 0] += 1 }
        }
        let l2 = rib.vnis.values.sorted { $0.vni < $1.vni }.map { inst in
            let local = localByVNI[inst.vni] ?? [], remote = remoteByVNI[inst.vni] ?? []
            return EVPNVNIInfo(vni: inst.vni.value, rd: inst.rd.description, importRTs: inst.importRTs.map(\.description),
                               exportRTs: inst.exportRTs.map(\.description), localMACs: local.count, remoteMACs: remote.count,
                               arps: arpsByVNI[inst.vni] ?? 0,
                               remoteVTEPs: (rib.flood[inst.vni] ?? []).sorted().map(\.description),
                               tenantVRF: rib.vrfOfVNI[inst.vni].flatMap { rib.vrfs[$0]?.name } ?? "default",
                               localVTEP: config.vtep.description)
        }
        // L3 VNIs: RD and RTs of the VRF's type-5 routes; their "MACs" are the remote router MACs in use.
        let l3 = rib.vrfs.sorted { $0.key < $1.key }.map { l3, v in
            let rmacs = Set(rib.installedHosts.filter { $0.key.vrf == l3 }.map(\.value.routerMAC))
                .union(rib.installedPrefixes.filter { $0.key.vrf == l3 }.map(\.value.routerMAC))
            return EVPNVNIInfo(vni: l3.value, rd: rib.vrfRD(l3).description, importRTs: v.importRTs.map(\.description),
                               exportRTs: v.exportRTs.map(\.description), localMACs: 0, remoteMACs: rmacs.count, arps: 0,
                               remoteVTEPs: [], type: "L3", tenantVRF: v.name, localVTEP: config.vtep.description,
                               routerMAC: v.routerMAC.description, l2VNIs: v.vnis.map(\.value).sorted())
        }
        return (l2 + l3).sorted { $0.vni < $1.vni }
    }
}

extension EVPNRIB {
    /// `show evpn mac vni N [duplicate]`, FRR's keys (`detectionCount`, `isDuplicate`).
    public func macTable(_ vni: VNI, duplicatesOnly: Bool = false) -> EVPNMACTable {
        var entries: [(MACAddress, EVPNMACTable.Entry)] = []
        let dad = detector
        // A frozen duplicate found on a remote route stays local in the switch (its route withdrawn,
        // the remote one not installed): listed as local.
        func listedLocal(_ k: VNIMAC) -> Bool { localMACs[k].map { !$0.movedAway || dad.isFrozen(k) } ?? false }
        for (k, l) in localMACs where k.vni == vni && listedLocal(k) {
            let rseq = remoteCandidates(k).map(\.sequence).max() ?? 0
            entries.append((k.mac, .init(mac: k.mac.description, type: "local", vtep: nil, ip: l.ip?.description, ips: l.ip.map { [$0.description] } ?? [],
                                         localSequence: l.sequence, remoteSequence: rseq, sticky: l.sticky,
                                         detectionCount: dad.count(k), isDuplicate: dad.isDuplicate(k))))
        }
        // A frozen duplicate kept local is listed once, as local (its remote route is not in use).
        for (k, m) in installed where k.vni == vni && !listedLocal(k) {
            entries.append((k.mac, .init(mac: k.mac.description, type: "remote", vtep: m.vtep.description, ip: m.ip?.description,
                                         ips: m.ips.map(\.description),
                                         localSequence: localMACs[k]?.sequence ?? 0, remoteSequence: m.seq, sticky: false,
                                         detectionCount: dad.count(k), isDuplicate: dad.isDuplicate(k))))
        }
        if duplicatesOnly { entries.removeAll { !$0.1.isDuplicate } }
        return EVPNMACTable(vni: vni.value, macs: entries.sorted { $0.0 < $1.0 }.map(\.1))
    }
}

extension EVPNRouteEntry {
    /// FRR's per-route fields in JSON (`ethTag`, `mac`, `ipLen`, `ip`).
    func withFields(of route: EVPNRoute) -> EVPNRouteEntry {
        var e = self
        switch route {
        case .macIP(let m):
            e.ethTag = m.ethernetTag; e.mac = m.mac.description
            if let ip = m.ip { e.ip = ip.description; e.ipLen = ip.isIPv4 ? 32 : 128 }
        case .imet(let i):
            e.ethTag = i.ethernetTag; e.ip = i.originator.description; e.ipLen = i.originator.isIPv4 ? 32 : 128
        case .prefix(let p):
            e.ethTag = p.ethernetTag; e.ip = p.prefix.address.description; e.ipLen = Int(p.prefix.length)
        case .other: break
        }
        return e
    }
}

extension EVPNRoute {
    /// FRR's label text of a MAC/IP route ("1001" or "1001/5000") or an IP prefix route (its L3
    /// VNI); nil for other types.
    var labelText: String? {
        switch self {
        case .macIP(let m): return m.label2.map { "\(m.label1)/\($0)" } ?? "\(m.label1)"
        case .prefix(let p): return "\(p.label)"
        default: return nil
        }
    }
}
