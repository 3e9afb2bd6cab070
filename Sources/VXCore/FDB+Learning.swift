/// Data-plane learning. Rules (ARCHITECTURE.md, "Data plane rules"):
/// - never silently overwrite a static or sticky entry;
/// - a local learn of a MAC known as EVPN remote or remote-learned is a move (event, and
///   the MAC Mobility sequence goes up so the speaker advertises it above the remote);
/// - a remote (flood-and-learn) learn never overwrites static or EVPN entries;
/// - beyond the per-VNI MAC limit, unknown sources are not learned; nor beyond the port's
///   limit (`configure(port:macLimit:)`), which a move onto the port also counts against;
/// - the table holds `maxEntries` exactly (`.full` beyond);
/// - nothing is learned, moved or refreshed that cannot be reported: while the event ring has
///   no room (the owner's report ring is full) the change waits for the source's next frame
///   (`.deferred`). The frame itself is forwarded in every case, as a bridge does.
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
            guard underPortLimit(destination, origin) else { return .portLimited }
            guard events.hasRoom else { return .deferred }
            let e = FDBEntry(key: key, destination: destination, origin: origin, sticky: false, lastSeen: now, sequence: 0)
            guard insert(e) != nil else { return .full }
            emit(.learned, e)
            return .learned
        }
        let old = slots[s]
        if old.destination == destination && old.origin == origin {
            // Written once per second tick, not per frame: a write is a copy-on-write check.
            guard old.lastSeen != now else { return .refreshed }
            // The owner's copy learns the new stamp once per 16-second epoch, not per frame;
            // with no room to say so the stamp waits for a later frame.
            if (old.lastSeen ^ now) >> 4 != 0 {
                guard events.hasRoom else { return .refreshed }
                slots[s].lastSeen = now
                emit(.refreshed, slots[s])
            } else {
                slots[s].lastSeen = now
            }
            return .refreshed
        }
        if old.sticky || old.origin == .static { return .kept }
        if origin == .remoteLearned && old.origin == .evpn { return .kept }
        guard underPortLimit(destination, origin) else { return .portLimited }
        guard events.hasRoom else { return .deferred }
        // A move. Going from remote to local bumps the mobility sequence.
        var e = old
        e.destination = destination
        e.lastSeen = now
        e.origin = origin
        if origin == .localLearned && old.origin != .localLearned { e.sequence = old.sequence &+ 1 }
        rewrite(slot: s, e)
        emit(.moved, e)
        return .moved
    }

    /// A local learn onto a port that has room under its MAC limit (remote learns: always).
    @inlinable @inline(__always)
    func underPortLimit(_ destination: FDBDestination, _ origin: FDBOrigin) -> Bool {
        guard origin == .localLearned, case .port(let p) = destination, Int(p.raw) < portLimit.count else { return true }
        return portLearned[Int(p.raw)] < portLimit[Int(p.raw)]
    }
}
