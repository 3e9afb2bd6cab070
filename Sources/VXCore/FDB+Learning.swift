/// Data-plane learning. Rules (ARCHITECTURE.md, "Data plane rules"):
/// - never silently overwrite a static or sticky entry;
/// - a local learn of a MAC known as EVPN remote or remote-learned is a move (event, and
///   the MAC Mobility sequence goes up so the speaker advertises it above the remote);
/// - a remote (flood-and-learn) learn never overwrites static or EVPN entries;
/// - beyond the per-VNI MAC limit, unknown sources are not learned.
extension FDB {
    @inlinable public mutating func learnLocal(bd: UInt16, mac: MACAddress, port: PortID, now: UInt32) -> LearnOutcome {
        learn(bd: bd, mac: mac, destination: .port(port), origin: .localLearned, now: now)
    }

    @inlinable public mutating func learnRemote(bd: UInt16, mac: MACAddress, vtep: UInt16, now: UInt32) -> LearnOutcome {
        learn(bd: bd, mac: mac, destination: .vtep(vtep), origin: .remoteLearned, now: now)
    }

    @inlinable mutating func learn(bd: UInt16, mac: MACAddress, destination: FDBDestination, origin: FDBOrigin,
                                   now: UInt32) -> LearnOutcome {
        let key = FDBEntry.key(bd: bd, mac: mac)
        guard let s = find(key) else {
            guard learnedCount[Int(bd)] < macLimit[Int(bd)] else { return .limited }
            let e = FDBEntry(key: key, destination: destination, origin: origin, sticky: false, lastSeen: now, sequence: 0)
            guard insert(e) != nil else { return .full }
            emit(.learned, e)
            return .learned
        }
        let old = slots[s]
        if old.destination == destination && old.origin == origin {
            // Written once per second tick, not per frame: a write is a copy-on-write check.
            guard old.lastSeen != now else { return .refreshed }
            slots[s].lastSeen = now
            // The owner's copy learns the new stamp once per 16-second epoch, not per frame.
            if (old.lastSeen ^ now) >> 4 != 0 { emit(.refreshed, slots[s]) }
            return .refreshed
        }
        if old.sticky || old.origin == .static { return .kept }
        if origin == .remoteLearned && old.origin == .evpn { return .kept }
        // A move. Going from remote to local bumps the mobility sequence.
        slots[s].destination = destination
        slots[s].lastSeen = now
        if origin == .localLearned && old.origin != .localLearned { slots[s].sequence = old.sequence &+ 1 }
        setOrigin(slot: s, origin)
        emit(.moved, slots[s])
        return .moved
    }
}
