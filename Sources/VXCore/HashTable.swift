/// What `OpenHashTable` needs of a slot type: a free-slot value, the key it matches and the
/// key's hash. The key lives inside the slot (no separate key array): an FDB slot is the
/// `FDBEntry` itself, so a lookup touches one cache line.
@usableFromInline protocol HashSlot {
    associatedtype Key
    /// A free slot.
    static var empty: Self { get }
    var isEmpty: Bool { get }
    /// The key mixed into 64 bits; the table takes the top bits (multiply-shift), so the mix
    /// must reach them. No `Hasher` (SipHash): this runs per packet.
    static func hash(_ key: Key) -> UInt64
    /// `Self.hash` of the key this (occupied) slot holds: backward shift needs it.
    var hash: UInt64 { get }
    func holds(_ key: Key) -> Bool
}

/// `HashSlot.hash` for a 128-bit key (an address), with up to 16 more key bits at the top of
/// `extra` (a bridge domain): multiply, fold, multiply, so that the top bits depend on all of it.
@inlinable @inline(__always)
func hash128(_ hi: UInt64, _ lo: UInt64, extra: UInt64 = 0) -> UInt64 {
    ((hi &* 0x9E37_79B9_7F4A_7C15) ^ lo ^ extra) &* 0xC2B2_AE3D_27D4_EB4F
}

/// The one open-addressing hash table of VXCore: the FDB (`FDB.swift`), the VNI → bridge
/// domain and VTEP address → index maps (`IndexMap.swift`) and the neighbour table
/// (`NeighborTable.swift`) are this table over their own slot type.
///
/// - Linear probing from the home slot `hash >> shift`; a probe run is consecutive slots,
///   wrapping from the last slot to slot 0.
/// - Backward-shift deletion: removing an entry moves later entries of its run back into
///   the hole. No tombstones, so churn never lengthens probes and nothing needs a rehash.
/// - Fixed size, set at `init`: the smallest power of two of slots (at least 8) that keeps
///   `capacity` entries at a load of at most 3/4. Inserts stop at `capacity` exactly.
///   Memory: `MemoryLayout<Slot>.stride × slotCount`, one allocation, none after `init`.
/// - Storage is one buffer behind a class reference, copy-on-write like `Array` but read
///   through a pointer (no bounds check: `& mask` keeps every index inside). Lookups do not
///   mutate, so they cost no uniqueness check; a write checks uniqueness once, as an
///   `Array` write does, so a copy of a table (the owner's and a worker's) never sees the
///   other's writes.
@usableFromInline struct OpenHashTable<Slot: HashSlot> {
    /// Owns the slots; `base` is its pointer, held here so a probe loads it from the table
    /// itself (one load fewer than through the class, no bounds check as `Array` has).
    @usableFromInline var storage: HashTableStorage<Slot>
    @usableFromInline var base: UnsafeMutablePointer<Slot>
    @usableFromInline let mask: Int
    @usableFromInline let shift: UInt64
    @usableFromInline var used = 0
    /// Entries the table holds at most (the capacity asked for).
    @usableFromInline let maxEntries: Int

    /// A table for `capacity` entries.
    @usableFromInline init(capacity: Int) {
        var n = 8
        while n * 3 / 4 < capacity { n *= 2 }
        storage = HashTableStorage(count: n, filling: Slot.empty)
        base = storage.base
        mask = n - 1
        shift = UInt64(64 - n.trailingZeroBitCount)
        maxEntries = Swift.max(1, capacity)
    }

    @inlinable var count: Int { used }
    @inlinable var slotCount: Int { mask &+ 1 }

    @inlinable @inline(__always)
    func home(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> shift) }

    /// The slot at `i` (0 ..< slotCount), empty or not.
    @inlinable subscript(i: Int) -> Slot {
        @inline(__always) unsafeAddress { UnsafePointer(base + i) }
        @inline(__always) mutating unsafeMutableAddress {
            makeUnique()
            return base + i
        }
    }

    /// The slot holding `key`, or nil.
    @inlinable @inline(__always)
    func find(_ key: Slot.Key) -> Int? {
        var i = home(Slot.hash(key))
        while true {
            let s = base[i]
            if s.isEmpty { return nil }
            if s.holds(key) { return i }
            i = (i &+ 1) & mask
        }
    }

    /// Stores `slot`, whose key must be absent; returns where, or nil when the table is full.
    @inlinable mutating func insert(_ slot: Slot) -> Int? {
        guard used < maxEntries else { return nil }
        makeUnique()
        var i = home(slot.hash)
        while !base[i].isEmpty { i = (i &+ 1) & mask }
        base[i] = slot
        used &+= 1
        return i
    }

    /// Frees slot `s`, moving later entries of its probe run back (no tombstones). An entry
    /// from after `s` may now sit at `s`: a scan that removes as it goes looks at `s` again.
    @inlinable mutating func remove(at s: Int) {
        makeUnique()
        used &-= 1
        var hole = s, j = s
        while true {
            j = (j &+ 1) & mask
            if base[j].isEmpty { break }
            let h = home(base[j].hash)
            // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
            let stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j)
            if !stays { base[hole] = base[j]; hole = j }
        }
        base[hole] = Slot.empty
    }

    /// Removes every entry `matches` accepts; returns how many (control plane).
    mutating func removeAll(where matches: (Slot) -> Bool) -> Int {
        var removed = 0, i = 0
        while i <= mask {
            let s = self[i]
            if !s.isEmpty && matches(s) {
                remove(at: i)
                removed += 1
                continue // a later entry may have shifted into slot i
            }
            i += 1
        }
        return removed
    }

    /// The same entries in a table for `capacity` entries (at least `count`).
    func resized(capacity: Int) -> OpenHashTable {
        var bigger = OpenHashTable(capacity: Swift.max(capacity, used))
        for s in self { _ = bigger.insert(s) }
        return bigger
    }

    @inlinable @inline(__always)
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = HashTableStorage(copying: storage)
            base = storage.base
        }
    }
}

/// The occupied slots, in slot order.
extension OpenHashTable: Sequence {
    @usableFromInline struct Iterator: IteratorProtocol {
        @usableFromInline let table: OpenHashTable
        @usableFromInline var i = 0

        @inlinable init(table: OpenHashTable) { self.table = table }

        @inlinable mutating func next() -> Slot? {
            while i <= table.mask {
                let s = table[i]
                i &+= 1
                if !s.isEmpty { return s }
            }
            return nil
        }
    }

    @inlinable func makeIterator() -> Iterator { Iterator(table: self) }
    @inlinable var underestimatedCount: Int { used }
}

// Written only while uniquely referenced (`makeUnique`), read by any number of copies.
extension OpenHashTable: @unchecked Sendable where Slot: Sendable {}

/// The slots of an `OpenHashTable`: one allocation, freed with the last table sharing it.
@usableFromInline final class HashTableStorage<Slot>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Slot>
    @usableFromInline let count: Int

    @usableFromInline init(count: Int, filling: Slot) {
        base = .allocate(capacity: count)
        base.initialize(repeating: filling, count: count)
        self.count = count
    }

    @usableFromInline init(copying other: HashTableStorage) {
        base = .allocate(capacity: other.count)
        base.initialize(from: other.base, count: other.count)
        count = other.count
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }
}
