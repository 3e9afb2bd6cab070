/// Head-end replication of broadcast, multicast and unknown-unicast frames.
///
/// From a local port: every other enabled member of the domain, and every resolved VTEP of
/// its flood list. From the overlay (split horizon): local members only. Copies come from
/// `io.allocateFrame()`; the original frame goes to the last destination.
extension SwitchPipeline {
    @inlinable mutating func flood<IO: FrameIO>(_ f: FrameDescriptor, bd: UInt16, from ingress: PortID, toOverlay: Bool,
                                                io: inout IO) {
        counters.vnis[Int(bd)].floods &+= 1
        let members = bridgeDomains.domains[Int(bd)].members
        let remotes = toOverlay ? bridgeDomains.domains[Int(bd)].floodList : []

        var targets = 0
        for m in members where m.port != ingress && ports.slots[Int(m.port.raw)].enabled { targets &+= 1 }
        for t in remotes {
            if let reason = remoteProblem(t.vtep, innerLength: f.length) {
                count(reason, port: underlay.uplink, bd: bd)
            } else {
                targets &+= 1
            }
        }
        guard targets > 0 else { return drop(f, .noFloodTargets, port: ingress, bd: bd, io: &io) }

        var left = targets
        for m in members where m.port != ingress && ports.slots[Int(m.port.raw)].enabled {
            left &-= 1
            if left == 0 { return deliver(f, to: m.port, vlan: m.vlan, bd: bd, io: &io) }
            guard let c = copy(f, headroom: m.vlan != 0 ? Ethernet.tagLength : 0, io: &io) else {
                count(.noBuffer, port: m.port, bd: bd)
                continue
            }
            deliver(c, to: m.port, vlan: m.vlan, bd: bd, io: &io)
        }
        guard !remotes.isEmpty else { return }
        let hash = FlowHash.hash(io.memory + Int(f.addr), length: f.length)
        for t in remotes where remoteProblem(t.vtep, innerLength: f.length) == nil {
            left &-= 1
            if left == 0 { return sendRemote(f, vtep: t.vtep, bd: bd, hash: hash, io: &io) }
            let need = Encap.overhead(toward: vteps.slots[Int(t.vtep)].ip)
            guard let c = copy(f, headroom: need, io: &io) else {
                count(.noBuffer, port: underlay.uplink, bd: bd)
                continue
            }
            sendRemote(c, vtep: t.vtep, bd: bd, hash: hash, io: &io)
        }
    }
}
