/// Adj-RIB-In, flat: every route received from any peer in one slot array (a freed slot is
/// reused), and per peer its route keys → slots. The RIB's indexes (by MAC, IP, RT, prefix)
/// hold slots (`RouteRef`), so best-path selection reads a route by index: no lookup by peer
/// name and route key per candidate, and an entry is one small value, not a dictionary's.
struct AdjRIBIn {
    /// A received route's slot: what the RIB's indexes hold.
    struct RouteRef: Hashable {
        var slot: Int32
        /// One word, one-shot (see `MACAddress._rawHashValue`).
        func _rawHashValue(seed: Int) -> Int { slot._rawHashValue(seed: seed) }
    }

    private var slots: [ReceivedRoute?] = []
    /// When each MAC/IP route arrived (by slot): a newer claim of an IP wins a tie.
    private var arrivals: [UInt64] = []
    private var freeSlots: [Int32] = []
    /// Peers by name, once: an UPDATE's routes are filed under its peer's number.
    private var peerIDs: [String: Int] = [:]
    private var peerNames: [String] = []
    private var tables: [[EVPNRouteKey: RouteRef]] = []
    /// What a peer's key → slot table is made with (the RIB's `tableCapacity`; 0: grows).
    var peerTableCapacity = 0

    subscript(ref: RouteRef) -> ReceivedRoute? { slots[Int(ref.slot)] }
    func arrival(_ ref: RouteRef) -> UInt64 { arrivals[Int(ref.slot)] }
    mutating func setArrival(_ ref: RouteRef, _ order: UInt64) { arrivals[Int(ref.slot)] = order }

    /// The peer's number, made on first use.
    mutating func peerID(_ peer: String) -> Int {
        if let id = peerIDs[peer] { return id }
        peerIDs[peer] = peerNames.count
        peerNames.append(peer)
        tables.append(Dictionary(minimumCapacity: peerTableCapacity))
        return peerNames.count - 1
    }

    func existingPeerID(_ peer: String) -> Int? { peerIDs[peer] }

    /// Files `route` under its key for the peer: in the slot the key had (an implicit
    /// replacement), else in a free one. Returns the slot and the route it replaced.
    mutating func insert(_ route: ReceivedRoute, peer id: Int) -> (RouteRef, replaced: ReceivedRoute?) {
        // A fresh slot first, so a new key costs one hash of it (an implicit replacement, rare,
        // puts its old slot back and frees the fresh one).
        let fresh: RouteRef
        if let free = freeSlots.popLast() {
            fresh = RouteRef(slot: free)
            slots[Int(free)] = route
        } else {
            fresh = RouteRef(slot: Int32(slots.count))
            slots.append(route)
            arrivals.append(0)
        }
        let key = route.route.key
        guard let ref = tables[id].updateValue(fresh, forKey: key) else { return (fresh, nil) }
        tables[id][key] = ref
        slots[Int(fresh.slot)] = nil
        freeSlots.append(fresh.slot)
        let old = slots[Int(ref.slot)]
        slots[Int(ref.slot)] = route
        return (ref, old)
    }

    /// Takes the peer's route with `key` out; its slot is free once the caller has dropped
    /// every index entry of it (the returned ref).
    mutating func remove(peer id: Int, _ key: EVPNRouteKey) -> (RouteRef, ReceivedRoute)? {
        guard let ref = tables[id].removeValue(forKey: key), let old = slots[Int(ref.slot)] else { return nil }
        slots[Int(ref.slot)] = nil
        arrivals[Int(ref.slot)] = 0
        freeSlots.append(ref.slot)
        return (ref, old)
    }

    mutating func markStale(peer id: Int) {
        for ref in tables[id].values { slots[Int(ref.slot)]?.stale = true }
    }

    /// The peer's route keys (only those of stale routes with `onlyStale`), to remove them.
    func keys(peer id: Int, onlyStale: Bool) -> [EVPNRouteKey] {
        tables[id].compactMap { key, ref in !onlyStale || slots[Int(ref.slot)]?.stale == true ? key : nil }
    }
    func count(peer id: Int) -> Int { tables[id].count }
    var count: Int { slots.count - freeSlots.count }

    /// The peer's routes by key (for `show`; builds a dictionary).
    func routes(peer id: Int) -> [EVPNRouteKey: ReceivedRoute] {
        tables[id].compactMapValues { slots[Int($0.slot)] }
    }

    /// Every peer with routes, by name (for `show`).
    var byPeer: [String: [EVPNRouteKey: ReceivedRoute]] {
        var out: [String: [EVPNRouteKey: ReceivedRoute]] = [:]
        for (id, name) in peerNames.enumerated() where !tables[id].isEmpty { out[name] = routes(peer: id) }
        return out
    }
}
