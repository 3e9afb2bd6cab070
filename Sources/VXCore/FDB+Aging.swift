/// Incremental aging: each call examines at most `budget` slots, continuing where the
/// last call stopped, so the data plane can age a little every batch. An entry is removed only
/// while its `.aged` event fits the event ring; otherwise aging pauses until the owner took
/// the pending ones.
extension FDB {
    /// Removes learned entries not seen for more than `ageLimit` seconds (static and
    /// EVPN entries never age); returns how many were removed.
    @discardableResult
    public mutating func age(now: UInt32, budget: Int) -> Int {
        var removed = 0
        var examined = 0
        while examined < budget {
            examined += 1
            let e = slots[agingCursor]
            if e.key != FDB.emptyKey, e.origin.isLearned, now &- e.lastSeen > ageLimit {
                // No room to report it: the rest waits for the next round (nothing is lost).
                guard events.hasRoom else { break }
                emit(.aged, e)
                remove(slot: agingCursor)
                removed += 1
                continue // an entry may have shifted into this slot
            }
            agingCursor = (agingCursor + 1) & slots.mask
        }
        return removed
    }

    /// Slots in the table: `age(now:budget:)` with this budget covers a whole pass.
    public var slotCount: Int { slots.slotCount }
}
