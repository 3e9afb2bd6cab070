/// Origin of a flood-list entry: configured statically, or from an EVPN type-3 (IMET) route.
public enum FloodOrigin: UInt8, Sendable { case `static`, evpn }

/// A remote VTEP in a bridge domain's flood list (head-end replication).
public struct FloodTarget: Hashable, Sendable {
    public var vtep: UInt16
    public var origin: FloodOrigin
    public init(vtep: UInt16, origin: FloodOrigin) { self.vtep = vtep; self.origin = origin }
}

/// A local port in a bridge domain, with the VLAN id to tag frames with on egress (0: untagged).
public struct BDMember: Hashable, Sendable {
    public var port: PortID
    public var vlan: UInt16
    public init(port: PortID, vlan: UInt16) { self.port = port; self.vlan = vlan }
}

/// One VNI's layer-2 segment.
public struct BridgeDomain: Sendable {
    public var vni: VNI
    public var active: Bool
    /// Local access/trunk ports of this VNI; derived from the port table.
    public internal(set) var members: [BDMember] = []
    /// Remote VTEPs that get a copy of every BUM frame from a local port.
    public var floodList: [FloodTarget] = []
    /// Data-plane learning from decapsulated frames (flood-and-learn without EVPN).
    public var learnRemote: Bool
    /// Most learned MACs (nil: unlimited).
    public var macLimit: Int?
    /// VLAN-tagged frames are carried (RFC 7348 §6.1 "unless configured otherwise"): taken
    /// from access ports and delivered after decapsulation. Off: both are dropped.
    public var carryTagged: Bool

    public init(vni: VNI, learnRemote: Bool = false, macLimit: Int? = nil, carryTagged: Bool = false) {
        self.vni = vni; self.active = true; self.learnRemote = learnRemote; self.macLimit = macLimit
        self.carryTagged = carryTagged
    }

    /// Egress VLAN for `port` when it is a member (0: untagged); nil when it is not.
    @inlinable public func vlan(for port: PortID) -> UInt16? {
        for m in members where m.port == port { return m.vlan }
        return nil
    }
}

/// VNI ↔ dense bridge-domain index (UInt16) and the domains themselves.
public struct BridgeDomainTable: Sendable {
    public internal(set) var domains: [BridgeDomain] = []
    @usableFromInline var indexOfVNI: IndexMap
    /// `domains[i].learnRemote` as a flat array: the decap path reads it per packet without
    /// copying a `BridgeDomain` (whose member and flood arrays would be retained).
    @usableFromInline var learnsRemote: [Bool]
    /// `domains[i].carryTagged`, flat for the same reason.
    @usableFromInline var carriesTagged: [Bool]
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        domains.reserveCapacity(capacity)
        indexOfVNI = IndexMap(capacity: min(capacity, 1024))
        learnsRemote = Array(repeating: false, count: capacity)
        carriesTagged = Array(repeating: false, count: capacity)
    }

    /// Index of the active bridge domain for `vni`.
    @inlinable public func index(of vni: VNI) -> UInt16? { indexOfVNI.value(hi: 0, lo: UInt64(vni.value)) }

    /// Creates (or returns) the domain for `vni`; nil when the table is full.
    mutating func add(_ vni: VNI, learnRemote: Bool, macLimit: Int?, carryTagged: Bool = false) -> UInt16? {
        if let i = index(of: vni) {
            domains[Int(i)].learnRemote = learnRemote
            learnsRemote[Int(i)] = learnRemote
            domains[Int(i)].macLimit = macLimit
            domains[Int(i)].carryTagged = carryTagged
            carriesTagged[Int(i)] = carryTagged
            return i
        }
        let d = BridgeDomain(vni: vni, learnRemote: learnRemote, macLimit: macLimit, carryTagged: carryTagged)
        let i: Int
        if let free = domains.firstIndex(where: { !$0.active }) {
            i = free; domains[i] = d
        } else {
            guard domains.count < capacity else { return nil }
            i = domains.count; domains.append(d)
        }
        indexOfVNI.set(hi: 0, lo: UInt64(vni.value), UInt16(i))
        learnsRemote[i] = learnRemote
        carriesTagged[i] = carryTagged
        return UInt16(i)
    }

    /// Deactivates the domain for `vni`; its index may be reused. Returns the freed index.
    mutating func remove(_ vni: VNI) -> UInt16? {
        guard let i = indexOfVNI.remove(hi: 0, lo: UInt64(vni.value)) else { return nil }
        domains[Int(i)] = BridgeDomain(vni: vni)
        domains[Int(i)].active = false
        learnsRemote[Int(i)] = false
        carriesTagged[Int(i)] = false
        return i
    }
}
