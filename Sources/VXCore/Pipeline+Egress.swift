/// Delivery to local ports and remote VTEPs, and the frame-memory moves they need.
extension SwitchPipeline {
    /// Known-unicast delivery to a local port of bridge domain `bd`.
    @inlinable mutating func sendLocal<IO: FrameIO>(_ f: FrameDescriptor, to out: PortID, bd: UInt16, io: inout IO) {
        guard ports.contains(out) else { return drop(f, .portDown, port: out, bd: bd, io: &io) }
        // An access port's domain, or a trunk's native one, is a membership with vlan 0
        // (`PortTable.resolve`): no need to scan the domain's member list.
        if ports.slots[Int(out.raw)].bd == bd { return deliver(f, to: out, vlan: 0, bd: bd, io: &io) }
        guard let vlan = bridgeDomains.domains[Int(bd)].vlan(for: out) else {
            // VNI isolation: a port outside the domain never gets the frame.
            return drop(f, .portDown, port: out, bd: bd, io: &io)
        }
        deliver(f, to: out, vlan: vlan, bd: bd, io: &io)
    }

    /// Sends on a local port, pushing the trunk tag `vlan` (0: none).
    @inlinable mutating func deliver<IO: FrameIO>(_ frame: FrameDescriptor, to out: PortID, vlan: UInt16, bd: UInt16,
                                                  io: inout IO) {
        let oi = Int(out.raw)
        guard ports.slots[oi].enabled else { return drop(frame, .portDown, port: out, bd: bd, io: &io) }
        // The MTU bounds what follows the Ethernet header and the frame's own tag, if any
        // (a trunk's tag pushed below is allowed for by 802.1Q).
        let tag = Ethernet.isTagged(io.memory + Int(frame.addr)) ? Ethernet.tagLength : 0
        guard frame.length <= ports.slots[oi].maxFrame &+ tag else { return drop(frame, .tooBig, port: out, bd: bd, io: &io) }
        var f = frame
        if vlan != 0 {
            guard let g = makeRoom(f, Ethernet.tagLength, io: &io) else {
                return drop(f, .noBuffer, port: out, bd: bd, io: &io)
            }
            VLANTag.push(io.memory + Int(g.addr), vid: vlan)
            f = FrameDescriptor(addr: g.addr &- UInt64(Ethernet.tagLength), length: g.length &+ Ethernet.tagLength)
        }
        transmit(f, on: out, bd: bd, io: &io)
    }

    /// Why a frame of `innerLength` bytes cannot go to VTEP `v` now, or nil when it can.
    /// Marks unresolved VTEPs for the control plane.
    @inlinable mutating func remoteProblem(_ v: UInt16, innerLength: Int) -> DropReason? {
        let i = Int(v)
        guard i < vteps.slots.count, vteps.slots[i].active else { return .vtepUnresolved }
        guard vteps.slots[i].nextHop != nil else {
            vteps.slots[i].needsResolution = true
            return .vtepUnresolved
        }
        let remote = vteps.slots[i].ip
        guard (remote.isIPv4 ? underlay.localV4 : underlay.localV6) != nil else { return .noLocalAddress }
        guard Encap.outerIPLength(innerLength: innerLength, toward: remote) <= underlay.uplinkMTU else { return .tooBig }
        return nil
    }

    /// Encapsulates toward VTEP `v` and sends on the uplink.
    @inlinable mutating func sendRemote<IO: FrameIO>(_ f: FrameDescriptor, vtep v: UInt16, bd: UInt16, hash: UInt32,
                                                     io: inout IO) {
        let up = underlay.uplink
        if let reason = remoteProblem(v, innerLength: f.length) {
            if Int(v) < counters.vteps.count { counters.vteps[Int(v)].drops &+= 1 }
            return drop(f, reason, port: up, bd: bd, io: &io)
        }
        let vtep = vteps.slots[Int(v)]
        let need = Encap.overhead(toward: vtep.ip)
        guard let g = makeRoom(f, need, io: &io) else { return drop(f, .noBuffer, port: up, bd: bd, io: &io) }
        let local = vtep.ip.isIPv4 ? underlay.localV4! : underlay.localV6!
        Encap.writeHeaders(before: io.memory + Int(g.addr), innerLength: g.length, vni: VNI(unchecked: fdb.vniOfBD[Int(bd)]),
                           local: local, remote: vtep.ip, nextHop: vtep.nextHop!,
                           sourcePort: FlowHash.sourcePort(hash, in: underlay.sourcePortRange), underlay: underlay)
        let out = FrameDescriptor(addr: g.addr &- UInt64(need), length: g.length &+ need)
        if transmit(out, on: up, bd: bd, io: &io) {
            counters.vteps[Int(v)].txPackets &+= 1
            counters.vteps[Int(v)].txBytes &+= UInt64(truncatingIfNeeded: out.length)
        } else {
            counters.vteps[Int(v)].drops &+= 1
        }
    }

    /// Hands a frame to the I/O layer; on a full ring releases it (`.txRingFull`).
    @inlinable @discardableResult
    mutating func transmit<IO: FrameIO>(_ f: FrameDescriptor, on port: PortID, bd: UInt16, io: inout IO) -> Bool {
        guard io.transmit(f.addr, length: f.length, on: port) else {
            drop(f, .txRingFull, port: port, bd: bd, io: &io)
            return false
        }
        let pi = Int(port.raw)
        counters.ports[pi].txPackets &+= 1
        counters.ports[pi].txBytes &+= UInt64(truncatingIfNeeded: f.length)
        counters.vnis[Int(bd)].txPackets &+= 1
        counters.vnis[Int(bd)].txBytes &+= UInt64(truncatingIfNeeded: f.length)
        return true
    }

    /// `f` itself when its buffer has `need` bytes of headroom before it; otherwise a copy
    /// in a fresh frame and `f` is released. Nil (f still owned) when no frame is free.
    @inlinable mutating func makeRoom<IO: FrameIO>(_ f: FrameDescriptor, _ need: Int, io: inout IO) -> FrameDescriptor? {
        if Int(f.addr & UInt64(io.frameSize &- 1)) >= need { return f }
        guard let c = copy(f, headroom: need, io: &io) else { return nil }
        io.releaseFrame(f.addr)
        return c
    }

    /// A copy of `f` in a fresh frame with at least `headroom` bytes before it.
    @inlinable func copy<IO: FrameIO>(_ f: FrameDescriptor, headroom: Int, io: inout IO) -> FrameDescriptor? {
        let room = max(io.allocationHeadroom, headroom)
        guard room &+ f.length <= io.frameSize, let base = io.allocateFrame() else { return nil }
        let addr = base &+ UInt64(room)
        (io.memory + Int(addr)).copyMemory(from: io.memory + Int(f.addr), byteCount: f.length)
        return FrameDescriptor(addr: addr, length: f.length)
    }
}
