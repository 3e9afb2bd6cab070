import VXCore

/// Local VNIs and MACs: what vxsw exports, MAC mobility and duplicate detection.
extension EVPNRIB {
    /// FRR's auto RT: 2-octet AS (the local AS, low 16 bits) : VNI.
    public func autoRouteTarget(_ vni: VNI) -> RouteTarget {
        .as2(UInt16(truncatingIfNeeded: asn), vni.value | (autoRTRFC8365 ? 0x1000_0000 : 0))
    }

    /// The set of VNIs the switch serves. New VNIs get an instance (RD/RT) and a type-3 route;
    /// removed ones lose their routes and forwarding state.
    public func setLocalVNIs(_ set: Set<VNI>) {
        for vni in vnis.keys.sorted() where !set.contains(vni) {
            for k in localMACs.keys where k.vni == vni { localMACs[k] = nil; exportLocal(k) }
            exportIMET(vni, remove: true)
            vnis[vni] = nil
            for k in installed.keys.sorted() where k.vni == vni { installed[k] = nil; dataplane?.withdrawRemoteMAC(vni: vni, mac: k.mac) }
        }
        for vni in set.sorted() where vnis[vni] == nil {
            let c = vniConfig[vni]
            let index = rdIndex[vni] ?? { defer { nextRDIndex &+= 1 }; return nextRDIndex }()
            rdIndex[vni] = index
            let auto = autoRouteTarget(vni)
            vnis[vni] = VNIInstance(vni: vni, rd: c?.rd ?? .ipv4(routerID.v4, index),
                                    importRTs: c?.importRTs ?? [auto], exportRTs: c?.exportRTs ?? [auto],
                                    rdIsAuto: c?.rd == nil, rtIsAuto: c?.importRTs == nil && c?.exportRTs == nil)
            exportIMET(vni, remove: false)
            for mac in byMAC.keys.sorted() { reconcile(VNIMAC(vni, mac)) }
        }
        reconcileFlood()
    }

    /// The switch learned `mac` on a local port (or its IP changed). A MAC that a remote VTEP
    /// advertised is a move: the sequence becomes the highest remote one + 1 (RFC 7432 §15).
    public func localMACLearned(vni: VNI, mac: MACAddress, ip: IPAddress?, sticky: Bool = false) {
        guard vnis[vni] != nil else { return }
        let k = VNIMAC(vni, mac)
        let remotes = remoteCandidates(k)
        if var cur = localMACs[k], !cur.movedAway {
            let changed = (ip != nil && cur.ip != ip) || cur.sticky != sticky
            if let ip { cur.ip = ip }
            cur.sticky = sticky
            localMACs[k] = cur
            if changed { exportLocal(k) }
            return
        }
        var seq: UInt32 = 0
        if let top = remotes.map(\.sequence).max() {
            if remotes.contains(where: { $0.sticky }) && !sticky { // RFC 7432 §15.2: a sticky remote MAC does not move
                localMACs[k] = LocalMAC(ip: ip, sequence: 0, sticky: false, movedAway: true)
                return
            }
            seq = top &+ 1
            recordMove(k)
        } else if let old = localMACs[k] {
            seq = old.sequence
        }
        localMACs[k] = LocalMAC(ip: ip, sequence: seq, sticky: sticky)
        exportLocal(k)
        reconcile(k)
    }

    /// The switch aged out or deleted a local MAC.
    public func localMACRemoved(vni: VNI, mac: MACAddress) {
        let k = VNIMAC(vni, mac)
        guard localMACs.removeValue(forKey: k) != nil else { return }
        exportLocal(k)
        reconcile(k)
    }

    /// Clears a duplicate-MAC freeze (FRR: `clear evpn dup-addr`).
    public func clearDuplicate(vni: VNI, mac: MACAddress) {
        let k = VNIMAC(vni, mac)
        duplicates[k] = nil; moves[k] = nil
        exportLocal(k)
    }

    func recordMove(_ k: VNIMAC) {
        guard dad.enabled else { return }
        let t = now()
        var m = (moves[k] ?? []).filter { t - $0 < dad.seconds }
        m.append(t)
        moves[k] = m
        if m.count >= dad.maxMoves && duplicates[k] == nil {
            duplicates[k] = m.count
            dataplane?.duplicateMACDetected(vni: k.vni, mac: k.mac, moves: m.count)
        }
    }

    func routes(for k: VNIMAC, ip: IPAddress?) -> [EVPNRoute] {
        guard let inst = vnis[k.vni] else { return [] }
        var out = [EVPNRoute.macIP(EVPNMACIPRoute(rd: inst.rd, mac: k.mac, label1: k.vni.value))]
        if let ip { out.append(.macIP(EVPNMACIPRoute(rd: inst.rd, mac: k.mac, ip: ip, label1: k.vni.value))) }
        return out
    }

    /// Re-derives our type-2 routes for (vni, mac). A duplicate (frozen) MAC keeps what was
    /// last advertised, like FRR without `freeze permanent`.
    func exportLocal(_ k: VNIMAC) {
        if duplicates[k] != nil && localMACs[k] != nil && !(localMACs[k]?.movedAway ?? true) { return }
        var want: [EVPNRouteKey: ExportedRoute] = [:]
        if let l = localMACs[k], !l.movedAway, let inst = vnis[k.vni] {
            var ec = inst.exportRTs.map(ExtendedCommunity.routeTarget) + [.vxlanEncapsulation]
            if l.sequence > 0 || l.sticky { ec.append(.macMobility(sticky: l.sticky, sequence: l.sequence)) }
            for r in routes(for: k, ip: l.ip) { want[r.key] = ExportedRoute(route: r, vni: k.vni, extendedCommunities: ec, pmsi: nil) }
        }
        let haveKeys = exported.filter { key, e in
            if case .macIP(let m) = e.route { return e.vni == k.vni && m.mac == k.mac }
            return false
        }.map(\.key)
        var withdraw: [EVPNRoute] = []
        for key in haveKeys where want[key] == nil {
            if let old = exported.removeValue(forKey: key) { withdraw.append(old.route) }
        }
        let announce = want.values.filter { exported[$0.route.key] != $0 }.sorted { $0.route.key < $1.route.key }
        for e in announce { exported[e.route.key] = e }
        if !announce.isEmpty || !withdraw.isEmpty { onExport(announce, withdraw) }
    }

    func exportIMET(_ vni: VNI, remove: Bool) {
        guard let inst = vnis[vni] else { return }
        let r = EVPNRoute.imet(EVPNIMETRoute(rd: inst.rd, originator: vtep))
        if remove {
            if exported.removeValue(forKey: r.key) != nil { onExport([], [r]) }
            return
        }
        let e = ExportedRoute(route: r, vni: vni,
                              extendedCommunities: inst.exportRTs.map(ExtendedCommunity.routeTarget) + [.vxlanEncapsulation],
                              pmsi: .ingressReplication(vni: vni, vtep: vtep))
        exported[r.key] = e
        onExport([e], [])
    }
}
