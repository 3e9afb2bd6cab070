/// What a port is.
public enum PortKind: Sendable, Equatable {
    /// The underlay NIC: VXLAN in and out.
    case uplink
    /// A VM port in one VNI, untagged: a tagged frame from it is dropped (`taggedOnAccess`; a
    /// priority tag is removed) unless its VNI carries tagged frames (`carryTagged`).
    case access(VNI)
    /// A VM port carrying several VNIs by 802.1Q tag; untagged frames go to `native`.
    case trunk(vlans: [UInt16: VNI], native: VNI?)
}

/// Storm control of one port: the most broadcast, multicast and unknown-unicast frames per
/// second it may flood (0: no limit). Frames over a class's rate in a second are dropped
/// (`.stormControl`) before any copy is made; what is answered (ARP/ND suppression, the
/// gateway) or known is never limited.
public struct StormLimits: Sendable, Equatable, Codable {
    public var broadcast: Int
    public var multicast: Int
    public var unknownUnicast: Int

    public init(broadcast: Int = 0, multicast: Int = 0, unknownUnicast: Int = 0) {
        self.broadcast = broadcast; self.multicast = multicast; self.unknownUnicast = unknownUnicast
    }

    public static let unlimited = StormLimits()
}

/// Frames flooded from a port in the current second, per class, against its `StormLimits`.
/// Per worker: a port is received on by one worker, so its count is whole there.
@usableFromInline struct StormMeter: Sendable {
    @usableFromInline var second: UInt32 = 0
    @usableFromInline var broadcast: UInt32 = 0, multicast: UInt32 = 0, unknownUnicast: UInt32 = 0
    @inlinable init() {}

    /// Counts one flooded frame to `dst`; false when its class is over `limits` this second.
    @inlinable mutating func admit(_ dst: MACAddress, now: UInt32, limits: StormLimits) -> Bool {
        if now != second { self = StormMeter(); second = now }
        if dst.isBroadcast { broadcast &+= 1; return limits.broadcast == 0 || Int(broadcast) <= limits.broadcast }
        if dst.isMulticast { multicast &+= 1; return limits.multicast == 0 || Int(multicast) <= limits.multicast }
        unknownUnicast &+= 1
        return limits.unknownUnicast == 0 || Int(unknownUnicast) <= limits.unknownUnicast
    }
}

public struct PortConfig: Sendable, Equatable {
    public var kind: PortKind
    public var enabled: Bool
    /// Largest L3 payload of a frame sent on the port (frames above MTU + 14, + 18 with their
    /// own 802.1Q tag, are dropped `.tooBig`).
    public var mtu: Int
    /// Complete CHECKSUM_PARTIAL TCP/UDP checksums of frames received on this port.
    public var completeChecksums: Bool
    /// The I/O layer can hand this port a GSO super-frame whole (a tap on a packet socket):
    /// see `Pipeline+SuperFrames.swift`.
    public var takesSuperFrames: Bool
    /// Flooding it may cause (VM ports; the uplink is not limited here).
    public var storm: StormLimits
    /// Most MACs learned on this port, all its VNIs together (nil: unlimited); beyond it new
    /// sources are not learned (`macLimitHits` of the port), their frames still forwarded.
    public var macLimit: Int?

    public init(kind: PortKind, enabled: Bool = true, mtu: Int = 1500, completeChecksums: Bool = false,
                takesSuperFrames: Bool = false, storm: StormLimits = .unlimited, macLimit: Int? = nil) {
        self.kind = kind; self.enabled = enabled; self.mtu = mtu; self.completeChecksums = completeChecksums
        self.takesSuperFrames = takesSuperFrames
        self.storm = storm
        self.macLimit = macLimit
    }
}

/// Port table indexed by `PortID.raw`, with the VNI mapping resolved to bridge-domain indices.
public struct PortTable: Sendable {
    public static let noBD = UInt16.max

    @usableFromInline struct Slot: Sendable {
        var config: PortConfig?
        @usableFromInline var enabled = false
        @usableFromInline var isUplink = false
        @usableFromInline var isTrunk = false
        @usableFromInline var completeChecksums = false
        @usableFromInline var takesSuperFrames = false
        @usableFromInline var maxFrame = 0
        @usableFromInline var storm = StormLimits.unlimited
        @usableFromInline var stormLimited = false
        /// Access: the port's domain. Trunk: the native (untagged) domain.
        @usableFromInline var bd = PortTable.noBD
        /// Trunk: VLAN id → domain (4096 entries), empty otherwise.
        @usableFromInline var vlanToBD: [UInt16] = []
    }

    @usableFromInline var slots: [Slot]

    public init(capacity: Int) { slots = Array(repeating: Slot(), count: capacity) }

    public var capacity: Int { slots.count }
    public func config(_ port: PortID) -> PortConfig? { contains(port) ? slots[Int(port.raw)].config : nil }
    @inlinable public func contains(_ port: PortID) -> Bool { Int(port.raw) < slots.count }

    mutating func set(_ port: PortID, _ config: PortConfig?) {
        var s = Slot()
        s.config = config
        if let config {
            s.enabled = config.enabled
            s.completeChecksums = config.completeChecksums
            s.takesSuperFrames = config.takesSuperFrames
            s.storm = config.storm
            s.stormLimited = config.storm != .unlimited
            s.maxFrame = config.mtu + Ethernet.headerLength // + a tag when the frame carries one (`deliver`)
            if case .uplink = config.kind { s.isUplink = true }
            if case .trunk = config.kind { s.isTrunk = true }
        }
        slots[Int(port.raw)] = s
    }

    /// Re-resolves VNIs to domain indices and returns each domain's members.
    mutating func resolve(_ bds: inout BridgeDomainTable) -> [[BDMember]] {
        var members = Array(repeating: [BDMember](), count: bds.domains.count)
        for p in slots.indices {
            guard let config = slots[p].config else { continue }
            let port = PortID(p)
            switch config.kind {
            case .uplink:
                break
            case .access(let vni):
                slots[p].bd = bds.index(of: vni) ?? PortTable.noBD
                if slots[p].bd != PortTable.noBD { members[Int(slots[p].bd)].append(BDMember(port: port, vlan: 0)) }
            case .trunk(let vlans, let native):
                var map = Array(repeating: PortTable.noBD, count: 4096)
                var joined = Set<UInt16>()
                slots[p].bd = native.flatMap { bds.index(of: $0) } ?? PortTable.noBD
                if slots[p].bd != PortTable.noBD {
                    joined.insert(slots[p].bd)
                    members[Int(slots[p].bd)].append(BDMember(port: port, vlan: 0))
                }
                for (vlan, vni) in vlans.sorted(by: { $0.key < $1.key }) where vlan > 0 && vlan < 4095 {
                    guard let bd = bds.index(of: vni) else { continue }
                    map[Int(vlan)] = bd
                    // Egress tags with the lowest VLAN mapped to the domain.
                    if joined.insert(bd).inserted { members[Int(bd)].append(BDMember(port: port, vlan: vlan)) }
                }
                slots[p].vlanToBD = map
            }
        }
        return members
    }
}
