/// Control-plane operations: static entries, EVPN routes, flushes and the `show` snapshot.
/// Not on the per-packet path; they may allocate.
extension FDB {
    /// Adds or replaces a static entry (the operator is authoritative). Emits `.learned`
    /// with origin `.static` so the speaker can advertise local static MACs.
    @discardableResult
    public mutating func addStatic(bd: UInt16, mac: MACAddress, destination: FDBDestination, sticky: Bool = true) -> Bool {
        put(bd: bd, mac: mac, destination: destination, origin: .static, sticky: sticky, sequence: 0)
    }

    @discardableResult
    public mutating func removeStatic(bd: UInt16, mac: MACAddress) -> Bool {
        remove(bd: bd, mac: mac) { $0.origin == .static }
    }

    /// Installs a MAC learned from an EVPN type-2 route. The speaker has already decided
    /// (RFC 7432 §15) that this route wins; it overwrites learned and older EVPN entries,
    /// never static or sticky local ones. Displacing a local entry is a `.moved` event.
    @discardableResult
    public mutating func installEVPN(bd: UInt16, mac: MACAddress, vtep: UInt16, sequence: UInt32, sticky: Bool = false) -> Bool {
        if let s = find(FDBEntry.key(bd: bd, mac: mac)) {
            let old = slots[s]
            if old.origin == .static { return false }
            if old.sticky && old.origin != .evpn { return false }
            let moved = old.origin == .localLearned
            var e = old
            e.destination = .vtep(vtep); e.sequence = sequence; e.sticky = sticky; e.origin = .evpn
            rewrite(slot: s, e)
            if moved { emit(.moved, e) }
            return true
        }
        return put(bd: bd, mac: mac, destination: .vtep(vtep), origin: .evpn, sticky: sticky, sequence: sequence)
    }

    /// Removes an EVPN entry (only if it still points at `vtep`, when given).
    @discardableResult
    public mutating func withdrawEVPN(bd: UInt16, mac: MACAddress, vtep: UInt16? = nil) -> Bool {
        remove(bd: bd, mac: mac) { $0.origin == .evpn && (vtep == nil || $0.destination == .vtep(vtep!)) }
    }

    /// Removes learned entries on a local port (and static ones when asked).
    @discardableResult
    public mutating func flush(port: PortID, includingStatic: Bool = false) -> Int {
        removeAll { $0.destination == .port(port) && ($0.origin.isLearned || includingStatic) }
    }

    /// Removes every learned and EVPN entry toward a VTEP (e.g. the VTEP is gone).
    @discardableResult
    public mutating func flush(vtep: UInt16, includingStatic: Bool = false) -> Int {
        removeAll { $0.destination == .vtep(vtep) && ($0.origin != .static || includingStatic) }
    }

    /// Removes the learned entries of a bridge domain (all entries when `everything`).
    @discardableResult
    public mutating func flush(bd: UInt16, everything: Bool = false) -> Int {
        removeAll { $0.bridgeDomain == bd && ($0.origin.isLearned || everything) }
    }

    /// Up to `limit` entries from slot `from` on, in slot order (`bd` only, when given), and the
    /// slot to continue from (nil: the end). A page costs its own rows, not the table's: a
    /// listing of a million MACs goes page by page without a sort or a copy of the table. An
    /// entry that moves between pages (a removal shifts its probe run back) may be listed twice
    /// or not at all, as any live listing of a changing table.
    public func page(from: Int, limit: Int, bd: UInt16? = nil) -> (entries: [FDBEntry], next: Int?) {
        var out: [FDBEntry] = []
        out.reserveCapacity(min(limit, count))
        var i = max(0, from)
        while i <= slots.mask {
            let e = slots[i]
            i += 1
            guard e.key != FDB.emptyKey, bd == nil || e.bridgeDomain == bd else { continue }
            out.append(e)
            if out.count == limit { return (out, i <= slots.mask ? i : nil) }
        }
        return (out, nil)
    }

    /// Entries per bridge domain, counted in one pass without copying: into flat arrays (bridge
    /// domain x origin), so a million entries cost no dictionary lookup each (`show mac --count`,
    /// `show vni` and the metrics read it while the table owner's lock is held).
    public func counts() -> [UInt16: FDBCounts] {
        let domains = vniOfBD.count, origins = 4
        var byOrigin = [Int](repeating: 0, count: domains * origins), local = [Int](repeating: 0, count: domains)
        var other: [UInt16: FDBCounts] = [:]
        for e in slots {
            let bd = Int(e.bridgeDomain), o = Int(e.origin.rawValue)
            guard bd < domains, o < origins else {
                other[e.bridgeDomain, default: FDBCounts()].byOrigin[e.origin, default: 0] += 1
                if case .port = e.destination { other[e.bridgeDomain]!.local += 1 } else { other[e.bridgeDomain]!.remote += 1 }
                continue
            }
            byOrigin[bd * origins + o] += 1
            if case .port = e.destination { local[bd] += 1 }
        }
        var out = other
        for bd in 0..<domains {
            var c = FDBCounts(), total = 0
            for o in 0..<origins where byOrigin[bd * origins + o] > 0 {
                c.byOrigin[FDBOrigin(rawValue: UInt8(o))!] = byOrigin[bd * origins + o]
                total += byOrigin[bd * origins + o]
            }
            guard total > 0 else { continue }
            c.local = local[bd]
            c.remote = total - local[bd]
            out[UInt16(bd)] = c
        }
        return out
    }

    /// Entries toward each remote VTEP (by VTEP index), of one bridge domain or all, in one pass.
    public func countsByVTEP(bridgeDomain: UInt16? = nil) -> [UInt16: Int] {
        var n: [Int] = []
        for e in slots {
            guard case .vtep(let v) = e.destination, bridgeDomain == nil || e.bridgeDomain == bridgeDomain else { continue }
            if Int(v) >= n.count { n += [Int](repeating: 0, count: Int(v) + 1 - n.count) }
            n[Int(v)] += 1
        }
        var out: [UInt16: Int] = [:]
        for (v, c) in n.enumerated() where c > 0 { out[UInt16(v)] = c }
        return out
    }

    /// Calls `body` with every entry, in slot order (no copy, no sort).
    public func forEachEntry(_ body: (FDBEntry) -> Void) {
        for e in slots { body(e) }
    }

    /// All entries, sorted by bridge domain then MAC.
    public func snapshot() -> [FDBEntry] {
        slots.sorted { $0.key < $1.key }
    }

    /// VNI configured for a bridge domain.
    public func vni(ofBD bd: UInt16) -> VNI { VNI(unchecked: vniOfBD[Int(bd)]) }

    // MARK: helpers

    mutating func put(bd: UInt16, mac: MACAddress, destination: FDBDestination, origin: FDBOrigin,
                      sticky: Bool, sequence: UInt32) -> Bool {
        let e = FDBEntry(key: FDBEntry.key(bd: bd, mac: mac), destination: destination, origin: origin,
                         sticky: sticky, lastSeen: 0, sequence: sequence)
        if let s = find(e.key) {
            rewrite(slot: s, e)
        } else if insert(e) == nil {
            return false
        }
        if origin == .static, case .port = destination { emit(.learned, e) }
        return true
    }

    mutating func remove(bd: UInt16, mac: MACAddress, if matches: (FDBEntry) -> Bool) -> Bool {
        guard let s = find(FDBEntry.key(bd: bd, mac: mac)), matches(slots[s]) else { return false }
        emit(.removed, slots[s])
        remove(slot: s)
        return true
    }

    mutating func removeAll(where matches: (FDBEntry) -> Bool) -> Int {
        var removed = 0, i = 0
        while i <= slots.mask {
            let e = slots[i]
            if e.key != FDB.emptyKey && matches(e) {
                emit(.removed, e)
                remove(slot: i)
                removed += 1
                continue // a later entry may have shifted into slot i
            }
            i += 1
        }
        return removed
    }
}

extension FDB {
    /// The owner's copy of the tables takes a worker's report about a learned entry as it is:
    /// the worker has applied the learning rules. Static and EVPN changes are the owner's own
    /// (it applied them first), so their events are ignored; so is a learned entry that meets
    /// a static one the operator added since.
    public mutating func absorb(_ e: FDBEvent, bd: UInt16) {
        guard e.origin.isLearned else { return }
        let key = FDBEntry.key(bd: bd, mac: e.mac)
        switch e.kind {
        case .learned, .moved, .refreshed:
            if let s = find(key) {
                guard slots[s].origin != .static else { return }
                rewrite(slot: s, FDBEntry(key: key, destination: e.destination, origin: e.origin, sticky: false,
                                          lastSeen: e.lastSeen, sequence: e.sequence))
            } else {
                _ = insert(FDBEntry(key: key, destination: e.destination, origin: e.origin, sticky: false,
                                    lastSeen: e.lastSeen, sequence: e.sequence))
            }
        case .aged, .removed:
            if let s = find(key), slots[s].origin.isLearned, slots[s].destination == e.destination { remove(slot: s) }
        }
    }

    /// Refreshes a learned entry's last-seen where it is (never a learn or a move); false
    /// when there is no learned entry or the stamp is not newer.
    @discardableResult
    public mutating func refreshLearned(bd: UInt16, mac: MACAddress, stamp: UInt32) -> Bool {
        guard let s = find(FDBEntry.key(bd: bd, mac: mac)), slots[s].origin.isLearned,
              Int32(bitPattern: stamp &- slots[s].lastSeen) > 0 else { return false }
        slots[s].lastSeen = stamp
        return true
    }
}
