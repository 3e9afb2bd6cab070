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

/// Fixed-capacity ring of FDB events. The data plane pushes (no allocation); the control
/// plane drains. When full, new events are dropped and counted in `overflows` — the
/// control plane should then resynchronise from `FDB.snapshot`.
public struct FDBEventRing: Sendable {
    @usableFromInline var buffer: [FDBEvent]
    @usableFromInline var head = 0
    @usableFromInline var used = 0
    @usableFromInline var lost: UInt64 = 0
    public var count: Int { used }
    /// Events dropped because the ring was full.
    public var overflows: UInt64 { lost }
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        let filler = FDBEvent(kind: .removed, vni: VNI(unchecked: 0), mac: .zero, destination: .port(PortID(0)),
                              origin: .static, sequence: 0)
        buffer = Array(repeating: filler, count: self.capacity)
    }

    @inlinable public mutating func push(_ e: FDBEvent) {
        guard used < capacity else { lost &+= 1; return }
        var tail = head &+ used
        if tail >= capacity { tail &-= capacity }
        buffer[tail] = e
        used &+= 1
    }

    public mutating func pop() -> FDBEvent? {
        guard count > 0 else { return nil }
        let e = buffer[head]
        head += 1
        if head == capacity { head = 0 }
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
