/// Where an FDB entry sends frames: a local port, or a remote VTEP (index into `VTEPTable`).
public enum FDBDestination: Hashable, Sendable, CustomStringConvertible {
    case port(PortID)
    case vtep(UInt16)

    public var description: String {
        switch self {
        case .port(let p): return "port \(p)"
        case .vtep(let v): return "vtep \(v)"
        }
    }
}

/// Who put an entry in the FDB. Learned entries age; static and EVPN entries do not.
public enum FDBOrigin: UInt8, Sendable, CustomStringConvertible {
    case localLearned, remoteLearned, evpn, `static`

    @inlinable public var isLearned: Bool { self == .localLearned || self == .remoteLearned }

    public var description: String {
        switch self {
        case .localLearned: return "local"
        case .remoteLearned: return "remote"
        case .evpn: return "evpn"
        case .static: return "static"
        }
    }
}

/// One FDB slot. `key` is (bridge-domain index << 48 | MAC); `FDB.emptyKey` marks a free slot.
public struct FDBEntry: Sendable {
    public var key: UInt64
    public var destination: FDBDestination
    public var origin: FDBOrigin
    /// A sticky entry never moves by learning (EVPN "sticky MAC").
    public var sticky: Bool
    /// Seconds tick of the last frame seen from this MAC (learned entries).
    public var lastSeen: UInt32
    /// EVPN MAC Mobility sequence number (RFC 7432 §15).
    public var sequence: UInt32

    @inlinable public init(key: UInt64, destination: FDBDestination, origin: FDBOrigin, sticky: Bool,
                           lastSeen: UInt32, sequence: UInt32) {
        self.key = key; self.destination = destination; self.origin = origin
        self.sticky = sticky; self.lastSeen = lastSeen; self.sequence = sequence
    }

    @inlinable public var bridgeDomain: UInt16 { UInt16(truncatingIfNeeded: key >> 48) }
    @inlinable public var mac: MACAddress { MACAddress(raw: key) }

    @inlinable public static func key(bd: UInt16, mac: MACAddress) -> UInt64 { UInt64(bd) << 48 | mac.raw }
}

/// An FDB slot is the entry itself (24 bytes), keyed by `key`.
extension FDBEntry: HashSlot {
    @inlinable static var empty: FDBEntry {
        FDBEntry(key: FDB.emptyKey, destination: .port(PortID(UInt16(0))), origin: .static, sticky: false,
                 lastSeen: 0, sequence: 0)
    }
    @inlinable var isEmpty: Bool { key == FDB.emptyKey }
    @inlinable static func hash(_ key: UInt64) -> UInt64 { key &* 0x9E37_79B9_7F4A_7C15 }
    @inlinable var hash: UInt64 { FDBEntry.hash(key) }
    @inlinable func holds(_ key: UInt64) -> Bool { self.key == key }
}

/// How many entries a bridge domain has: by origin, and by where they point.
public struct FDBCounts: Sendable, Equatable {
    public var byOrigin: [FDBOrigin: Int] = [:]
    /// Toward local ports (learned or static).
    public var local = 0
    /// Toward remote VTEPs (learned, EVPN or static).
    public var remote = 0
    public init() {}
}

/// What a learn did, for counters and tests.
public enum LearnOutcome: Equatable, Sendable {
    case refreshed   // known at the same place: last-seen updated
    case learned     // new entry
    case moved       // overwritten at a new place (event)
    case kept        // static, sticky or EVPN entry left as it is
    case limited     // per-VNI MAC limit reached: not learned (frame still forwarded)
    case portLimited // the port's MAC limit reached: not learned or moved there (frame still forwarded)
    case full        // table full (`fdb.max-entries`): not learned (frame still forwarded)
    case deferred    // the event ring is full (the owner has not taken the last ones yet): not
                     // learned or moved now, the next frame tries again (frame still forwarded)
}
