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
            for k in localMACs.keys where k.vni == vni { localMACs[k] = nil; forgetLocalIPs(of: k); exportLocal(k) }
            for k in localIPs.keys where k.vni == vni { localIPs[k] = nil }
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
        exportVRFPrefixes()
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
            // A duplicate found here with a freeze is not advertised (FRR): the switch keeps it
            // local, our route stays withdrawn and the remote one is not taken back.
            _ = recordMove(k, local: true, vtep: remotes.first?.nextHop)
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
        forgetLocalIPs(of: k)
        exportLocal(k)
        reconcile(k)
    }

    /// Clears duplicate state (FRR: `clear evpn dup-addr vni N|all [mac M]`): of one MAC, of a
    /// VNI's MACs (`mac` nil) or of all (`vni` nil). The moves counted so far are forgotten too;
    /// a MAC that was frozen takes the state its routes give it now (the best route is
    /// installed, or our route advertised). Without a MAC the VNI's (or all) IP duplicates are
    /// cleared too. Returns how many duplicates were cleared.
    @discardableResult
    public func clearDuplicates(vni: VNI? = nil, mac: MACAddress? = nil) -> Int {
        let keys = detector.duplicates.filter { (vni == nil || $0.vni == vni) && (mac == nil || $0.mac == mac) }
        for k in keys {
            detector.clear(k)
            reconcile(k)
            exportLocal(k)
        }
        return keys.count + (mac == nil ? clearDuplicateIPs(vni: vni) : 0)
    }

    /// Ends the freezes whose time (`freeze: SECONDS`) has passed, as FRR's auto-recovery does.
    public func recoverExpiredDuplicates() {
        for k in detector.recovered(at: now()) { clearDuplicates(vni: k.vni, mac: k.mac) }
        for k in ipDetector.recovered(at: now()) { clearDuplicateIPs(vni: k.vni, ip: k.ip) }
    }

    /// Counts a move of `k` (`local`: learned here while remote; else taken by a remote route);
    /// true when `k` is frozen after it.
    func recordMove(_ k: VNIMAC, local: Bool, vtep: IPAddress?) -> Bool {
        if case .detected(let moves) = detector.recordMove(k, local: local, now: now()) {
            dataplane?.duplicateMACDetected(vni: k.vni, mac: k.mac, moves: moves, local: local, vtep: vtep,
                                            frozen: detector.isFrozen(k))
            onDuplicate(k)
        }
        return detector.isFrozen(k)
    }

    /// The MAC route, and a MAC/IP route per IP (the FDB learner's, the VM's ARP/ND and the
    /// gateway's hosts), each with the sequence above the MAC's its IP needs (0: the MAC's); in
    /// a VRF's L2 VNI the MAC/IP routes carry its L3 VNI (Label2) and `vrfCommunities`. An IP
    /// frozen as a duplicate is left out (FRR).
    func routes(for k: VNIMAC, ip: IPAddress?) -> [(route: EVPNRoute, vrfCommunities: [ExtendedCommunity], sequence: UInt32)] {
        guard let inst = vnis[k.vni] else { return [] }
        var out = [(route: EVPNRoute.macIP(EVPNMACIPRoute(rd: inst.rd, mac: k.mac, label1: k.vni.value)),
                    vrfCommunities: [ExtendedCommunity](), sequence: UInt32(0))]
        let vrf = vrfDecoration(k.vni)
        let all = Set([ip].compactMap { $0 }).union(localHosts[k] ?? []).union(localIPsOfMAC[k] ?? [])
        for ip in all.sorted() where !ipDetector.isFrozen(VNIIP(k.vni, ip)) {
            out.append((.macIP(EVPNMACIPRoute(rd: inst.rd, mac: k.mac, ip: ip, label1: k.vni.value, label2: vrf?.label2)),
                        vrf?.communities ?? [], localIPs[VNIIP(k.vni, ip)]?.sequence ?? 0))
        }
        return out
    }

    /// Re-derives our type-2 routes for (vni, mac). A frozen duplicate is not re-advertised (FRR).
    func exportLocal(_ k: VNIMAC) {
        if detector.isFrozen(k) { return }
        writeExport(k)
    }

    func writeExport(_ k: VNIMAC) {
        var want: [EVPNRouteKey: ExportedRoute] = [:]
        if let l = localMACs[k], !l.movedAway, let inst = vnis[k.vni] {
            let ec = inst.exportRTs.map(ExtendedCommunity.routeTarget) + [.vxlanEncapsulation]
            for (r, more, ipSequence) in routes(for: k, ip: l.ip) {
                // A MAC/IP route carries the higher of the MAC's and its IP's sequence (as FRR).
                let seq = max(l.sequence, ipSequence)
                let mobility: [ExtendedCommunity] = seq > 0 || l.sticky ? [.macMobility(sticky: l.sticky, sequence: seq)] : []
                want[r.key] = ExportedRoute(route: r, vni: k.vni, extendedCommunities: ec + mobility + more, pmsi: nil)
            }
        }
        var withdraw: [EVPNRoute] = []
        for key in exportedKeysOfMAC[k] ?? [] where want[key] == nil {
            if let old = exported.removeValue(forKey: key) { withdraw.append(old.route) }
        }
        let announce = want.values.filter { exported[$0.route.key] != $0 }.sorted { $0.route.key < $1.route.key }
        for e in announce { exported[e.route.key] = e }
        exportedKeysOfMAC[k] = want.isEmpty ? nil : Set(want.keys)
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
