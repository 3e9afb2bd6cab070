/// GSO super-frames between two local taps, passed whole.
///
/// A guest's TSO super-frame to a guest on another tap of this host needs no segmenting:
/// the Linux bridge hands it over as it is, and so does vxsw when both ends are taps on
/// packet sockets (`PortConfig.takesSuperFrames`). Everything else (remote destinations,
/// flooding, trunk ports, tagged frames, a destination whose MTU the segments would not fit) is segmented
/// by the I/O layer and goes through `process` frame by frame.
extension SwitchPipeline {
    /// For a super-frame from access port `port` (at `p`, Ethernet header first): learns its
    /// source and, when its destination is one local access port of the same bridge domain
    /// that takes super-frames and whose MTU fits `maxSegment`, counts it as `segments` frames
    /// of `wireBytes` bytes in all and returns that port. Otherwise returns nil and counts
    /// nothing (the caller segments it and the segments are counted by `process`).
    @inlinable
    public mutating func superFrameDestination(_ p: UnsafeRawPointer, from port: PortID, segments: Int, wireBytes: Int,
                                               maxSegment: Int, now: UInt32) -> PortID? {
        guard ports.contains(port) else { return nil }
        let pi = Int(port.raw)
        let bd = ports.slots[pi].bd
        guard ports.slots[pi].enabled, !ports.slots[pi].isTrunk, bd != PortTable.noBD else { return nil }
        let src = Ethernet.source(p), dst = Ethernet.destination(p)
        guard !src.isMulticast, !src.isZero, !dst.isMulticast, !Ethernet.isTagged(p),
              case .port(let out)? = fdb.lookup(bd: bd, mac: dst), out != port, ports.contains(out) else { return nil }
        let oi = Int(out.raw)
        guard ports.slots[oi].enabled, ports.slots[oi].takesSuperFrames, !ports.slots[oi].isTrunk,
              ports.slots[oi].bd == bd, maxSegment <= ports.slots[oi].maxFrame else { return nil }
        if fdb.learnLocal(bd: bd, mac: src, port: port, now: now) == .limited {
            counters.vnis[Int(bd)].macLimitHits &+= 1
        }
        let n = UInt64(truncatingIfNeeded: segments), bytes = UInt64(truncatingIfNeeded: wireBytes)
        counters.ports[pi].rxPackets &+= n
        counters.ports[pi].rxBytes &+= bytes
        counters.vnis[Int(bd)].rxPackets &+= n
        counters.vnis[Int(bd)].rxBytes &+= bytes
        counters.ports[oi].txPackets &+= n
        counters.ports[oi].txBytes &+= bytes
        counters.vnis[Int(bd)].txPackets &+= n
        counters.vnis[Int(bd)].txBytes &+= bytes
        return out
    }
}
