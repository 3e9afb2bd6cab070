/// A change to the FDB that the control plane cares about: the EVPN speaker turns local
/// learns and moves into type-2 routes and withdraws them on age-out and removal; the owner
/// of the tables keeps its copy of learned entries from them (`.refreshed` carries a learned
/// MAC's last-seen at most once per 16 s, so `show mac` ages are that fresh).
public struct FDBEvent: Sendable, Equatable {
    public enum Kind: UInt8, Sendable { case learned, moved, refreshed, aged, removed }
    public var kind: Kind
    public var vni: VNI
    public var mac: MACAddress
    public var destination: FDBDestination
    public var origin: FDBOrigin
    public var sequence: UInt32
    /// The entry's last-seen tick (learned entries).
    public var lastSeen: UInt32

    public init(kind: Kind, vni: VNI, mac: MACAddress, destination: FDBDestination, origin: FDBOrigin, sequence: UInt32,
                lastSeen: UInt32 = 0) {
        self.kind = kind; self.vni = vni; self.mac = mac
        self.destination = destination; self.origin = origin; self.sequence = sequence; self.lastSeen = lastSeen
    }
}

/// The ring of FDB events a table keeps until they are handed on (a worker's go to the owner's
/// report ring after every batch). Nothing is ever dropped: the data plane learns, moves,
/// ages and announces a refresh only while the ring `hasRoom` (`capacity` events pending), and
/// otherwise leaves the change for a later frame or aging round (`LearnOutcome.deferred`): that
/// is the back-pressure that keeps a MAC flood from losing events. Control changes (flushes,
/// static entries, EVPN moves: between batches) always push; beyond `capacity` the ring grows
/// then — the control path may allocate, the per-packet path never does.
public struct FDBEventRing: Sendable {
    @usableFromInline var buffer: [FDBEvent]
    @usableFromInline var head = 0
    @usableFromInline var used = 0
    public var count: Int { used }
    /// Events the data plane may leave pending before it defers its changes.
    public let capacity: Int
    /// True while the data plane may push (fewer than `capacity` events pending).
    @inlinable public var hasRoom: Bool { used < capacity }

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        buffer = Array(repeating: Self.filler, count: self.capacity)
    }

    static var filler: FDBEvent {
        FDBEvent(kind: .removed, vni: VNI(unchecked: 0), mac: .zero, destination: .port(PortID(0)), origin: .static, sequence: 0)
    }

    @inlinable public mutating func push(_ e: FDBEvent) {
        if used == buffer.count { grow() }
        var tail = head &+ used
        if tail >= buffer.count { tail &-= buffer.count }
        buffer[tail] = e
        used &+= 1
    }

    /// Doubles the buffer, oldest event first (a control change found the ring full).
    @usableFromInline mutating func grow() {
        var bigger: [FDBEvent] = []
        bigger.reserveCapacity(buffer.count * 2)
        for i in 0..<used { bigger.append(buffer[(head + i) % buffer.count]) }
        bigger.append(contentsOf: repeatElement(Self.filler, count: buffer.count * 2 - used))
        buffer = bigger
        head = 0
    }

    /// The oldest event, left in the ring.
    public func peek() -> FDBEvent? { used > 0 ? buffer[head] : nil }

    public mutating func pop() -> FDBEvent? {
        guard count > 0 else { return nil }
        let e = buffer[head]
        head += 1
        if head == buffer.count { head = 0 }
        used -= 1
        return e
    }

    /// Takes up to `max` events, oldest first.
    public mutating func drain(max: Int = .max) -> [FDBEvent] {
        var out: [FDBEvent] = []
        out.reserveCapacity(Swift.min(count, max))
        while out.count < max, let e = pop() { out.append(e) }
        return out
    }
}
