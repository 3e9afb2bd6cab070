/// Map from a 128-bit key to a dense UInt16 index: VNI → bridge-domain index, VTEP address →
/// VTEP index. An `OpenHashTable` (`HashTable.swift`) of 24-byte slots: no `Hasher` (SipHash)
/// on the per-packet path, and lookups do not mutate, so they cost no uniqueness check.
/// Inserts may grow the table (control plane only, between batches: the owner sizes it for
/// what it usually holds and never holds more than its own capacity).
public struct IndexMap: Sendable {
    @usableFromInline static let empty = UInt16.max

    @usableFromInline struct Slot: Sendable, HashSlot {
        @usableFromInline var hi: UInt64
        @usableFromInline var lo: UInt64
        /// `IndexMap.empty` marks a free slot.
        @usableFromInline var value: UInt16

        @inlinable init(hi: UInt64, lo: UInt64, value: UInt16) { self.hi = hi; self.lo = lo; self.value = value }

        @inlinable static var empty: Slot { Slot(hi: 0, lo: 0, value: IndexMap.empty) }
        @inlinable var isEmpty: Bool { value == IndexMap.empty }
        @inlinable static func hash(_ key: (hi: UInt64, lo: UInt64)) -> UInt64 { hash128(key.hi, key.lo) }
        @inlinable var hash: UInt64 { Slot.hash((hi, lo)) }
        @inlinable func holds(_ key: (hi: UInt64, lo: UInt64)) -> Bool { lo == key.lo && hi == key.hi }
    }

    @usableFromInline var table: OpenHashTable<Slot>
    public var count: Int { table.count }

    /// A map for `capacity` keys without growing (it grows past that if needed).
    public init(capacity: Int = 8) {
        table = OpenHashTable(capacity: capacity)
    }

    /// The index stored for the key, or nil.
    @inlinable public func value(hi: UInt64, lo: UInt64) -> UInt16? {
        guard let i = table.find((hi, lo)) else { return nil }
        return table[i].value
    }

    /// Stores `value` (< UInt16.max) for the key, replacing any earlier one.
    public mutating func set(hi: UInt64, lo: UInt64, _ value: UInt16) {
        precondition(value != IndexMap.empty, "IndexMap values are below UInt16.max")
        if let i = table.find((hi, lo)) { table[i].value = value; return }
        if table.count == table.maxEntries { table = table.resized(capacity: 2 * table.maxEntries) }
        _ = table.insert(Slot(hi: hi, lo: lo, value: value))
    }

    /// Removes the key; returns the index it had.
    @discardableResult
    public mutating func remove(hi: UInt64, lo: UInt64) -> UInt16? {
        guard let i = table.find((hi, lo)) else { return nil }
        let old = table[i].value
        table.remove(at: i)
        return old
    }

    /// Slots in the table (`MemoryLayout<Slot>.stride` = 24 bytes each).
    public var slotCount: Int { table.slotCount }
}
