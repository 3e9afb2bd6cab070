/// Per-bridge-domain neighbour table for ARP/ND suppression: (bridge domain, IPv4 or IPv6
/// address) → MAC. Filled by the control plane from EVPN MAC/IP (type-2) routes and read
/// by the local-ingress path to answer ARP requests and neighbour solicitations itself.
///
/// One preallocated open-addressing table for all domains, like the FDB: linear probing,
/// backward-shift deletion (no tombstones), multiply-shift hashing of the 144-bit key, a
/// fixed number of slots (inserts stop at a load factor of 3/4; no growth, no allocation
/// after `init`). Addresses are `IPAddress` values: IPv4 in its v4-mapped form.
public struct NeighborTable: Sendable {
    /// `tag` of a free slot (no bridge domain is 0xFFFF).
    @usableFromInline static let empty = UInt64.max

    @usableFromInline struct Slot: Sendable {
        @usableFromInline var hi: UInt64
        @usableFromInline var lo: UInt64
        /// bridge-domain index << 48 | MAC; `NeighborTable.empty` when free.
        @usableFromInline var tag: UInt64
    }

    @usableFromInline var slots: [Slot]
    @usableFromInline let mask: Int
    @usableFromInline let shift: UInt64
    public private(set) var count = 0
    public let maxEntries: Int

    /// A table holding `capacity` entries (slots: the next power of two ≥ 4/3 of it).
    public init(capacity: Int) {
        var n = 16
        while n * 3 / 4 < capacity { n *= 2 }
        slots = Array(repeating: Slot(hi: 0, lo: 0, tag: NeighborTable.empty), count: n)
        mask = n - 1
        shift = UInt64(64 - n.trailingZeroBitCount)
        maxEntries = n * 3 / 4
    }

    @inlinable @inline(__always)
    func home(_ bd: UInt16, _ ip: IPAddress) -> Int {
        let h = ((ip.hi &* 0x9E37_79B9_7F4A_7C15) ^ ip.lo ^ UInt64(bd) << 48) &* 0xC2B2_AE3D_27D4_EB4F
        return Int(truncatingIfNeeded: h >> shift)
    }

    @inlinable @inline(__always)
    static func matches(_ s: Slot, _ bd: UInt16, _ ip: IPAddress) -> Bool {
        s.lo == ip.lo && s.hi == ip.hi && s.tag >> 48 == UInt64(bd)
    }

    /// The MAC known for `ip` in bridge domain `bd`, or nil.
    @inlinable public func lookup(bd: UInt16, ip: IPAddress) -> MACAddress? {
        var i = home(bd, ip)
        while true {
            let s = slots[i]
            if s.tag == NeighborTable.empty { return nil }
            if NeighborTable.matches(s, bd, ip) { return MACAddress(raw: s.tag & 0xFFFF_FFFF_FFFF) }
            i = (i &+ 1) & mask
        }
    }

    func slot(bd: UInt16, ip: IPAddress) -> Int? {
        var i = home(bd, ip)
        while slots[i].tag != NeighborTable.empty {
            if NeighborTable.matches(slots[i], bd, ip) { return i }
            i = (i &+ 1) & mask
        }
        return nil
    }

    /// Stores (or replaces) the MAC for `ip` in `bd`; false when the table is full.
    @discardableResult
    public mutating func set(bd: UInt16, ip: IPAddress, mac: MACAddress) -> Bool {
        let tag = UInt64(bd) << 48 | mac.raw
        if let i = slot(bd: bd, ip: ip) { slots[i].tag = tag; return true }
        guard count < maxEntries else { return false }
        var i = home(bd, ip)
        while slots[i].tag != NeighborTable.empty { i = (i &+ 1) & mask }
        slots[i] = Slot(hi: ip.hi, lo: ip.lo, tag: tag)
        count += 1
        return true
    }

    /// Removes the entry for `ip` in `bd` (only while it maps to `mac`, when given); returns
    /// the MAC it had.
    @discardableResult
    public mutating func remove(bd: UInt16, ip: IPAddress, mac: MACAddress? = nil) -> MACAddress? {
        guard let s = slot(bd: bd, ip: ip) else { return nil }
        let old = MACAddress(raw: slots[s].tag & 0xFFFF_FFFF_FFFF)
        if let mac, mac != old { return nil }
        remove(slot: s)
        return old
    }

    /// Removes every entry of `bd` (the domain is going away); returns how many.
    @discardableResult
    public mutating func flush(bd: UInt16) -> Int {
        var n = 0, i = 0
        while i < slots.count {
            // Backward shift may move a later entry into slot i: look at it again.
            if slots[i].tag != NeighborTable.empty && slots[i].tag >> 48 == UInt64(bd) {
                remove(slot: i); n += 1
            } else {
                i += 1
            }
        }
        return n
    }

    mutating func remove(slot s: Int) {
        count -= 1
        var hole = s, j = s
        while true {
            j = (j &+ 1) & mask
            if slots[j].tag == NeighborTable.empty { break }
            let h = home(UInt16(truncatingIfNeeded: slots[j].tag >> 48), IPAddress(hi: slots[j].hi, lo: slots[j].lo))
            // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
            let stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j)
            if !stays { slots[hole] = slots[j]; hole = j }
        }
        slots[hole].tag = NeighborTable.empty
    }

    /// Entries per bridge domain, for show commands.
    public func countsByDomain() -> [UInt16: Int] {
        var n: [UInt16: Int] = [:]
        for s in slots where s.tag != NeighborTable.empty { n[UInt16(truncatingIfNeeded: s.tag >> 48), default: 0] += 1 }
        return n
    }

    /// All entries, for show commands and tests (unordered).
    public func entries() -> [(bd: UInt16, ip: IPAddress, mac: MACAddress)] {
        slots.filter { $0.tag != NeighborTable.empty }.map {
            (UInt16(truncatingIfNeeded: $0.tag >> 48), IPAddress(hi: $0.hi, lo: $0.lo), MACAddress(raw: $0.tag & 0xFFFF_FFFF_FFFF))
        }
    }
}
