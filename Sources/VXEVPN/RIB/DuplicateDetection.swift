import VXCore

/// Duplicate address detection as FRR's zebra does it (`dup-addr-detection max-moves N time M
/// [freeze permanent|SECONDS]`), per key: one detector per (VNI, MAC) (`DuplicateDetector`) and
/// one per (VNI, IP) (`DuplicateIPDetector`, FRR's per-neighbour detection), the same counting.
/// Pure: the RIB drives it with its clock.
///
/// ```
///  local learn of an address a remote VTEP has (remote → local)   remote route takes a local one (local → remote)
///        │ window over (or count 0): count = 0, start = now        │ only once a local learn started the window
///        ▼ count += 1                                              ▼ window over: count = 0; else count += 1
///                     count ≥ max-moves → duplicate (logged, shown, `isDuplicate`)
///                     with freeze: no advertisement, no installation for the MAC until
///                     `clear evpn dup-addr` or the freeze time (then counting starts again)
/// ```
///
/// As in FRR, a change of remote VTEP or sequence alone is no move, and the window (RFC 7432
/// §15.1's M seconds) starts at a local learn: a VTEP only counts moves it takes part in.
public struct MoveDetector<Key: Hashable & Comparable & Sendable>: Sendable {
    public let config: DuplicateAddressDetectionConfig

    public struct State: Sendable, Equatable {
        /// Moves in the current window (FRR's `detectionCount`).
        public var count = 0
        /// When the window started (a local learn); nil: no window yet.
        public var startedAt: Double?
        /// When the MAC was found duplicate; nil: it is not.
        public var detectedAt: Double?
    }

    public private(set) var states: [Key: State] = [:]

    public init(config: DuplicateAddressDetectionConfig) { self.config = config }

    public enum Outcome: Equatable, Sendable {
        /// Not a duplicate (or detection is off).
        case counted
        /// This move made it a duplicate, after `moves` moves.
        case detected(moves: Int)
        /// It was a duplicate already.
        case duplicate
    }

    /// Records a move of `k` at `now`: `local` for a local learn of a MAC that was remote,
    /// otherwise a remote route taking over a local MAC.
    public mutating func recordMove(_ k: Key, local: Bool, now: Double) -> Outcome {
        guard config.enabled else { return .counted }
        var s = states[k] ?? State()
        if s.detectedAt != nil { return .duplicate }
        let windowOver = s.startedAt.map { now - $0 > config.seconds } ?? true
        if local {
            if windowOver || s.count == 0 { s.count = 0; s.startedAt = now }
            s.count += 1
        } else {
            // A remote move counts only inside a window a local learn opened.
            guard s.count > 0 else { return .counted }
            if windowOver { s.count = 0; s.startedAt = nil } else { s.count += 1 }
        }
        if s.count >= config.maxMoves {
            s.detectedAt = now
            states[k] = s
            return .detected(moves: s.count)
        }
        states[k] = s.count == 0 && s.startedAt == nil ? nil : s
        return .counted
    }

    public func isDuplicate(_ k: Key) -> Bool { states[k]?.detectedAt != nil }
    /// Duplicate and frozen: neither advertised nor installed.
    public func isFrozen(_ k: Key) -> Bool { config.freeze != .off && isDuplicate(k) }
    public func count(_ k: Key) -> Int { states[k]?.count ?? 0 }
    public var duplicates: [Key] { states.filter { $0.value.detectedAt != nil }.map(\.key).sorted() }

    /// When the freeze of `k` ends on its own (`freeze: SECONDS`); nil for none or permanent.
    public func recoveryTime(_ k: Key) -> Double? {
        guard case .seconds(let n) = config.freeze, let t = states[k]?.detectedAt else { return nil }
        return t + Double(n)
    }

    /// Forgets `k`'s moves and duplicate state (FRR: `clear evpn dup-addr`, or the freeze time
    /// passed); true when it was a duplicate.
    @discardableResult
    public mutating func clear(_ k: Key) -> Bool {
        states.removeValue(forKey: k)?.detectedAt != nil
    }

    /// The duplicates whose freeze time has passed at `now`.
    public func recovered(at now: Double) -> [Key] {
        duplicates.filter { recoveryTime($0).map { $0 <= now } ?? false }
    }
}

/// Moves of a MAC between VTEPs (FRR's per-MAC `dup-addr-detection`).
public typealias DuplicateDetector = MoveDetector<VNIMAC>
/// Moves of an IP between MACs/VTEPs (FRR's per-neighbour `dup-addr-detection`).
public typealias DuplicateIPDetector = MoveDetector<VNIIP>
