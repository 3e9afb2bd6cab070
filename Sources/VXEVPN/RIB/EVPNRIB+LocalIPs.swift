import VXCore

/// Local VMs' IPs (learned by the switch from their ARP/ND): a MAC/IP route each, MAC mobility
/// per IP (RFC 7432 §15) and per-IP duplicate detection.
///
/// ```
///  localIPLearned(vni, mac, ip)
///    same MAC as before ──────────────────────────────────────▶ nothing
///    claimed by a remote MAC/IP route (another MAC/VTEP) ─────▶ sequence = its + 1, a move counted
///    at another local MAC before ─────────────────────────────▶ sequence + 1, that MAC's route withdrawn
///    → our MAC/IP route (with the MAC's route), the remote MACs' installed IPs lose it
///  a remote MAC/IP route with a higher sequence arrives ──────▶ the IP is the remote's: ours withdrawn,
///                                                                a move counted
///  the MAC goes (aged, removed) ─────────────────────────────▶ its IPs go, neighbour entries withdrawn
/// ```
extension EVPNRIB {
    /// The switch saw `ip` at local `mac` (ARP/ND of a VM).
    public func localIPLearned(vni: VNI, mac: MACAddress, ip: IPAddress) {
        guard vnis[vni] != nil else { return }
        let key = VNIIP(vni, ip), k = VNIMAC(vni, mac)
        let old = localIPs[key]
        if let old, old.mac == mac { return }
        var seq = old.map { $0.sequence &+ 1 } ?? 0
        if let remote = remoteIPClaim(vni, ip), remote.mac != mac || remote.vtep != vtep {
            seq = max(seq, remote.seq &+ 1)
            _ = recordIPMove(key, local: true, vtep: remote.vtep)
        }
        if let old {
            let was = VNIMAC(vni, old.mac)
            localIPsOfMAC[was]?.remove(ip)
            if localIPsOfMAC[was]?.isEmpty ?? false { localIPsOfMAC[was] = nil }
            exportLocal(was)
        }
        localIPs[key] = LocalIP(mac: mac, sequence: seq)
        localIPsOfMAC[k, default: []].insert(ip)
        exportLocal(k)
        reconcileClaimants(of: key)
    }

    /// A remote MAC/IP route for `key.ip` came or went: one with a higher sequence than our
    /// claim takes the IP (our route is withdrawn; the data plane gets the remote MAC).
    func reconcileLocalIP(_ key: VNIIP) {
        guard let local = localIPs[key], let remote = remoteIPClaim(key.vni, key.ip),
              remote.mac != local.mac, remote.seq > local.sequence else { return }
        let frozen = recordIPMove(key, local: false, vtep: remote.vtep)
        if frozen { return } // a frozen duplicate keeps what it had (FRR)
        let k = VNIMAC(key.vni, local.mac)
        localIPs[key] = nil
        localIPsOfMAC[k]?.remove(key.ip)
        if localIPsOfMAC[k]?.isEmpty ?? false { localIPsOfMAC[k] = nil }
        exportLocal(k)
    }

    /// Every remote MAC claiming `key.ip` is reconciled: whose the IP is may have changed.
    func reconcileClaimants(of key: VNIIP) {
        var macs = Set<MACAddress>()
        for ref in byIP[key.ip] ?? [] { if case .macIP(let m)? = adjRIBIn[ref]?.route { macs.insert(m.mac) } }
        for mac in macs.sorted() { reconcile(VNIMAC(key.vni, mac)) }
    }

    /// The local MAC `k` is gone: so are its IPs, and their neighbour entries.
    func forgetLocalIPs(of k: VNIMAC) {
        guard let ips = localIPsOfMAC.removeValue(forKey: k) else { return }
        for ip in ips.sorted() {
            localIPs[VNIIP(k.vni, ip)] = nil
            dataplane?.localNeighborRemoved(vni: k.vni, ip: ip, mac: k.mac)
            reconcileClaimants(of: VNIIP(k.vni, ip))
        }
    }

    /// Counts a move of the IP `key`; true when it is frozen after it.
    func recordIPMove(_ key: VNIIP, local: Bool, vtep: IPAddress?) -> Bool {
        if case .detected(let moves) = ipDetector.recordMove(key, local: local, now: now()) {
            dataplane?.duplicateIPDetected(vni: key.vni, ip: key.ip, moves: moves, local: local, vtep: vtep,
                                           frozen: ipDetector.isFrozen(key))
            onDuplicateIP(key)
        }
        return ipDetector.isFrozen(key)
    }

    /// Clears IP duplicates (FRR: `clear evpn dup-addr vni N|all [ip A]`): one IP, a VNI's or
    /// all. Returns how many were cleared.
    @discardableResult
    public func clearDuplicateIPs(vni: VNI? = nil, ip: IPAddress? = nil) -> Int {
        let keys = ipDetector.duplicates.filter { (vni == nil || $0.vni == vni) && (ip == nil || $0.ip == ip) }
        for key in keys {
            ipDetector.clear(key)
            if let local = localIPs[key] { exportLocal(VNIMAC(key.vni, local.mac)) }
            reconcileLocalIP(key)
            reconcileClaimants(of: key)
        }
        return keys.count
    }
}
