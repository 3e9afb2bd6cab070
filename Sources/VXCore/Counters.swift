/// Packet and byte counters of a port or a VNI.
public struct TrafficCounters: Sendable, Equatable {
    public var rxPackets: UInt64 = 0
    public var rxBytes: UInt64 = 0
    public var txPackets: UInt64 = 0
    public var txBytes: UInt64 = 0
    /// BUM frames flooded (VNI counters).
    public var floods: UInt64 = 0
    /// Sources not learned because the VNI's MAC limit (VNI counters) or the port's MAC limit
    /// (port counters) was reached; the frames were forwarded.
    public var macLimitHits: UInt64 = 0
    /// Sources not learned because the FDB held `fdb.max-entries` (VNI counters).
    public var tableFullHits: UInt64 = 0
    /// Learns and moves put off because the event stream toward the owner was full (VNI
    /// counters): the source's next frame learns it; no event is lost.
    public var learnsDeferred: UInt64 = 0
    /// ARP requests answered from the neighbour table instead of flooded (VNI counters).
    public var arpSuppressed: UInt64 = 0
    /// IPv6 neighbour solicitations answered from the neighbour table (VNI counters).
    public var ndSuppressed: UInt64 = 0
    /// Packets routed from this VNI (VNI counters: the ingress L2 or L3 VNI).
    public var routed: UInt64 = 0
    /// ICMP errors the gateway sent into this VNI (time exceeded, unreachable, too big).
    public var icmpErrors: UInt64 = 0
    public init() {}

    public mutating func add(_ o: TrafficCounters) {
        rxPackets &+= o.rxPackets; rxBytes &+= o.rxBytes; txPackets &+= o.txPackets; txBytes &+= o.txBytes
        floods &+= o.floods; macLimitHits &+= o.macLimitHits; tableFullHits &+= o.tableFullHits
        learnsDeferred &+= o.learnsDeferred; arpSuppressed &+= o.arpSuppressed; ndSuppressed &+= o.ndSuppressed
        routed &+= o.routed; icmpErrors &+= o.icmpErrors
    }
}

/// Frames sent toward a remote VTEP, and those that could not be (no next hop yet).
public struct VTEPCounters: Sendable, Equatable {
    public var txPackets: UInt64 = 0
    public var txBytes: UInt64 = 0
    public var drops: UInt64 = 0
    public init() {}

    public mutating func add(_ o: VTEPCounters) { txPackets &+= o.txPackets; txBytes &+= o.txBytes; drops &+= o.drops }
}

/// A fixed-size array of counters in memory that is not copied with its holder: no
/// copy-on-write check on the per-packet path, and a reader on another thread sees the
/// worker's live values (aligned 64-bit words: a reader gets each counter whole, the set of
/// them as of slightly different instants, which is what counters are).
public struct CounterArray<Element>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Element>
    public let count: Int

    init(_ base: UnsafeMutablePointer<Element>, count: Int) {
        self.base = base
        self.count = count
    }

    @inlinable public subscript(i: Int) -> Element {
        unsafeAddress { UnsafePointer(base + i) }
        nonmutating unsafeMutableAddress { base + i }
    }

    /// A plain copy of every element, for a reader.
    public var values: [Element] { Array(UnsafeBufferPointer(start: base, count: count)) }
}

/// Owns the memory behind one set of counters; freed when the last `Counters` holding it goes.
final class CounterStorage: @unchecked Sendable {
    let ports: UnsafeMutablePointer<TrafficCounters>
    let vnis: UnsafeMutablePointer<TrafficCounters>
    let vteps: UnsafeMutablePointer<VTEPCounters>
    let portDrops: UnsafeMutablePointer<UInt64>
    let vniDrops: UnsafeMutablePointer<UInt64>
    /// Report rounds that found the owner's ring full (the reports waited).
    let reportsHeldBack: UnsafeMutablePointer<UInt64>

    init(ports: Int, bridgeDomains: Int, vteps: Int) {
        self.ports = .allocate(capacity: ports)
        self.ports.initialize(repeating: TrafficCounters(), count: ports)
        vnis = .allocate(capacity: bridgeDomains)
        vnis.initialize(repeating: TrafficCounters(), count: bridgeDomains)
        self.vteps = .allocate(capacity: vteps)
        self.vteps.initialize(repeating: VTEPCounters(), count: vteps)
        portDrops = .allocate(capacity: ports * Counters.reasonCount)
        portDrops.initialize(repeating: 0, count: ports * Counters.reasonCount)
        vniDrops = .allocate(capacity: bridgeDomains * Counters.reasonCount)
        vniDrops.initialize(repeating: 0, count: bridgeDomains * Counters.reasonCount)
        reportsHeldBack = .allocate(capacity: 1)
        reportsHeldBack.initialize(to: 0)
    }

    deinit {
        ports.deallocate(); vnis.deallocate(); vteps.deallocate(); portDrops.deallocate(); vniDrops.deallocate()
        reportsHeldBack.deallocate()
    }
}

/// All data-plane counters of one pipeline (one worker's), in storage the pipeline owns
/// outright (`CounterStorage`): copying a `Counters` shares the counters, it does not
/// snapshot them — take `snapshot()` for that. Drops are counted per port and per bridge
/// domain by reason (`drops(port:_:)`).
public struct Counters: @unchecked Sendable {
    public static let reasonCount = DropReason.allCases.count

    let storage: CounterStorage
    public let ports: CounterArray<TrafficCounters>
    /// Indexed by bridge-domain index.
    public let vnis: CounterArray<TrafficCounters>
    /// Indexed by VTEP index (as in `VTEPTable`).
    public let vteps: CounterArray<VTEPCounters>
    @usableFromInline let portDrops: CounterArray<UInt64>
    @usableFromInline let vniDrops: CounterArray<UInt64>

    public init(ports: Int, bridgeDomains: Int, vteps: Int = 4096) {
        storage = CounterStorage(ports: ports, bridgeDomains: bridgeDomains, vteps: vteps)
        self.ports = CounterArray(storage.ports, count: ports)
        self.vnis = CounterArray(storage.vnis, count: bridgeDomains)
        self.vteps = CounterArray(storage.vteps, count: vteps)
        portDrops = CounterArray(storage.portDrops, count: ports * Counters.reasonCount)
        vniDrops = CounterArray(storage.vniDrops, count: bridgeDomains * Counters.reasonCount)
    }

    /// Times the worker found the owner's report ring full and kept its reports (learned MACs,
    /// VTEPs seen) for the next round: back-pressure, never a loss.
    public var reportsHeldBack: UInt64 {
        get { storage.reportsHeldBack.pointee }
        nonmutating set { storage.reportsHeldBack.pointee = newValue }
    }

    /// Counts a drop against a port and, when known, a bridge domain.
    @inlinable public func drop(_ reason: DropReason, port: PortID, bd: UInt16, count: UInt64 = 1) {
        portDrops[Int(port.raw) &* Counters.reasonCount &+ reason.rawValue] &+= count
        if bd != PortTable.noBD { vniDrops[Int(bd) &* Counters.reasonCount &+ reason.rawValue] &+= count }
    }

    public func portDrop(at i: Int) -> UInt64 { portDrops[i] }
    public func vniDrop(at i: Int) -> UInt64 { vniDrops[i] }
    public var portDropSlots: Int { portDrops.count }

    /// Clears a bridge domain's counters (its index is being reused).
    func reset(bd: UInt16) {
        vnis[Int(bd)] = TrafficCounters()
        for r in 0..<Counters.reasonCount { vniDrops[Int(bd) * Counters.reasonCount + r] = 0 }
    }

    /// Clears a VTEP's counters (its index is being reused).
    func reset(vtep: UInt16) {
        if Int(vtep) < vteps.count { vteps[Int(vtep)] = VTEPCounters() }
    }

    /// The values now, as a copy a reader can keep (the live counters go on counting).
    public func snapshot() -> CounterSnapshot {
        CounterSnapshot(ports: ports.values, vnis: vnis.values, vteps: vteps.values,
                        portDrops: portDrops.values, vniDrops: vniDrops.values)
    }
}

/// Counters copied at one moment (`Counters.snapshot()`), or summed over workers.
public struct CounterSnapshot: Sendable {
    public var ports: [TrafficCounters]
    public var vnis: [TrafficCounters]
    public var vteps: [VTEPCounters]
    var portDrops: [UInt64]
    var vniDrops: [UInt64]

    public func portDrop(at i: Int) -> UInt64 { portDrops[i] }
    public func vniDrop(at i: Int) -> UInt64 { vniDrops[i] }
    public var portDropSlots: Int { portDrops.count }

    /// The counters of several workers added up (each worker counts in its own storage).
    public static func sum(_ parts: [CounterSnapshot]) -> CounterSnapshot {
        guard var total = parts.first else { return CounterSnapshot(ports: [], vnis: [], vteps: [], portDrops: [], vniDrops: []) }
        for p in parts.dropFirst() {
            for i in total.ports.indices where i < p.ports.count { total.ports[i].add(p.ports[i]) }
            for i in total.vnis.indices where i < p.vnis.count { total.vnis[i].add(p.vnis[i]) }
            for i in total.vteps.indices where i < p.vteps.count { total.vteps[i].add(p.vteps[i]) }
            for i in total.portDrops.indices where i < p.portDrops.count { total.portDrops[i] &+= p.portDrops[i] }
            for i in total.vniDrops.indices where i < p.vniDrops.count { total.vniDrops[i] &+= p.vniDrops[i] }
        }
        return total
    }
}

/// Drops by reason, per port and per bridge domain: the live counters and a snapshot read alike.
public protocol DropCounts {
    /// Flat arrays indexed by `port * Counters.reasonCount + reason`.
    func portDrop(at i: Int) -> UInt64
    func vniDrop(at i: Int) -> UInt64
    var portDropSlots: Int { get }
}

extension DropCounts {
    public func drops(port: PortID, _ reason: DropReason) -> UInt64 {
        portDrop(at: Int(port.raw) * Counters.reasonCount + reason.rawValue)
    }
    public func drops(bd: UInt16, _ reason: DropReason) -> UInt64 {
        vniDrop(at: Int(bd) * Counters.reasonCount + reason.rawValue)
    }
    /// Sum over all ports.
    public func drops(_ reason: DropReason) -> UInt64 {
        stride(from: reason.rawValue, to: portDropSlots, by: Counters.reasonCount).reduce(0) { $0 + portDrop(at: $1) }
    }
}

extension Counters: DropCounts {}
extension CounterSnapshot: DropCounts {}
