/// Per-bridge-domain neighbour table for ARP/ND suppression: (bridge domain, IPv4 or IPv6
/// address) → MAC. Filled by the control plane from EVPN MAC/IP (type-2) routes and read
/// by the local-ingress path to answer ARP requests and neighbour solicitations itself.
///
/// One preallocated `OpenHashTable` (`HashTable.swift`) for all domains, like the FDB, of
/// 24-byte slots keyed by the 144-bit (bridge domain, address): `capacity` entries at most,
/// no growth, no allocation after `init`. Addresses are `IPAddress` values: IPv4 in its
/// v4-mapped form.
public struct NeighborTable: Sendable {
    /// `tag` of a free slot (no bridge domain is 0xFFFF).
    @usableFromInline static let empty = UInt64.max

    @usableFromInline struct Slot: Sendable, HashSlot {
        @usableFromInline var hi: UInt64
        @usableFromInline var lo: UInt64
        /// bridge-domain index << 48 | MAC; `NeighborTable.empty` when free.
        @usableFromInline var tag: UInt64

        @inlinable init(hi: UInt64, lo: UInt64, tag: UInt64) { self.hi = hi; self.lo = lo; self.tag = tag }

        @inlinable var bd: UInt16 { UInt16(truncatingIfNeeded: tag >> 48) }
        @inlinable var mac: MACAddress { MACAddress(raw: tag) }

        @inlinable static var empty: Slot { Slot(hi: 0, lo: 0, tag: NeighborTable.empty) }
        @inlinable var isEmpty: Bool { tag == NeighborTable.empty }
        @inlinable static func hash(_ key: (bd: UInt16, ip: IPAddress)) -> UInt64 {
            hash128(key.ip.hi, key.ip.lo, extra: UInt64(key.bd) << 48)
        }
        @inlinable var hash: UInt64 { Slot.hash((bd, IPAddress(hi: hi, lo: lo))) }
        @inlinable func holds(_ key: (bd: UInt16, ip: IPAddress)) -> Bool {
            lo == key.ip.lo && hi == key.ip.hi && tag >> 48 == UInt64(key.bd)
        }
    }

    @usableFromInline var table: OpenHashTable<Slot>
    public var count: Int { table.count }
    public var maxEntries: Int { table.maxEntries }

    /// A table holding `capacity` entries (slots: the next power of two ≥ 4/3 of it).
    public init(capacity: Int) {
        table = OpenHashTable(capacity: capacity)
    }

    /// The MAC known for `ip` in bridge domain `bd`, or nil.
    @inlinable public func lookup(bd: UInt16, ip: IPAddress) -> MACAddress? {
        guard let i = table.find((bd, ip)) else { return nil }
        return table[i].mac
    }

    /// Stores (or replaces) the MAC for `ip` in `bd`; false when the table is full.
    @discardableResult
    public mutating func set(bd: UInt16, ip: IPAddress, mac: MACAddress) -> Bool {
        let tag = UInt64(bd) << 48 | mac.raw
        if let i = table.find((bd, ip)) { table[i].tag = tag; return true }
        return table.insert(Slot(hi: ip.hi, lo: ip.lo, tag: tag)) != nil
    }

    /// Removes the entry for `ip` in `bd` (only while it maps to `mac`, when given); returns
    /// the MAC it had.
    @discardableResult
    public mutating func remove(bd: UInt16, ip: IPAddress, mac: MACAddress? = nil) -> MACAddress? {
        guard let i = table.find((bd, ip)) else { return nil }
        let old = table[i].mac
        if let mac, mac != old { return nil }
        table.remove(at: i)
        return old
    }

    /// Removes every entry of `bd` (the domain is going away); returns how many.
    @discardableResult
    public mutating func flush(bd: UInt16) -> Int {
        table.removeAll { $0.bd == bd }
    }

    /// Entries per bridge domain, for show commands.
    public func countsByDomain() -> [UInt16: Int] {
        var n: [UInt16: Int] = [:]
        for s in table { n[s.bd, default: 0] += 1 }
        return n
    }

    /// All entries, for show commands and tests (unordered).
    public func entries() -> [(bd: UInt16, ip: IPAddress, mac: MACAddress)] {
        table.map { ($0.bd, IPAddress(hi: $0.hi, lo: $0.lo), $0.mac) }
    }
}
