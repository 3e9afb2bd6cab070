/// One row of `show evpn mac vni N` / `show fdb`.
public struct FDBRow: Sendable, Equatable {
    public var vni: VNI
    public var mac: MACAddress
    public var port: PortID?
    public var vtep: IPAddress?
    public var origin: FDBOrigin
    public var sticky: Bool
    /// Seconds since last seen (learned entries only).
    public var age: UInt32?
    public var sequence: UInt32
}

/// Control-plane operations on the pipeline, by VNI and IP rather than by dense index.
/// Call them between batches (they may allocate); they keep ports, bridge domains, VTEPs
/// and the FDB consistent with each other.
extension SwitchPipeline {
    // MARK: VNIs and ports

    /// Creates or updates a VNI's bridge domain; returns its index (nil: table full).
    @discardableResult
    public mutating func addVNI(_ vni: VNI, learnRemote: Bool = false, macLimit: Int? = nil,
                                carryTagged: Bool = false) -> UInt16? {
        let existed = bridgeDomains.index(of: vni) != nil
        guard let bd = bridgeDomains.add(vni, learnRemote: learnRemote, macLimit: macLimit, carryTagged: carryTagged) else {
            return nil
        }
        if !existed { counters.reset(bd: bd) }
        fdb.configure(bd: bd, vni: vni, macLimit: macLimit)
        resolvePorts()
        return bd
    }

    /// Removes a VNI with all its FDB entries.
    public mutating func removeVNI(_ vni: VNI) {
        guard let bd = bridgeDomains.index(of: vni) else { return }
        fdb.flush(bd: bd, everything: true)
        neighbors.flush(bd: bd)
        forgetRouting(bd: bd)
        _ = bridgeDomains.remove(vni)
        resolvePorts()
    }

    /// Configures (or with nil removes) a port. A changed port's learned MACs are flushed.
    public mutating func setPort(_ port: PortID, _ config: PortConfig?) {
        precondition(ports.contains(port), "port \(port) beyond the port table")
        if ports.config(port) != config { fdb.flush(port: port) }
        ports.set(port, config)
        fdb.configure(port: port, macLimit: config?.macLimit)
        resolvePorts()
    }

    mutating func resolvePorts() {
        let members = ports.resolve(&bridgeDomains)
        for i in members.indices { bridgeDomains.domains[i].members = members[i] }
    }

    // MARK: VTEPs and flood lists

    /// Adds a remote VTEP to a VNI's flood list (head-end replication).
    @discardableResult
    public mutating func addFloodVTEP(vni: VNI, _ ip: IPAddress, origin: FloodOrigin = .static) -> Bool {
        guard let bd = bridgeDomains.index(of: vni), let v = vteps.add(ip) else { return false }
        if !bridgeDomains.domains[Int(bd)].floodList.contains(where: { $0.vtep == v }) {
            bridgeDomains.domains[Int(bd)].floodList.append(FloodTarget(vtep: v, origin: origin))
        }
        return true
    }

    /// Removes a VTEP from a VNI's flood list (only an entry of `origin`, when given).
    @discardableResult
    public mutating func removeFloodVTEP(vni: VNI, _ ip: IPAddress, origin: FloodOrigin? = nil) -> Bool {
        guard let bd = bridgeDomains.index(of: vni), let v = vteps.index(of: ip) else { return false }
        let before = bridgeDomains.domains[Int(bd)].floodList.count
        bridgeDomains.domains[Int(bd)].floodList.removeAll { $0.vtep == v && (origin == nil || $0.origin == origin) }
        return bridgeDomains.domains[Int(bd)].floodList.count != before
    }

    /// Sets the underlay next-hop MAC of a VTEP (creating the VTEP if needed); nil unresolves it.
    /// Resolving a learned VTEP leaves it learned (the resolver resolves every VTEP).
    public mutating func setNextHop(vtep ip: IPAddress, _ mac: MACAddress?) {
        if vteps.index(of: ip) == nil { _ = vteps.add(ip) }
        vteps.setNextHop(ip, mac)
    }

    /// Removes a VTEP: its FDB entries (static too) and its flood-list memberships.
    public mutating func removeVTEP(_ ip: IPAddress) {
        guard let v = vteps.index(of: ip) else { return }
        fdb.flush(vtep: v, includingStatic: true)
        for i in bridgeDomains.domains.indices { bridgeDomains.domains[i].floodList.removeAll { $0.vtep == v } }
        forgetRoutes(vtep: v)
        if let i = vteps.remove(ip) { counters.reset(vtep: i) }
    }

    // MARK: FDB

    @discardableResult
    public mutating func addStaticMAC(vni: VNI, _ mac: MACAddress, port: PortID, sticky: Bool = true) -> Bool {
        guard let bd = bridgeDomains.index(of: vni) else { return false }
        return fdb.addStatic(bd: bd, mac: mac, destination: .port(port), sticky: sticky)
    }

    @discardableResult
    public mutating func addStaticMAC(vni: VNI, _ mac: MACAddress, vtep ip: IPAddress) -> Bool {
        guard let bd = bridgeDomains.index(of: vni), let v = vteps.add(ip) else { return false }
        return fdb.addStatic(bd: bd, mac: mac, destination: .vtep(v))
    }

    @discardableResult
    public mutating func removeStaticMAC(vni: VNI, _ mac: MACAddress) -> Bool {
        guard let bd = bridgeDomains.index(of: vni) else { return false }
        return fdb.removeStatic(bd: bd, mac: mac)
    }

    /// Installs an EVPN type-2 MAC route (the speaker has applied MAC Mobility rules).
    @discardableResult
    public mutating func installEVPNMAC(vni: VNI, _ mac: MACAddress, vtep ip: IPAddress, sequence: UInt32,
                                        sticky: Bool = false) -> Bool {
        guard let bd = bridgeDomains.index(of: vni), let v = vteps.add(ip) else { return false }
        return fdb.installEVPN(bd: bd, mac: mac, vtep: v, sequence: sequence, sticky: sticky)
    }

    /// Withdraws an EVPN MAC route (only while it still points at `ip`, when given).
    @discardableResult
    public mutating func withdrawEVPNMAC(vni: VNI, _ mac: MACAddress, vtep ip: IPAddress? = nil) -> Bool {
        guard let bd = bridgeDomains.index(of: vni) else { return false }
        var v: UInt16?
        if let ip {
            guard let i = vteps.index(of: ip) else { return false }
            v = i
        }
        return fdb.withdrawEVPN(bd: bd, mac: mac, vtep: v)
    }

    @discardableResult public mutating func flushFDB(port: PortID) -> Int { fdb.flush(port: port) }
    @discardableResult public mutating func flushFDB(vni: VNI) -> Int {
        bridgeDomains.index(of: vni).map { fdb.flush(bd: $0) } ?? 0
    }
    @discardableResult public mutating func flushFDB(vtep ip: IPAddress) -> Int {
        vteps.index(of: ip).map { fdb.flush(vtep: $0) } ?? 0
    }

    /// Incremental aging; call every batch or tick with a small budget.
    @discardableResult
    public mutating func age(now: UInt32, budget: Int = 256) -> Int { fdb.age(now: now, budget: budget) }

    /// Takes pending FDB events (learned / moved / refreshed / aged / removed), oldest first.
    public mutating func drainFDBEvents(max: Int = .max) -> [FDBEvent] { fdb.events.drain(max: max) }

    /// The FDB as rows, by VNI then MAC (optionally one VNI).
    public func fdbRows(now: UInt32, vni: VNI? = nil) -> [FDBRow] {
        fdb.snapshot().compactMap { e in
            if let vni, vni != fdb.vni(ofBD: e.bridgeDomain) { return nil }
            return row(e, now: now)
        }.sorted { ($0.vni, $0.mac) < ($1.vni, $1.mac) }
    }

    /// One page of rows (`FDB.page`), sorted within the page; `next` continues the listing.
    public func fdbRowsPage(now: UInt32, vni: VNI? = nil, from: Int, limit: Int) -> (rows: [FDBRow], next: Int?) {
        var bd: UInt16?
        if let vni {
            guard let i = bridgeDomains.index(of: vni) else { return ([], nil) }
            bd = i
        }
        let (entries, next) = fdb.page(from: from, limit: limit, bd: bd)
        return (entries.map { row($0, now: now) }.sorted { ($0.vni, $0.mac) < ($1.vni, $1.mac) }, next)
    }

    /// Entries per VNI (one pass, no rows).
    public func fdbCounts() -> [VNI: FDBCounts] {
        var out: [VNI: FDBCounts] = [:]
        for (bd, counts) in fdb.counts() { out[fdb.vni(ofBD: bd)] = counts }
        return out
    }

    func row(_ e: FDBEntry, now: UInt32) -> FDBRow {
        var row = FDBRow(vni: fdb.vni(ofBD: e.bridgeDomain), mac: e.mac, port: nil, vtep: nil, origin: e.origin,
                         sticky: e.sticky, age: e.origin.isLearned ? now &- e.lastSeen : nil, sequence: e.sequence)
        switch e.destination {
        case .port(let p): row.port = p
        case .vtep(let v): row.vtep = vteps[v].ip
        }
        return row
    }
}
