import Foundation
import Glibc
import VXCore
import VXDatapath
import VXTables

/// The XDP fast path's side of the daemon (`datapath.fast-path`). It follows the owner's
/// copy of the tables (never the worker's) as an observer: the owner names each FDB entry
/// that changed, and the `vxsw-fastpath` thread writes those entries, one map write per
/// entry, every 10 ms. A change to anything else (a port, VNI, VTEP, next hop) makes it
/// derive `FastPathTables` from the owner's copy and write the difference. Once a second it
/// folds the last-seen stamps XDP wrote for fast-pathed sources back into the tables
/// (`TableUpdate.refreshLearned`), so a MAC that only talks through the fast path does not age out.
///
/// Between a change in the tables and the thread's next round (≤ 10 ms), XDP may still use
/// the old entry: a MAC that moved keeps receiving at its old place for that long (its own
/// frames from the new place miss in XDP, so the engine sees the move at once). A port
/// leaving the switch is taken out of the maps before it is detached.
final class FastPathState: TableObserver, @unchecked Sendable {
    let maps: FastPathMaps
    /// Guards `written` and `folded` (the fast-path thread and port removal).
    let lock = NSLock()
    var written = FastPathTables()
    var folded: [UInt64: UInt32] = [:]
    var enabled: Bool
    var thread: Thread?
    /// What changed since the thread's last round (guarded by `pendingLock`: the owner of the
    /// tables adds to it under its own lock, so it must never wait for `lock`).
    private let pendingLock = NSLock()
    private var pendingKeys: Set<UInt64> = []
    private var pendingStructural = true

    init(maps: FastPathMaps, enabled: Bool) {
        self.maps = maps
        self.enabled = enabled
    }

    func entriesChanged(_ keys: [UInt64], structural: Bool) {
        pendingLock.withLock {
            pendingKeys.formUnion(keys)
            pendingStructural = pendingStructural || structural
        }
    }

    /// Something the tables do not say changed (a port's interface came or went): derive again.
    func markStructural() { pendingLock.withLock { pendingStructural = true } }

    /// Takes what changed since the last call.
    func takePending() -> (keys: Set<UInt64>, structural: Bool) {
        pendingLock.withLock {
            defer { pendingKeys = []; pendingStructural = false }
            return (pendingKeys, pendingStructural)
        }
    }
}

extension SwitchDaemon {
    static let fastPathInterval: TimeInterval = 0.01

    func startFastPath() {
        guard let fast = fastPath else { return }
        let t = Thread { [weak self] in self?.fastPathLoop(fast) }
        t.name = "vxsw-fastpath"
        fast.thread = t
        t.start()
    }

    /// Turns the fast path off for good (e.g. a port had to fall back to generic XDP, where a
    /// redirected skb keeps CHECKSUM_PARTIAL metadata that no longer matches its bytes).
    func disableFastPath(_ why: String) {
        guard let fast = fastPath else { return }
        fast.lock.lock(); defer { fast.lock.unlock() }
        guard fast.enabled else { return }
        fast.enabled = false
        try? fast.maps.setEnabled(nil)
        log.warning("XDP fast path off: \(why); every frame takes the AF_XDP path")
    }

    private func fastPathLoop(_ fast: FastPathState) {
        runRounds(every: Self.fastPathInterval) { round in
            let (keys, structural) = fast.takePending()
            if structural || round == 1 {
                syncFastPath(fast, force: round == 1)
            } else if !keys.isEmpty {
                writeEntries(keys, fast)
            }
            if round % 100 == 0 { foldLastSeen(fast) }
        }
    }

    /// Writes the fast-path entry of each FDB key that changed, as the owner's copy has it now.
    private func writeEntries(_ keys: Set<UInt64>, _ fast: FastPathState) {
        fast.lock.lock(); defer { fast.lock.unlock() }
        // `fast.written` is read in place, not copied: a copy alive while it is written below
        // would copy the whole mirror once per round.
        let targets: [(UInt64, FastPathTables.Target?)] = tables.read { p in
            keys.map { key in (key, p.fdb.entry(key: key).flatMap { fast.written.target(for: $0) }) }
        }
        let changed = targets.filter { fast.written.fdb[$0.0] != $0.1 }.map { (key: $0.0, target: $0.1) }
        let (failed, firstError) = fast.maps.setFDB(changed)
        let notWritten = Set(failed)
        for e in changed where !notWritten.contains(e.key) { fast.written.fdb[e.key] = e.target }
        if let firstError {
            // A full map (E2BIG) fails every entry after it: one line per round, not per entry.
            log.error("XDP fast path maps: \(failed.count) entries not written (\(firstError)); the engine forwards them")
        }
    }

    /// Interfaces of the switch's ports by id (from their names: ifindexes of live interfaces).
    /// Tap ports on packet sockets are among them: the maps mark them (`FastPathTables.Port.tap`),
    /// XDP redirects to them only bare TCP ACKs from the uplink, the tap path (BPF/lib/tapfast.h)
    /// moves frames between them.
    func portIfindexes() -> [PortID: Int32] {
        lock.lock()
        let names = portNames
        lock.unlock()
        var out: [PortID: Int32] = [:]
        for (id, name) in names {
            let index = if_nametoindex(name)
            if index != 0 { out[id] = Int32(bitPattern: index) }
        }
        return out
    }

    /// Ports the XDP program may redirect into. With `fast-path: auto`, veths are left to the
    /// AF_XDP engine: a veth drops redirected frames unless its peer (in the VM's or container's
    /// namespace, out of our sight) has NAPI — GRO on — or XDP of its own.
    func fastPathPorts() -> [PortID: Int32] {
        let all = portIfindexes()
        guard config.datapath.fastPath == .auto else { return all }
        lock.lock(); defer { lock.unlock() }
        return all.filter { id, _ in
            guard let name = portNames[id] else { return false }
            if let cached = fastPathDriver[name] { return cached != "veth" }
            let driver = InterfaceInfo.driver(name) ?? "unknown"
            fastPathDriver[name] = driver
            if driver == "veth" {
                log.info("\(name) is a veth: the XDP fast path leaves it to the AF_XDP engine (its peer needs GRO on for XDP redirects; set datapath.fast-path: true once it has)")
            }
            return driver != "veth"
        }
    }

    func syncFastPath(_ fast: FastPathState, force: Bool = false) {
        let ifindex = fastPathPorts()
        var tables = self.tables.read { FastPathTables(pipeline: $0, ifindex: ifindex) }
        tables.config.tapUplinkIfindex = portIfindexes()[Self.uplinkID] ?? 0
        tables.config.tapGRO = datapath.tapDelivery != nil
        fast.lock.lock(); defer { fast.lock.unlock() }
        guard force || tables != fast.written else { return }
        write(tables, fast)
    }

    /// Writes `tables` over what the maps hold; call with `fast.lock` held.
    private func write(_ tables: FastPathTables, _ fast: FastPathState) {
        do {
            try fast.maps.apply(from: fast.written, to: tables, enabled: fast.enabled)
            fast.written = tables
        } catch {
            log.error("XDP fast path maps: \(error)")
        }
    }

    /// Takes port `id` out of the fast path now: nothing is redirected to it once this returns.
    func fastPathForget(port id: PortID) {
        guard let fast = fastPath, let index = portIfindexes()[id] else { return }
        fast.lock.lock(); defer { fast.lock.unlock() }
        var tables = fast.written
        tables.ports[index] = nil
        tables.portIndex[id] = nil
        tables.fdb = tables.fdb.filter { $0.value != .port(ifindex: index) }
        write(tables, fast)
    }

    /// Refreshes the FDB's last-seen of learned MACs that sent through the fast path. Only a
    /// refresh at the entry's own place: never a learn or a move (XDP only takes frames whose
    /// source is already known where they came from).
    func foldLastSeen(_ fast: FastPathState) {
        let stamps = fast.maps.lastSeen()
        fast.lock.lock()
        var fresh: [(key: UInt64, stamp: UInt32)] = []
        for (key, stamp) in stamps where stamp != fast.folded[key] { fresh.append((key, stamp)) }
        fast.folded = stamps
        fast.lock.unlock()
        guard !fresh.isEmpty else { return }
        let updates: [TableUpdate] = tables.read { p in
            fresh.map { key, stamp in
                .refreshLearned(p.fdb.vni(ofBD: UInt16(truncatingIfNeeded: key >> 48)), MACAddress(raw: key), stamp: stamp)
            }
        }
        tables.apply(updates)
    }

    /// Empties the maps (the program goes with the links anyway; this keeps a stopped
    /// datapath from redirecting while it tears down).
    func stopFastPath() {
        guard let fast = fastPath else { return }
        fast.lock.lock(); defer { fast.lock.unlock() }
        try? fast.maps.clear(fast.written)
        fast.written = FastPathTables()
    }
}
