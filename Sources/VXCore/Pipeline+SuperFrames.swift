/// Where a GSO super-frame from a tap goes whole.
///
/// A guest's TSO super-frame needs no segmenting by vxsw when it goes
/// - to a guest on another tap of this host (both packet-socket ports, `PortConfig.takesSuperFrames`):
///   handed over as it is, as the Linux bridge does;
/// - to a remote VTEP when the I/O layer has a tunnel tap (`tunnelHeader` non-nil): encapsulated
///   once, and the uplink (NIC tunnel TSO or the kernel's GSO) cuts it, as behind kernel vxlan.
/// Everything else (flooding, trunk ports, tagged frames, a destination whose MTU a segment
/// would not fit, a VTEP not resolved) is segmented by the I/O layer and goes through
/// `process` frame by frame.
public enum SuperFrameRoute: Equatable, Sendable {
    /// To this local tap, with the virtio-net header it came with.
    case port(PortID)
    /// To the tunnel tap: the `headerLength` bytes written at `tunnelHeader` (a
    /// `VirtioTunnelHeader`, then the outer Ethernet/IP/UDP/VXLAN headers), then the frame.
    case overlay(headerLength: Int)
}

extension SwitchPipeline {
    /// For the super-frame `s` from access port `port`: learns its source and, when it can go
    /// whole, counts it as its segments and returns where. Otherwise returns nil and counts
    /// nothing (the caller segments it and the segments are counted by `process`).
    @inlinable
    public mutating func superFrameDestination(_ s: Segmenter, from port: PortID, tunnelHeader: UnsafeMutableRawPointer?,
                                               now: UInt32) -> SuperFrameRoute? {
        guard ports.contains(port) else { return nil }
        let pi = Int(port.raw)
        let bd = ports.slots[pi].bd
        guard ports.slots[pi].enabled, !ports.slots[pi].isTrunk, bd != PortTable.noBD else { return nil }
        let p = s.frame
        let src = Ethernet.source(p), dst = Ethernet.destination(p)
        guard !src.isMulticast, !src.isZero, !dst.isMulticast, !Ethernet.isTagged(p),
              let to = fdb.lookup(bd: bd, mac: dst) else { return nil }
        let n = UInt64(truncatingIfNeeded: s.segmentCount), bytes = UInt64(truncatingIfNeeded: s.wireBytes)
        let route: SuperFrameRoute, out: PortID
        var outBytes = bytes
        switch to {
        case .port(let o):
            guard o != port, ports.contains(o) else { return nil }
            let oi = Int(o.raw)
            guard ports.slots[oi].enabled, ports.slots[oi].takesSuperFrames, !ports.slots[oi].isTrunk,
                  ports.slots[oi].bd == bd, s.maxSegmentLength <= ports.slots[oi].maxFrame else { return nil }
            route = .port(o)
            out = o
        case .vtep(let v):
            guard let header = tunnelHeader,
                  let length = writeTunnelHeaders(header, for: s, vtep: v, bd: bd) else { return nil }
            route = .overlay(headerLength: length)
            out = underlay.uplink
            // On the wire each segment carries the outer headers too.
            outBytes &+= n &* UInt64(truncatingIfNeeded: length &- VirtioTunnelHeader.size)
            counters.vteps[Int(v)].txPackets &+= n
            counters.vteps[Int(v)].txBytes &+= outBytes
        }
        countLearning(fdb.learnLocal(bd: bd, mac: src, port: port, now: now), bd: bd, port: port)
        counters.ports[pi].rxPackets &+= n
        counters.ports[pi].rxBytes &+= bytes
        counters.vnis[Int(bd)].rxPackets &+= n
        counters.vnis[Int(bd)].rxBytes &+= bytes
        let oi = Int(out.raw)
        counters.ports[oi].txPackets &+= n
        counters.ports[oi].txBytes &+= outBytes
        counters.vnis[Int(bd)].txPackets &+= n
        counters.vnis[Int(bd)].txBytes &+= bytes
        return route
    }

    /// Writes the tunnel header and the outer headers toward VTEP `v` for `s` at `h`;
    /// returns their length, or nil when `s` must be segmented instead: the VTEP is not
    /// ready, a segment would exceed the uplink MTU, the whole packet would exceed 64 KB, or
    /// the guest's checksum request is not the plain one the kernel's tunnel GSO takes.
    @inlinable
    mutating func writeTunnelHeaders(_ h: UnsafeMutableRawPointer, for s: Segmenter, vtep v: UInt16, bd: UInt16) -> Int? {
        guard remoteProblem(v, innerLength: s.maxSegmentLength) == nil else { return nil }
        let header = s.header
        guard header.needsChecksum, Int(header.csumStart) == s.layout.l4 else { return nil }
        let vtep = vteps.slots[Int(v)]
        let overhead = Encap.overhead(toward: vtep.ip)
        guard Encap.outerIPLength(innerLength: s.length, toward: vtep.ip) <= 0xFFFF else { return nil }
        let v6 = !vtep.ip.isIPv4
        let outerChecksum = v6 && !underlay.udp6ZeroChecksum
        VirtioTunnelHeader.store(to: h, for: s, overhead: overhead,
                                 outerTransport: overhead &- UDP.headerLength &- VXLAN.headerLength,
                                 outerIPv6: v6, outerChecksum: outerChecksum)
        let local = v6 ? underlay.localV6! : underlay.localV4!
        Encap.writeHeaders(before: h + VirtioTunnelHeader.size + overhead, innerLength: s.length,
                           vni: VNI(unchecked: fdb.vniOfBD[Int(bd)]), local: local, remote: vtep.ip, nextHop: vtep.nextHop!,
                           sourcePort: FlowHash.sourcePort(FlowHash.hash(s.frame, length: s.length), in: underlay.sourcePortRange),
                           underlay: underlay, partialChecksum: true)
        return VirtioTunnelHeader.size &+ overhead
    }
}
