/// Open-addressing map from a 128-bit key to a dense UInt16 index: VNI → bridge-domain
/// index, VTEP address → VTEP index. Linear probing, backward-shift deletion (no
/// tombstones), multiply-shift hashing — no `Hasher` (SipHash) on the per-packet path,
/// and lookups do not mutate, so they cost no uniqueness check. Inserts may grow the
/// table (control plane only, between batches); the load factor stays at most 1/2.
public struct IndexMap: Sendable {
    @usableFromInline static let empty = UInt16.max

    @usableFromInline struct Slot: Sendable {
        @usableFromInline var hi: UInt64
        @usableFromInline var lo: UInt64
        /// `IndexMap.empty` marks a free slot.
        @usableFromInline var value: UInt16
    }

    @usableFromInline var slots: [Slot]
    @usableFromInline var mask: Int
    @usableFromInline var shift: UInt64
    public private(set) var count = 0

    /// A map for about `capacity` keys (it grows past that if needed).
    public init(capacity: Int = 8) {
        var n = 16
        while n < 2 * capacity { n *= 2 }
        slots = Array(repeating: Slot(hi: 0, lo: 0, value: IndexMap.empty), count: n)
        mask = n - 1
        shift = UInt64(64 - n.trailingZeroBitCount)
    }

    @inlinable @inline(__always)
    func home(_ hi: UInt64, _ lo: UInt64) -> Int {
        let h = (hi &* 0x9E37_79B9_7F4A_7C15 ^ lo) &* 0xC2B2_AE3D_27D4_EB4F
        return Int(truncatingIfNeeded: h >> shift)
    }

    /// The index stored for the key, or nil.
    @inlinable public func value(hi: UInt64, lo: UInt64) -> UInt16? {
        var i = home(hi, lo)
        while true {
            let s = slots[i]
            if s.value == IndexMap.empty { return nil }
            if s.lo == lo && s.hi == hi { return s.value }
            i = (i &+ 1) & mask
        }
    }

    /// Stores `value` (< UInt16.max) for the key, replacing any earlier one.
    public mutating func set(hi: UInt64, lo: UInt64, _ value: UInt16) {
        precondition(value != IndexMap.empty, "IndexMap values are below UInt16.max")
        if let i = slot(hi: hi, lo: lo) { slots[i].value = value; return }
        if 2 * (count + 1) > slots.count { grow() }
        var i = home(hi, lo)
        while slots[i].value != IndexMap.empty { i = (i &+ 1) & mask }
        slots[i] = Slot(hi: hi, lo: lo, value: value)
        count += 1
    }

    /// Removes the key; returns the index it had.
    @discardableResult
    public mutating func remove(hi: UInt64, lo: UInt64) -> UInt16? {
        guard let s = slot(hi: hi, lo: lo) else { return nil }
        let old = slots[s].value
        count -= 1
        var hole = s, j = s
        while true {
            j = (j &+ 1) & mask
            if slots[j].value == IndexMap.empty { break }
            let h = home(slots[j].hi, slots[j].lo)
            // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
            let stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j)
            if !stays { slots[hole] = slots[j]; hole = j }
        }
        slots[hole].value = IndexMap.empty
        return old
    }

    func slot(hi: UInt64, lo: UInt64) -> Int? {
        var i = home(hi, lo)
        while slots[i].value != IndexMap.empty {
            if slots[i].lo == lo && slots[i].hi == hi { return i }
            i = (i &+ 1) & mask
        }
        return nil
    }

    mutating func grow() {
        let old = slots
        var bigger = IndexMap(capacity: slots.count)
        for s in old where s.value != IndexMap.empty { bigger.set(hi: s.hi, lo: s.lo, s.value) }
        self = bigger
    }
}
