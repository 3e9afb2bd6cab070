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

    public init(kind: PortKind, enabled: Bool = true, mtu: Int = 1500, completeChecksums: Bool = false,
                takesSuperFrames: Bool = false) {
        self.kind = kind; self.enabled = enabled; self.mtu = mtu; self.completeChecksums = completeChecksums
        self.takesSuperFrames = takesSuperFrames
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
