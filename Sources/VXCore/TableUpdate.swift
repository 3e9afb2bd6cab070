/// One change to the switch tables, by VNI and address rather than by dense index. The
/// control plane's owner of the tables (`VXTables.SwitchTables`) applies each update to its
/// own copy first and then hands the same update to every worker, which applies it between
/// batches (`SwitchPipeline.apply`). Applied in the same order, the copies give VNIs and
/// VTEPs the same dense indices, so counters and fast-path map keys agree.
public enum TableUpdate: Sendable, Equatable {
    /// Configures a port, or with nil removes it (its learned MACs are flushed).
    case setPort(PortID, PortConfig?)
    /// Creates or updates a VNI's bridge domain (`carryTagged`: `BridgeDomain.carryTagged`).
    case addVNI(VNI, learnRemote: Bool, macLimit: Int?, carryTagged: Bool = false)
    case removeVNI(VNI)
    /// Creates a remote VTEP (unresolved) learned from the data plane: an address remote
    /// learning saw. Refused unless admission takes it (`vtep.accept: any`, under `max-learned`).
    case addVTEP(IPAddress)
    case removeVTEP(IPAddress)
    /// Removes a VTEP only while it is still a learned one (`LearnedVTEPAging` found it idle).
    case ageVTEP(IPAddress)
    /// `vtep.accept` and `vtep.max-learned`; to `known`, every learned VTEP goes.
    case setVTEPAdmission(VTEPAdmission)
    case addFlood(VNI, IPAddress, FloodOrigin)
    /// Removes a flood-list entry, only one of `origin` when given.
    case removeFlood(VNI, IPAddress, origin: FloodOrigin?)
    /// The underlay next-hop MAC of a VTEP (nil: unresolved).
    case setNextHop(IPAddress, MACAddress?)
    case addStaticPort(VNI, MACAddress, PortID)
    case addStaticVTEP(VNI, MACAddress, IPAddress)
    case removeStatic(VNI, MACAddress)
    case installEVPN(VNI, MACAddress, vtep: IPAddress, sequence: UInt32)
    case withdrawEVPN(VNI, MACAddress)
    case installNeighbor(VNI, IPAddress, MACAddress)
    case withdrawNeighbor(VNI, IPAddress, MACAddress?)
    /// Learned entries older than this many seconds age out.
    case setAgeLimit(UInt32)
    /// A learned MAC was seen at `stamp` somewhere the worker does not see it (the XDP fast
    /// path): refresh it where it is, never learn or move.
    case refreshLearned(VNI, MACAddress, stamp: UInt32)
    /// What one worker learned (learned, moved, refreshed, aged, removed), for the other
    /// workers' copies when there are several (`SwitchTables.absorb` fans it out); applied
    /// like the owner absorbs it, without a report back.
    case learned(FDBEvent)
    /// Creates or updates the tenant VRF of L3 VNI `VNI` (and a bridge domain for that VNI).
    case addVRF(VNI, routerMAC: MACAddress)
    /// Removes a VRF: its routes, its L2 VNIs' gateways and its L3 VNI.
    case removeVRF(VNI)
    /// Puts an L2 VNI in a VRF with its anycast gateway (connected routes follow), or with nil out of it.
    case setGateway(VNI, Gateway?)
    /// A route in the VRF of L3 VNI `vrf`.
    case installRoute(vrf: VNI, IPPrefix, RouteNextHop)
    case removeRoute(vrf: VNI, IPPrefix)
    /// A local host of an L2 VNI with a gateway (what a worker learned, for every copy).
    case learnHost(VNI, IPAddress, MACAddress)
    case forgetHost(VNI, IPAddress)
}

/// What a worker tells the owner of the tables, through its report ring.
public enum DataplaneReport: Sendable, Equatable {
    /// Learned, moved, refreshed (at most every 16 s per MAC), aged or removed.
    case fdb(FDBEvent)
    /// Remote learning saw a source VTEP the tables do not have (only with `vtep.accept: any`,
    /// under `max-learned`); the owner adds it (`TableUpdate.addVTEP`, a learned VTEP) and the
    /// MACs behind it are learned from then on.
    case vtepSeen(IPAddress)
    /// A gateway learned a local host (new, or at a new MAC); the owner hands it to every copy
    /// (`TableUpdate.learnHost`).
    case hostLearned(LearnedHost)
    /// A local VM's IP from its ARP/ND (new, or at a new MAC), already in the worker's neighbour
    /// table; the owner hands it to every copy (`TableUpdate.installNeighbor`) and to EVPN.
    case neighborLearned(LearnedHost)
}
