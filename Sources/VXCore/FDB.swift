/// The forwarding database: one preallocated `OpenHashTable` of `FDBEntry` slots (linear
/// probing, backward-shift deletion, no tombstones; `HashTable.swift`) for all bridge domains,
/// keyed by one UInt64 (bridge-domain index << 48 | MAC), with a one-entry last-lookup cache.
///
/// Feature files: `FDB+Learning.swift` (data-plane learning and moves),
/// `FDB+Aging.swift` (incremental aging), `FDB+Control.swift` (static/EVPN/flush/snapshot).
public struct FDB: Sendable {
    public static let emptyKey = UInt64.max

    @usableFromInline var slots: OpenHashTable<FDBEntry>
    /// Entries stored; inserts stop at `maxEntries`, the capacity asked for (`fdb.max-entries`):
    /// the slots are sized so that is at most 3/4 of them.
    public var count: Int { slots.count }
    public var maxEntries: Int { slots.maxEntries }

    /// Learned entries per bridge domain (counted against `macLimit`).
    @usableFromInline var learnedCount: [UInt32]
    @usableFromInline var macLimit: [UInt32]
    /// Locally learned entries per port (counted against `portLimit`).
    @usableFromInline var portLearned: [UInt32]
    @usableFromInline var portLimit: [UInt32]
    /// VNI of each bridge domain, for events and snapshots.
    @usableFromInline var vniOfBD: [UInt32]

    @usableFromInline var cacheKey = FDB.emptyKey
    @usableFromInline var cacheSlot = 0

    /// Learned entries older than this many seconds are removed by `age(now:budget:)`.
    public var ageLimit: UInt32 = 300
    @usableFromInline var agingCursor = 0

    public var events: FDBEventRing

    /// - Parameters:
    ///   - capacity: entries the table holds; slots are the next power of two ≥ 4/3 of it.
    ///   - bridgeDomains: how many bridge-domain indices exist.
    ///   - ports: how many port ids exist (per-port MAC limits).
    public init(capacity: Int, bridgeDomains: Int, eventCapacity: Int = 4096, ports: Int = 256) {
        // Exactly what was configured, not the slots' 3/4 (up to 50% more): an operator's limit is a limit.
        slots = OpenHashTable(capacity: capacity)
        learnedCount = Array(repeating: 0, count: bridgeDomains)
        macLimit = Array(repeating: .max, count: bridgeDomains)
        vniOfBD = Array(repeating: 0, count: bridgeDomains)
        portLearned = Array(repeating: 0, count: ports)
        portLimit = Array(repeating: .max, count: ports)
        events = FDBEventRing(capacity: eventCapacity)
    }

    /// Slot holding `key`, or nil. Checks the last-lookup cache first.
    @inlinable mutating func find(_ key: UInt64) -> Int? {
        if key == cacheKey, slots[cacheSlot].key == key { return cacheSlot }
        guard let i = slots.find(key) else { return nil }
        cacheKey = key; cacheSlot = i
        return i
    }

    /// Where frames to `mac` in bridge domain `bd` go, or nil (unknown unicast).
    @inlinable public mutating func lookup(bd: UInt16, mac: MACAddress) -> FDBDestination? {
        guard let s = find(FDBEntry.key(bd: bd, mac: mac)) else { return nil }
        return slots[s].destination
    }

    /// The entry stored under `key`, without touching the lookup cache (readers that only
    /// borrow the table: the owner's copy under its lock).
    public func entry(key: UInt64) -> FDBEntry? {
        slots.find(key).map { slots[$0] }
    }

    /// The whole entry, for control and tests.
    public mutating func entry(bd: UInt16, mac: MACAddress) -> FDBEntry? {
        find(FDBEntry.key(bd: bd, mac: mac)).map { slots[$0] }
    }

    /// Stores a new entry (the key must be absent); nil when the table is full.
    @inlinable mutating func insert(_ e: FDBEntry) -> Int? {
        guard let i = slots.insert(e) else { return nil }
        account(e, 1)
        return i
    }

    /// Frees slot `s` (later entries of its probe run shift back into it).
    @inlinable mutating func remove(slot s: Int) {
        account(slots[s], 0 &- 1)
        slots.remove(at: s)
    }

    /// Replaces the entry in slot `s` (same key), keeping the per-domain and per-port learned
    /// counts right: every change of an entry's origin or destination goes through here.
    @inlinable mutating func rewrite(slot s: Int, _ e: FDBEntry) {
        account(slots[s], 0 &- 1)
        slots[s] = e
        account(e, 1)
    }

    /// Adds `delta` (1 or -1 as wrapping UInt32) to the counts `e` is part of: learned entries
    /// per bridge domain, locally learned ones per port.
    @inlinable @inline(__always) mutating func account(_ e: FDBEntry, _ delta: UInt32) {
        guard e.origin.isLearned else { return }
        learnedCount[Int(e.bridgeDomain)] &+= delta
        if e.origin == .localLearned, case .port(let p) = e.destination, Int(p.raw) < portLearned.count {
            portLearned[Int(p.raw)] &+= delta
        }
    }

    @inlinable mutating func emit(_ kind: FDBEvent.Kind, _ e: FDBEntry) {
        events.push(FDBEvent(kind: kind, vni: VNI(unchecked: vniOfBD[Int(e.bridgeDomain)]), mac: e.mac,
                             destination: e.destination, origin: e.origin, sequence: e.sequence,
                             lastSeen: e.lastSeen))
    }

    /// Configures a bridge domain's VNI and MAC limit (nil: unlimited).
    public mutating func configure(bd: UInt16, vni: VNI, macLimit limit: Int?) {
        vniOfBD[Int(bd)] = vni.value
        macLimit[Int(bd)] = limit.map { UInt32(clamping: $0) } ?? .max
    }

    /// Learned entries in a bridge domain.
    public func learnedEntries(bd: UInt16) -> Int { Int(learnedCount[Int(bd)]) }

    /// Sets the most MACs a port may have learned (nil: unlimited).
    public mutating func configure(port: PortID, macLimit limit: Int?) {
        guard Int(port.raw) < portLimit.count else { return }
        portLimit[Int(port.raw)] = limit.map { UInt32(clamping: $0) } ?? .max
    }

    /// Entries learned on a local port.
    public func learnedEntries(port: PortID) -> Int {
        Int(port.raw) < portLearned.count ? Int(portLearned[Int(port.raw)]) : 0
    }
}
