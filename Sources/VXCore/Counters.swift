/// Packet and byte counters of a port or a VNI.
public struct TrafficCounters: Sendable, Equatable {
    public var rxPackets: UInt64 = 0
    public var rxBytes: UInt64 = 0
    public var txPackets: UInt64 = 0
    public var txBytes: UInt64 = 0
    /// BUM frames flooded (VNI counters).
    public var floods: UInt64 = 0
    /// Sources not learned because the VNI's MAC limit was reached (VNI counters).
    public var macLimitHits: UInt64 = 0
    /// ARP requests answered from the neighbour table instead of flooded (VNI counters).
    public var arpSuppressed: UInt64 = 0
    /// IPv6 neighbour solicitations answered from the neighbour table (VNI counters).
    public var ndSuppressed: UInt64 = 0
    public init() {}
}

/// All data-plane counters: plain preallocated arrays, cheap to copy as a snapshot.
/// Drops are counted per port and per bridge domain by reason (`drops(port:_:)`).
public struct Counters: Sendable {
    public static let reasonCount = DropReason.allCases.count

    public var ports: [TrafficCounters]
    /// Indexed by bridge-domain index.
    public var vnis: [TrafficCounters]
    @usableFromInline var portDrops: [UInt64]
    @usableFromInline var vniDrops: [UInt64]

    public init(ports: Int, bridgeDomains: Int) {
        self.ports = Array(repeating: TrafficCounters(), count: ports)
        self.vnis = Array(repeating: TrafficCounters(), count: bridgeDomains)
        portDrops = Array(repeating: 0, count: ports * Counters.reasonCount)
        vniDrops = Array(repeating: 0, count: bridgeDomains * Counters.reasonCount)
    }

    /// Counts a drop against a port and, when known, a bridge domain.
    @inlinable public mutating func drop(_ reason: DropReason, port: PortID, bd: UInt16, count: UInt64 = 1) {
        portDrops[Int(port.raw) &* Counters.reasonCount &+ reason.rawValue] &+= count
        if bd != PortTable.noBD { vniDrops[Int(bd) &* Counters.reasonCount &+ reason.rawValue] &+= count }
    }

    public func drops(port: PortID, _ reason: DropReason) -> UInt64 {
        portDrops[Int(port.raw) * Counters.reasonCount + reason.rawValue]
    }
    public func drops(bd: UInt16, _ reason: DropReason) -> UInt64 {
        vniDrops[Int(bd) * Counters.reasonCount + reason.rawValue]
    }
    /// Sum over all ports.
    public func drops(_ reason: DropReason) -> UInt64 {
        stride(from: reason.rawValue, to: portDrops.count, by: Counters.reasonCount).reduce(0) { $0 + portDrops[$1] }
    }

    /// Clears a bridge domain's counters (its index is being reused).
    mutating func reset(bd: UInt16) {
        vnis[Int(bd)] = TrafficCounters()
        for r in 0..<Counters.reasonCount { vniDrops[Int(bd) * Counters.reasonCount + r] = 0 }
    }
}
