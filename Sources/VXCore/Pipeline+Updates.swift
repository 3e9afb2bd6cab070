/// The one place control-plane changes reach a pipeline's tables: `TableUpdate`s, applied by
/// the owner to its copy and by each worker to its own, between batches.
extension SwitchPipeline {
    /// Applies `update`; false when it could not be (VNI not configured, table full, nothing
    /// to remove). The owner applies to its copy first and sends workers only what succeeded.
    @discardableResult
    public mutating func apply(_ update: TableUpdate) -> Bool {
        switch update {
        case .setPort(let id, let config):
            guard ports.contains(id) else { return false }
            setPort(id, config)
            return true
        case .addVNI(let vni, let learnRemote, let macLimit, let carryTagged):
            return addVNI(vni, learnRemote: learnRemote, macLimit: macLimit, carryTagged: carryTagged) != nil
        case .removeVNI(let vni):
            guard bridgeDomains.index(of: vni) != nil else { return false }
            removeVNI(vni)
            return true
        case .addVTEP(let ip):
            return vteps.addLearned(ip) != nil
        case .removeVTEP(let ip):
            guard vteps.index(of: ip) != nil else { return false }
            removeVTEP(ip)
            return true
        case .ageVTEP, .setVTEPAdmission:
            return applyAdmission(update)
        case .addFlood(let vni, let ip, let origin):
            return addFloodVTEP(vni: vni, ip, origin: origin)
        case .removeFlood(let vni, let ip, let origin):
            return removeFloodVTEP(vni: vni, ip, origin: origin)
        case .setNextHop(let ip, let mac):
            guard vteps.index(of: ip) != nil || vteps.add(ip) != nil else { return false }
            setNextHop(vtep: ip, mac)
            return true
        case .addStaticPort(let vni, let mac, let port):
            return addStaticMAC(vni: vni, mac, port: port)
        case .addStaticVTEP(let vni, let mac, let ip):
            return addStaticMAC(vni: vni, mac, vtep: ip)
        case .removeStatic(let vni, let mac):
            return removeStaticMAC(vni: vni, mac)
        case .installEVPN(let vni, let mac, let vtep, let sequence):
            return installEVPNMAC(vni: vni, mac, vtep: vtep, sequence: sequence)
        case .withdrawEVPN(let vni, let mac):
            return withdrawEVPNMAC(vni: vni, mac)
        case .installNeighbor(let vni, let ip, let mac):
            return installNeighbor(vni: vni, ip: ip, mac: mac)
        case .withdrawNeighbor(let vni, let ip, let mac):
            return withdrawNeighbor(vni: vni, ip: ip, mac: mac)
        case .setAgeLimit(let seconds):
            fdb.ageLimit = seconds
            return true
        case .refreshLearned(let vni, let mac, let stamp):
            guard let bd = bridgeDomains.index(of: vni) else { return false }
            return fdb.refreshLearned(bd: bd, mac: mac, stamp: stamp)
        case .learned(let e):
            guard e.origin.isLearned, let bd = bridgeDomains.index(of: e.vni) else { return false }
            fdb.absorb(e, bd: bd)
            return true
        case .addVRF(let vni, let routerMAC):
            return addVRF(vni, routerMAC: routerMAC)
        case .removeVRF(let vni):
            return removeVRF(vni)
        case .setGateway(let vni, let gateway):
            return setGateway(vni: vni, gateway)
        case .installRoute(let vrf, let prefix, let hop):
            return installRoute(vrf: vrf, prefix, hop)
        case .removeRoute(let vrf, let prefix):
            return removeRoute(vrf: vrf, prefix)
        case .learnHost(let vni, let ip, let mac):
            return learnHost(vni: vni, ip: ip, mac: mac)
        case .forgetHost(let vni, let ip):
            return forgetHost(vni: vni, ip: ip)
        }
    }

    /// The owner's copy takes a worker's report. Returns the updates it calls for (a VTEP
    /// that remote learning saw becomes `.addVTEP`, for every copy).
    public mutating func absorb(_ report: DataplaneReport) -> TableUpdate? {
        switch report {
        case .fdb(let e):
            if let bd = bridgeDomains.index(of: e.vni) { fdb.absorb(e, bd: bd) }
            return nil
        case .vtepSeen(let ip):
            return vteps.index(of: ip) == nil && vteps.learnsMore ? .addVTEP(ip) : nil
        case .hostLearned(let h):
            return .learnHost(h.vni, h.ip, h.mac)
        case .neighborLearned(let n):
            return .installNeighbor(n.vni, n.ip, n.mac)
        }
    }

    /// Moves this pipeline's pending reports (FDB events, VTEPs and hosts seen) into `ring`, for
    /// the owner, oldest first, as many as fit. What does not fit stays here for the next call
    /// (`counters.reportsHeldBack` counts the calls that found the ring full): nothing is lost,
    /// and while the FDB's event ring is full the data plane defers learning
    /// (`LearnOutcome.deferred`). The worker calls it between batches.
    public mutating func publishReports(into ring: SPSCRing<DataplaneReport>) {
        guard fdb.events.count > 0 || !discoveredVTEPs.isEmpty || !discoveredHosts.isEmpty || !discoveredNeighbors.isEmpty else {
            return
        }
        while let e = fdb.events.peek() {
            guard ring.push(.fdb(e)) else { counters.reportsHeldBack &+= 1; return }
            _ = fdb.events.pop()
        }
        var vteps = 0, hosts = 0
        while vteps < discoveredVTEPs.count, ring.push(.vtepSeen(discoveredVTEPs[vteps])) { vteps += 1 }
        discoveredVTEPs.removeFirst(vteps)
        while hosts < discoveredHosts.count, ring.push(.hostLearned(discoveredHosts[hosts])) { hosts += 1 }
        discoveredHosts.removeFirst(hosts)
        var neighbors = 0
        while neighbors < discoveredNeighbors.count, ring.push(.neighborLearned(discoveredNeighbors[neighbors])) { neighbors += 1 }
        discoveredNeighbors.removeFirst(neighbors)
        if !discoveredVTEPs.isEmpty || !discoveredHosts.isEmpty || !discoveredNeighbors.isEmpty { counters.reportsHeldBack &+= 1 }
    }
}
