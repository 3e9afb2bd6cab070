/// The switch's data plane over one batch: classify → (decap) → learn → forward / flood →
/// (encap) → tx. Every frame of a batch is either transmitted (ownership passes to the
/// I/O layer) or released with a counted drop reason.
///
/// One pipeline per worker; the control plane changes it between batches through the
/// methods in `Pipeline+Control.swift`. Feature files: `Pipeline+Egress.swift` (delivery,
/// encapsulation, frame copies), `Pipeline+Flood.swift` (head-end replication),
/// `Pipeline+Neighbors.swift` (ARP/ND suppression), `Pipeline+Routing.swift`,
/// `Pipeline+RoutedPath.swift` and `Pipeline+ICMP.swift` (routing on the host).
public struct SwitchPipeline: Sendable {
    public var underlay: UnderlayConfig
    public internal(set) var ports: PortTable
    /// Each port's flooding this second (`StormMeter`), by `PortID.raw`; touched only on the flood path.
    @usableFromInline var stormMeters: [StormMeter]
    public internal(set) var bridgeDomains: BridgeDomainTable
    /// Remote VTEPs; `Pipeline+Control` keeps flood lists and the FDB consistent with it.
    public var vteps: VTEPTable
    public var fdb: FDB
    public var counters: Counters
    /// (bridge domain, IP) → MAC from EVPN MAC/IP routes, for ARP/ND suppression (`Pipeline+Neighbors`).
    public internal(set) var neighbors: NeighborTable
    /// Tenant VRFs, anycast gateways, routes and learned hosts (`Pipeline+Routing`).
    public internal(set) var routing: RoutingTables
    /// Remote learning creates the VTEPs it sees (a pipeline on its own) when admission lets it
    /// (`vteps.admission`: `accept: any`, under `max-learned`). A worker whose tables an owner
    /// keeps sets this false: the owner gives out VTEP indices, so an unknown source VTEP is
    /// reported in `discoveredVTEPs` and its MACs are learned once the owner added it.
    public var createsVTEPs = true
    @usableFromInline var discoveredVTEPs: [IPAddress] = []
    /// Local hosts the gateways learned since the last report round (`noteHost`).
    @usableFromInline var discoveredHosts: [LearnedHost] = []
    /// Learn local VMs' IPs from their ARP/ND (`Pipeline+LocalNeighbors.swift`): on with EVPN,
    /// which advertises them and withdraws them with their MAC. Off, the neighbour table holds
    /// only what the control plane installs (no entry outlives a VM that left).
    public var learnsNeighbors = false
    /// Local VMs' IPs learned from their ARP/ND since the last report round (`noteLocalNeighbor`).
    @usableFromInline var discoveredNeighbors: [LearnedHost] = []

    public init(underlay: UnderlayConfig, maxPorts: Int = 256, maxBridgeDomains: Int = 4096, maxVTEPs: Int = 4096,
                fdbCapacity: Int = 65536, eventCapacity: Int = 4096, neighborCapacity: Int = 24576,
                routeCapacity: Int = 8192, hostCapacity: Int = 8192, maxVRFs: Int = 64) {
        self.underlay = underlay
        ports = PortTable(capacity: maxPorts)
        stormMeters = Array(repeating: StormMeter(), count: maxPorts)
        bridgeDomains = BridgeDomainTable(capacity: maxBridgeDomains)
        vteps = VTEPTable(capacity: maxVTEPs)
        fdb = FDB(capacity: fdbCapacity, bridgeDomains: maxBridgeDomains, eventCapacity: eventCapacity, ports: maxPorts)
        counters = Counters(ports: maxPorts, bridgeDomains: maxBridgeDomains, vteps: vteps.capacity)
        neighbors = NeighborTable(capacity: neighborCapacity)
        routing = RoutingTables(bridgeDomains: maxBridgeDomains, vrfs: maxVRFs, routeCapacity: routeCapacity,
                                hostCapacity: hostCapacity)
        discoveredHosts.reserveCapacity(256)
        discoveredNeighbors.reserveCapacity(256)
        if ports.contains(underlay.uplink) { ports.set(underlay.uplink, PortConfig(kind: .uplink, mtu: underlay.uplinkMTU)) }
    }

    /// Processes frames received on `port`; `now` is a seconds tick for learning and aging.
    @inlinable
    public mutating func process<IO: FrameIO>(_ batch: UnsafeMutableBufferPointer<FrameDescriptor>, from port: PortID,
                                              now: UInt32, io: inout IO) {
        guard ports.contains(port) else {
            for f in batch { io.releaseFrame(f.addr) }
            return
        }
        let pi = Int(port.raw)
        let fromUplink = port == underlay.uplink
        for f in batch {
            counters.ports[pi].rxPackets &+= 1
            counters.ports[pi].rxBytes &+= UInt64(truncatingIfNeeded: f.length)
            if fromUplink {
                receiveOverlay(f, port: port, now: now, io: &io)
            } else {
                receiveLocal(f, port: port, now: now, io: &io)
            }
        }
    }

    /// A frame from an access or trunk port.
    @inlinable
    mutating func receiveLocal<IO: FrameIO>(_ frame: FrameDescriptor, port: PortID, now: UInt32, io: inout IO) {
        var f = frame
        let pi = Int(port.raw)
        guard ports.slots[pi].enabled else { return drop(f, .portDown, port: port, bd: PortTable.noBD, io: &io) }
        guard f.length >= Ethernet.headerLength else { return drop(f, .runt, port: port, bd: PortTable.noBD, io: &io) }
        var p = io.memory + Int(f.addr)
        var bd = ports.slots[pi].bd
        if ports.slots[pi].isTrunk {
            if Ethernet.etherType(p) == Ethernet.typeVLAN {
                guard f.length >= Ethernet.headerLength + Ethernet.tagLength else {
                    return drop(f, .truncatedHeader, port: port, bd: PortTable.noBD, io: &io)
                }
                bd = ports.slots[pi].vlanToBD[Int(VLANTag.vid(p))]
                if bd != PortTable.noBD {
                    VLANTag.strip(p)
                    p += Ethernet.tagLength
                    f.addr &+= UInt64(Ethernet.tagLength)
                    f.length &-= Ethernet.tagLength
                }
            }
            guard bd != PortTable.noBD else { return drop(f, .vlanNotMapped, port: port, bd: bd, io: &io) }
        }
        guard bd != PortTable.noBD else { return drop(f, .unknownVNI, port: port, bd: bd, io: &io) }
        if !ports.slots[pi].isTrunk && Ethernet.isTagged(p) && !bridgeDomains.carriesTagged[Int(bd)] {
            // 802.1Q ingress filtering on an untagged port: only a priority tag (VID 0) is
            // taken, as untagged; it is removed so the frame goes on without it.
            guard Ethernet.etherType(p) == Ethernet.typeVLAN, f.length >= Ethernet.headerLength + Ethernet.tagLength,
                  VLANTag.vid(p) == 0 else { return drop(f, .taggedOnAccess, port: port, bd: bd, io: &io) }
            VLANTag.strip(p)
            p += Ethernet.tagLength
            f.addr &+= UInt64(Ethernet.tagLength)
            f.length &-= Ethernet.tagLength
        }
        countRx(f, bd: bd)

        let src = Ethernet.source(p)
        guard !src.isMulticast, !src.isZero else { return drop(f, .badSourceMAC, port: port, bd: bd, io: &io) }
        guard !Ethernet.destination(p).isLinkLocalGroup else { return drop(f, .linkLocalGroup, port: port, bd: bd, io: &io) }
        countLearning(fdb.learnLocal(bd: bd, mac: src, port: port, now: now), bd: bd, port: port)
        if learnsNeighbors {
            let type = Ethernet.etherType(p)
            if type == ARP.etherType || type == Ethernet.typeIPv6 { learnNeighborSource(f, p, bd: bd) }
        }
        if ports.slots[pi].completeChecksums { ChecksumCompletion.complete(p, length: f.length) }

        let dst = Ethernet.destination(p)
        if dst.isMulticast && neighbors.count | routing.gatewayCount != 0 && answerNeighbor(f, p, bd: bd, from: port, io: &io) {
            return
        }
        guard !dst.isMulticast, let to = fdb.lookup(bd: bd, mac: dst) else {
            // Not bridged: addressed to the domain's anycast gateway, it is routed (`Pipeline+RoutedPath`).
            if !dst.isMulticast && routing.gatewayMACs[Int(bd)] == dst.raw {
                return routeLocal(f, p, bd: bd, from: port, now: now, io: &io)
            }
            if ports.slots[pi].stormLimited,
               !stormMeters[pi].admit(dst, now: now, limits: ports.slots[pi].storm) {
                return drop(f, .stormControl, port: port, bd: bd, io: &io)
            }
            return flood(f, bd: bd, from: port, toOverlay: true, io: &io)
        }
        switch to {
        case .port(let out):
            guard out != port else { return drop(f, .sameSegment, port: port, bd: bd, io: &io) }
            sendLocal(f, to: out, bd: bd, io: &io)
        case .vtep(let v):
            sendRemote(f, vtep: v, bd: bd, hash: FlowHash.hash(p, length: f.length), io: &io)
        }
    }

    /// A frame from the uplink: VXLAN to one of our VTEP addresses, or dropped.
    @inlinable
    mutating func receiveOverlay<IO: FrameIO>(_ frame: FrameDescriptor, port: PortID, now: UInt32, io: inout IO) {
        var f = frame
        var p = io.memory + Int(f.addr)
        let vni: VNI, source: IPAddress
        switch Decap.parse(p, length: f.length, underlay: underlay) {
        case .drop(let reason):
            return drop(f, reason, port: port, bd: PortTable.noBD, io: &io)
        case .inner(let v, let offset, let length, let s):
            vni = v; source = s
            p += offset
            f.addr &+= UInt64(offset)
            f.length = length
        }
        guard let bd = bridgeDomains.index(of: vni) else {
            return drop(f, .unknownVNI, port: port, bd: PortTable.noBD, io: &io)
        }
        countRx(f, bd: bd)
        // VTEP admission (`vtep.accept`): with `known`, only from VTEPs the control plane gave.
        let from = vteps.index(of: source)
        guard from != nil || vteps.admission.accept == .any else {
            return drop(f, .unknownVTEP, port: port, bd: bd, io: &io)
        }
        let src = Ethernet.source(p)
        guard !src.isMulticast, !src.isZero else { return drop(f, .badSourceMAC, port: port, bd: bd, io: &io) }
        guard !Ethernet.destination(p).isLinkLocalGroup else { return drop(f, .linkLocalGroup, port: port, bd: bd, io: &io) }
        guard !Ethernet.isTagged(p) || bridgeDomains.carriesTagged[Int(bd)] else {
            return drop(f, .innerVLANTag, port: port, bd: bd, io: &io)
        }
        if bridgeDomains.learnsRemote[Int(bd)] {
            if let v = from ?? (createsVTEPs ? vteps.addLearned(source) : nil) {
                countLearning(fdb.learnRemote(bd: bd, mac: src, vtep: v, now: now), bd: bd, port: port)
            } else if !vteps.learnsMore {
                // `max-learned` reached: a new source VTEP takes no index (those are kept for
                // the control plane) and none of its frames.
                return drop(f, .vtepLimit, port: port, bd: bd, io: &io)
            } else {
                noteDiscovered(source)
            }
        }
        if underlay.completeDecapChecksums { ChecksumCompletion.complete(p, length: f.length) }

        let dst = Ethernet.destination(p)
        guard !dst.isMulticast, let to = fdb.lookup(bd: bd, mac: dst) else {
            // In an L3 VNI: to our router MAC, routed to a local host (`Pipeline+RoutedPath`).
            let vrf = routing.l3VRFOfBD[Int(bd)]
            if vrf != RoutingTables.noVRF { return routeOverlay(f, p, bd: bd, vrf: vrf, port: port, now: now, io: &io) }
            return flood(f, bd: bd, from: port, toOverlay: false, io: &io)
        }
        switch to {
        case .port(let out): sendLocal(f, to: out, bd: bd, io: &io)
        case .vtep: drop(f, .splitHorizon, port: port, bd: bd, io: &io)
        }
    }

    /// Remembers a source VTEP for the owner (a few per batch at most; duplicates skipped).
    @usableFromInline mutating func noteDiscovered(_ ip: IPAddress) {
        guard discoveredVTEPs.count < 64, !discoveredVTEPs.contains(ip) else { return }
        discoveredVTEPs.append(ip)
    }

    @inlinable mutating func countRx(_ f: FrameDescriptor, bd: UInt16) {
        counters.vnis[Int(bd)].rxPackets &+= 1
        counters.vnis[Int(bd)].rxBytes &+= UInt64(truncatingIfNeeded: f.length)
    }

    /// Releases a frame and counts why.
    @inlinable mutating func drop<IO: FrameIO>(_ f: FrameDescriptor, _ reason: DropReason, port: PortID, bd: UInt16,
                                               io: inout IO) {
        io.releaseFrame(f.addr)
        count(reason, port: port, bd: bd)
    }

    /// Counts `count` drops the I/O layer made before the pipeline saw the frames.
    @inlinable public mutating func countDrops(_ reason: DropReason, port: PortID, count: UInt64) {
        guard ports.contains(port), count > 0 else { return }
        counters.drop(reason, port: port, bd: ports.slots[Int(port.raw)].bd, count: count)
    }

    /// Counts a drop that has no frame of its own (a flood copy not made).
    @inlinable mutating func count(_ reason: DropReason, port: PortID, bd: UInt16) {
        if ports.contains(port) { counters.drop(reason, port: port, bd: bd) }
    }
}
