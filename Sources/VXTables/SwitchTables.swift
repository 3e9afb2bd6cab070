import Foundation
import VXCore

/// Something that keeps a copy of the tables in step with the owner: a worker (through its
/// job ring), later the XDP fast-path maps. Called with the owner's lock held, so every
/// subscriber sees the updates in the order the owner applied them: keep it short (post to
/// a ring).
public protocol TableSubscriber: AnyObject {
    func tablesChanged(_ updates: [TableUpdate])
    /// Returns once everything handed over so far has been applied (read-your-writes for a
    /// CLI command). Called without the owner's lock.
    func waitUntilApplied()
}

/// The owner of the switch tables: the control plane's copy, the one every control change
/// goes through. Config, `port`/`fdb` commands, EVPN routes and the VTEP resolver call
/// `apply`; the owner changes its own copy first (which also says whether the change is
/// possible) and passes what succeeded to its subscribers. Workers learn MACs on their own
/// and report them back (`absorb`), so the owner's copy holds every entry a worker holds,
/// a few milliseconds later. `show` and metrics read the owner's copy (`read`) and never
/// stop a worker.
public final class SwitchTables: @unchecked Sendable {
    private var tables: SwitchPipeline
    private let lock = NSLock()
    private var subscribers: [TableSubscriber] = []
    private var observers: [TableObserver] = []
    private var rejectedCount: UInt64 = 0
    /// MACs learned, aged out and moved per VNI, from the workers' reports (the metrics' counters).
    private var changeCounts: [VNI: FDBChangeCounts] = [:]

    /// `tables` is the owner's starting copy (normally empty; fill it through `apply` so the
    /// subscribers get the same updates).
    public init(_ tables: SwitchPipeline) {
        self.tables = tables
    }

    public func subscribe(_ subscriber: TableSubscriber) {
        lock.withLock { subscribers.append(subscriber) }
    }

    public func observe(_ observer: TableObserver) {
        lock.withLock { observers.append(observer) }
    }

    /// Updates that could not be applied (VNI not configured, table full, nothing to remove).
    public var rejected: UInt64 { lock.withLock { rejectedCount } }

    /// Applies `updates` in order to the owner's copy and hands those that succeeded to every
    /// subscriber; with `wait`, returns once the subscribers have applied them. Returns
    /// whether each succeeded.
    @discardableResult
    public func apply(_ update: TableUpdate, wait: Bool = false) -> Bool {
        apply([update], wait: wait)[0]
    }

    /// Applies `updates` in order to the owner's copy and hands those that succeeded to every
    /// subscriber; with `wait`, returns once the subscribers have applied them. Returns whether
    /// each succeeded.
    @discardableResult
    public func apply(_ updates: [TableUpdate], wait: Bool = false) -> [Bool] {
        let (results, notified) = lock.withLock { () -> ([Bool], [TableSubscriber]) in
            let vtepGeneration = tables.vteps.generation
            var ok: [Bool] = []
            var passed: [TableUpdate] = []
            for u in updates {
                let done = tables.apply(u)
                ok.append(done)
                if done { passed.append(u) } else { rejectedCount &+= 1 }
            }
            while tables.fdb.events.pop() != nil {}
            if !passed.isEmpty {
                for s in subscribers { s.tablesChanged(passed) }
                notifyObservers(passed, vtepsChanged: tables.vteps.generation != vtepGeneration)
            }
            return (ok, passed.isEmpty ? [] : subscribers)
        }
        if wait { for s in notified { s.waitUntilApplied() } }
        return results
    }

    /// Takes workers' reports into the owner's copy: learned, moved, refreshed, aged and
    /// removed MACs; a VTEP that remote learning saw is added for everyone (`.addVTEP`).
    /// With several subscribers (a worker per queue), each also gets what the owner took
    /// (`.learned`), the worker that learned it too: every copy then ends in the owner's order,
    /// whichever worker saw a move first.
    public func absorb(_ reports: [DataplaneReport]) {
        var follow: [TableUpdate] = []
        lock.withLock {
            var keys: [UInt64] = []
            var fanOut: [TableUpdate] = []
            for r in reports {
                if let u = tables.absorb(r), !follow.contains(u) { follow.append(u) }
                if case .fdb(let e) = r { changeCounts[e.vni, default: FDBChangeCounts()].count(e.kind) }
                if case .fdb(let e) = r, e.origin.isLearned, let bd = tables.bridgeDomains.index(of: e.vni) {
                    if subscribers.count > 1 { fanOut.append(.learned(e)) }
                    if e.kind != .refreshed { keys.append(FDBEntry.key(bd: bd, mac: e.mac)) }
                }
            }
            if !fanOut.isEmpty { for s in subscribers { s.tablesChanged(fanOut) } }
            if !keys.isEmpty { for o in observers { o.entriesChanged(keys, structural: false) } }
        }
        if !follow.isEmpty { apply(follow) }
    }

    /// Tells observers what `passed` changed (call with the lock held, after applying).
    private func notifyObservers(_ passed: [TableUpdate], vtepsChanged: Bool) {
        guard !observers.isEmpty else { return }
        var keys: [UInt64] = []
        // A MAC install toward a VTEP not seen before creates it: structural too.
        var structural = vtepsChanged
        for u in passed where !u.leavesFastPathAlone {
            if let (vni, mac) = u.fdbEntry, let bd = tables.bridgeDomains.index(of: vni) {
                keys.append(FDBEntry.key(bd: bd, mac: mac))
            } else {
                structural = true
            }
        }
        guard structural || !keys.isEmpty else { return }
        for o in observers { o.entriesChanged(keys, structural: structural) }
    }

    /// MACs learned, aged out and moved so far, per VNI (only VNIs that had any).
    public var fdbChangeCounts: [VNI: FDBChangeCounts] { lock.withLock { changeCounts } }

    /// Reads the owner's copy under its lock (never a worker's): keep `body` to copying out
    /// what it needs; control changes wait meanwhile, forwarding does not.
    public func read<T>(_ body: (SwitchPipeline) -> T) -> T {
        lock.withLock { body(tables) }
    }
}

/// What the workers reported for one VNI's FDB: sources learned, entries aged out, MACs that moved
/// (to another port or VTEP).
public struct FDBChangeCounts: Sendable, Equatable {
    public var learned: UInt64 = 0
    public var aged: UInt64 = 0
    public var moved: UInt64 = 0

    public init() {}

    mutating func count(_ kind: FDBEvent.Kind) {
        switch kind {
        case .learned: learned &+= 1
        case .aged: aged &+= 1
        case .moved: moved &+= 1
        case .refreshed, .removed: break
        }
    }
}
