import XCTest
@testable import VXCore

let vniA = VNI(unchecked: 100), vniB = VNI(unchecked: 200)
let uplink = PortID(0), p1 = PortID(1), p2 = PortID(2), p3 = PortID(3), trunk = PortID(4)

/// uplink 0; access 1, 2 in VNI A; access 3 in VNI B; trunk 4 (VLAN 10 → A, 20 → B).
/// Flood lists: A → 10.0.0.2 and fd00::2, B → 10.0.0.3. All next hops resolved.
func makeSwitch(frames: Int = 128) -> (SwitchPipeline, SyntheticFrameIO) {
    var sw = SwitchPipeline(underlay: testUnderlay(), maxPorts: 8, maxBridgeDomains: 8, maxVTEPs: 8, fdbCapacity: 256)
    sw.addVNI(vniA)
    sw.addVNI(vniB)
    sw.setPort(p1, PortConfig(kind: .access(vniA)))
    sw.setPort(p2, PortConfig(kind: .access(vniA)))
    sw.setPort(p3, PortConfig(kind: .access(vniB)))
    sw.setPort(trunk, PortConfig(kind: .trunk(vlans: [10: vniA, 20: vniB], native: nil)))
    sw.addFloodVTEP(vni: vniA, remote4)
    sw.addFloodVTEP(vni: vniA, remote6)
    sw.addFloodVTEP(vni: vniB, remote4b)
    for ip in [remote4, remote6, remote4b] { sw.setNextHop(vtep: ip, nextHopMAC) }
    return (sw, SyntheticFrameIO(frameCount: frames))
}

/// Runs one batch and returns what was transmitted (frames freed).
func pass(_ sw: inout SwitchPipeline, _ io: inout SyntheticFrameIO, from port: PortID, _ frames: [[UInt8]],
         headroom: Int? = nil, now: UInt32 = 1) -> [(port: PortID, bytes: [UInt8])] {
    var batch = frames.map { io.receive($0, headroom: headroom) }
    batch.withUnsafeMutableBufferPointer { sw.process($0, from: port, now: now, io: &io) }
    return io.collect()
}

/// The VNI and outer destination of an encapsulated frame (IPv4 or IPv6 outer).
func outerInfo(_ f: [UInt8]) -> (vni: UInt32, dst: IPAddress, inner: [UInt8]) {
    let v6 = be16(f, 12) == 0x86DD
    let vx = v6 ? 62 : 42
    let vni = UInt32(f[vx + 4]) << 16 | UInt32(f[vx + 5]) << 8 | UInt32(f[vx + 6])
    let dst = f.withUnsafeBytes { b in
        v6 ? IPAddress(loadingV6From: b.baseAddress! + 38) : IPAddress(loadingV4From: b.baseAddress! + 30)
    }
    return (vni, dst, Array(f[(vx + 8)...]))
}

final class PipelineTests: XCTestCase {
    func testBroadcastFloodsWithinItsVNIOnly() {
        var (sw, io) = makeSwitch()
        let free = io.freeCount
        let frame = Build.raw(dst: .broadcast, src: macA)
        let out = pass(&sw, &io, from: p1, [frame])
        XCTAssertEqual(Set(out.map(\.port)), [p2, trunk, uplink])
        XCTAssertEqual(out.first { $0.port == p2 }?.bytes, frame)
        XCTAssertEqual(out.first { $0.port == trunk }?.bytes, Build.ethernet(dst: .broadcast, src: macA, type: 0x88B5, vlan: 10) + frame[14...])
        let remote = out.filter { $0.port == uplink }.map { outerInfo($0.bytes) }
        XCTAssertEqual(Set(remote.map(\.dst)), [remote4, remote6], "never 10.0.0.3 (VNI B)")
        XCTAssertTrue(remote.allSatisfy { $0.vni == 100 && $0.inner == frame })
        XCTAssertEqual(io.freeCount, free, "no frame leaked")
        XCTAssertEqual(sw.counters.vnis[0].floods, 1)
        XCTAssertEqual(sw.counters.vteps[Int(sw.vteps.index(of: remote6)!)].txPackets, 1)
    }

    func testOverlayBUMGoesToLocalPortsOnly() {
        var (sw, io) = makeSwitch()
        let frame = Build.raw(dst: .broadcast, src: macC)
        var u = testUnderlay(); u.localV4 = remote4
        let outer = encap(frame, vni: 100, remote: local4, underlay: u)
        let out = pass(&sw, &io, from: uplink, [outer])
        XCTAssertEqual(Set(out.map(\.port)), [p1, p2, trunk], "split horizon: nothing back to the uplink")
        XCTAssertEqual(out.first { $0.port == p1 }?.bytes, frame)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testKnownUnicastLocalAndRemote() {
        var (sw, io) = makeSwitch()
        _ = pass(&sw, &io, from: p1, [Build.raw(dst: .broadcast, src: macA)]) // learn A on p1
        let toA = Build.raw(dst: macA, src: macB)
        XCTAssertEqual(pass(&sw, &io, from: p2, [toA]).map(\.port), [p1])
        XCTAssertEqual(pass(&sw, &io, from: p1, [toA]).count, 0)
        XCTAssertEqual(sw.counters.drops(port: p1, .sameSegment), 1)

        XCTAssertTrue(sw.installEVPNMAC(vni: vniA, macD, vtep: remote6, sequence: 1))
        let toD = Build.ipv4(dst: macD, src: macA, proto: 6, payload: [1, 2, 3])
        let out = pass(&sw, &io, from: p1, [toD])
        XCTAssertEqual(out.map(\.port), [uplink])
        XCTAssertEqual(outerInfo(out[0].bytes).dst, remote6)
        XCTAssertEqual(outerInfo(out[0].bytes).inner, toD)
        XCTAssertTrue(referenceL4Valid(out[0].bytes), "outer IPv6 UDP checksum")

        // From the overlay to a remote MAC: never back into the overlay.
        var u = testUnderlay(); u.localV4 = remote4
        XCTAssertEqual(pass(&sw, &io, from: uplink, [encap(toD, vni: 100, remote: local4, underlay: u)]).count, 0)
        XCTAssertEqual(sw.counters.drops(.splitHorizon), 1)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testNoHeadroomCopiesIntoFreshFrame() {
        var (sw, io) = makeSwitch()
        sw.installEVPNMAC(vni: vniA, macD, vtep: remote4, sequence: 0)
        let toD = Build.raw(dst: macD, src: macA)
        let out = pass(&sw, &io, from: p1, [toD], headroom: 0)
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].bytes, encap(toD, vni: 100, remote: remote4))
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testTrunkTagMapping() {
        var (sw, io) = makeSwitch()
        let inB = Build.raw(dst: .broadcast, src: macC)
        let tagged = Build.ethernet(dst: .broadcast, src: macC, type: 0x88B5, vlan: 20) + inB[14...]
        let out = pass(&sw, &io, from: trunk, [tagged])
        XCTAssertEqual(Set(out.map(\.port)), [p3, uplink])
        XCTAssertEqual(out.first { $0.port == p3 }?.bytes, inB, "tag stripped")
        XCTAssertEqual(out.filter { $0.port == uplink }.map { outerInfo($0.bytes).dst }, [remote4b])
        XCTAssertEqual(sw.fdb.lookup(bd: sw.bridgeDomains.index(of: vniB)!, mac: macC), .port(trunk))

        // Unicast back to C from VNI B gets VLAN 20 pushed.
        let toC = Build.raw(dst: macC, src: macD)
        XCTAssertEqual(pass(&sw, &io, from: p3, [toC]).first?.bytes,
                       Build.ethernet(dst: macC, src: macD, type: 0x88B5, vlan: 20) + toC[14...])
        // Untagged with no native VNI, and an unmapped VLAN.
        _ = pass(&sw, &io, from: trunk, [inB, Build.ethernet(dst: .broadcast, src: macC, type: 0x88B5, vlan: 30) + inB[14...]])
        XCTAssertEqual(sw.counters.drops(port: trunk, .vlanNotMapped), 2)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testVNIIsolationUnderMixedTraffic() {
        var (sw, io) = makeSwitch()
        var u = testUnderlay(); u.localV4 = remote4b
        let frames: [(PortID, [UInt8])] = [
            (p3, Build.raw(dst: .broadcast, src: macC)),
            (p3, Build.raw(dst: macA, src: macC)),
            (uplink, encap(Build.raw(dst: .broadcast, src: macD), vni: 200, remote: local4, underlay: u)),
            (trunk, Build.ethernet(dst: macA, src: macB, type: 0x88B5, vlan: 20) + [UInt8](repeating: 1, count: 46)),
        ]
        _ = pass(&sw, &io, from: p1, [Build.raw(dst: .broadcast, src: macA)]) // A lives in VNI A on p1
        for (port, f) in frames {
            for o in pass(&sw, &io, from: port, [f]) {
                XCTAssertNotEqual(o.port, p1, "VNI B frame on a VNI A port")
                XCTAssertNotEqual(o.port, p2, "VNI B frame on a VNI A port")
                if o.port == trunk { XCTAssertEqual(be16(o.bytes, 14) & 0xFFF, 20) }
                if o.port == uplink {
                    XCTAssertEqual(outerInfo(o.bytes).vni, 200)
                    XCTAssertEqual(outerInfo(o.bytes).dst, remote4b)
                }
            }
        }
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testChecksumCompletionOnPort() {
        var (sw, io) = makeSwitch()
        sw.setPort(p1, PortConfig(kind: .access(vniA), completeChecksums: true))
        let partial = Build.ipv6(dst: macB, src: macA, proto: 6, payload: [5, 6, 7], l4Checksum: 0x4242)
        let out = pass(&sw, &io, from: p1, [partial])
        XCTAssertEqual(out.count, 4)
        for o in out where o.port == p2 { XCTAssertTrue(referenceL4Valid(o.bytes)) }
        for o in out where o.port == uplink { XCTAssertTrue(referenceL4Valid(outerInfo(o.bytes).inner)) }
    }

    func testRemoteLearningAndEvents() {
        var (sw, io) = makeSwitch()
        sw.addVNI(vniA, learnRemote: true)
        sw.apply(.setVTEPAdmission(VTEPAdmission(accept: .any))) // 10.9.9.9 is in no flood list
        var u = testUnderlay(); u.localV4 = IPAddress("10.9.9.9")!
        _ = pass(&sw, &io, from: uplink, [encap(Build.raw(dst: .broadcast, src: macD), vni: 100, remote: local4, underlay: u)])
        let row = sw.fdbRows(now: 5, vni: vniA).first { $0.mac == macD }
        XCTAssertEqual(row?.vtep, IPAddress("10.9.9.9"))
        XCTAssertEqual(row?.origin, .remoteLearned)
        XCTAssertEqual(row?.age, 4)
        XCTAssertEqual(sw.vteps.needingResolution, [], "not needed until a frame wants it")
        // A frame to D now wants the new, unresolved VTEP.
        _ = pass(&sw, &io, from: p1, [Build.raw(dst: macD, src: macA)])
        XCTAssertEqual(sw.counters.drops(.vtepUnresolved), 1)
        XCTAssertEqual(sw.vteps.needingResolution, [IPAddress("10.9.9.9")!])
        let events = sw.drainFDBEvents()
        XCTAssertEqual(events.map(\.kind), [.learned, .learned])
        XCTAssertEqual(events.map(\.origin), [.remoteLearned, .localLearned])
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testMACLimitStillForwards() {
        var (sw, io) = makeSwitch()
        sw.addVNI(vniA, macLimit: 1)
        _ = pass(&sw, &io, from: p1, [Build.raw(dst: .broadcast, src: macA)])
        XCTAssertEqual(pass(&sw, &io, from: p1, [Build.raw(dst: .broadcast, src: macB)]).count, 4)
        XCTAssertNil(sw.fdb.lookup(bd: 0, mac: macB))
        XCTAssertEqual(sw.counters.vnis[0].macLimitHits, 1)
    }

    /// 802.1Q ingress filtering on an access port: a priority-tagged frame (VID 0) is taken as
    /// untagged and goes on without its tag, to local ports and into the overlay.
    func testPriorityTagIsTakenAsUntagged() {
        var (sw, io) = makeSwitch()
        let untagged = Build.raw(dst: .broadcast, src: macA)
        let priority = Build.ethernet(dst: .broadcast, src: macA, type: 0x88B5, vlan: 0) + untagged[14...]
        let out = pass(&sw, &io, from: p1, [priority])
        XCTAssertEqual(Set(out.map(\.port)), [p2, trunk, uplink])
        XCTAssertEqual(out.first { $0.port == p2 }?.bytes, untagged, "tag removed")
        XCTAssertTrue(out.filter { $0.port == uplink }.allSatisfy { outerInfo($0.bytes).inner == untagged })
        XCTAssertEqual(sw.counters.drops(.taggedOnAccess), 0)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    /// `carryTagged` (through `TableUpdate.addVNI`, as the daemon sends it): tagged frames pass
    /// as they are, both ways; the same frames without it are dropped per port and per VNI.
    func testCarryTaggedVNIPassesTags() {
        var (sw, io) = makeSwitch()
        let tagged = Build.ethernet(dst: .broadcast, src: macA, type: 0x88B5, vlan: 10) + [UInt8](repeating: 0, count: 46)
        var u = testUnderlay(); u.localV4 = remote4
        let outer = encap(Build.ethernet(dst: .broadcast, src: macC, type: 0x88B5, vlan: 10) + [UInt8](repeating: 0, count: 46),
                          vni: 100, remote: local4, underlay: u)
        XCTAssertEqual(pass(&sw, &io, from: p1, [tagged]).count, 0)
        XCTAssertEqual(pass(&sw, &io, from: uplink, [outer]).count, 0)
        XCTAssertEqual(sw.counters.drops(port: p1, .taggedOnAccess), 1)
        XCTAssertEqual(sw.counters.drops(port: uplink, .innerVLANTag), 1)
        XCTAssertEqual(sw.counters.drops(bd: 0, .taggedOnAccess), 1)
        XCTAssertEqual(sw.counters.drops(bd: 0, .innerVLANTag), 1)

        XCTAssertTrue(sw.apply(.addVNI(vniA, learnRemote: false, macLimit: nil, carryTagged: true)))
        let fromPort = pass(&sw, &io, from: p1, [tagged])
        XCTAssertEqual(fromPort.first { $0.port == p2 }?.bytes, tagged, "carried as it is")
        XCTAssertTrue(fromPort.contains { $0.port == uplink && outerInfo($0.bytes).inner == tagged })
        XCTAssertEqual(pass(&sw, &io, from: uplink, [outer]).first { $0.port == p1 }?.bytes, Array(outer[50...]))
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    /// A link-local group frame is dropped, a neighbouring group address (01:80:C2:00:00:10) floods.
    func testOnlyReservedGroupAddressesStop() {
        var (sw, io) = makeSwitch()
        XCTAssertEqual(pass(&sw, &io, from: p1, [Build.raw(dst: MACAddress(0x01, 0x80, 0xC2, 0, 0, 0x0E), src: macA)]).count, 0)
        XCTAssertEqual(sw.counters.drops(port: p1, .linkLocalGroup), 1)
        XCTAssertEqual(pass(&sw, &io, from: p1, [Build.raw(dst: MACAddress(0x01, 0x80, 0xC2, 0, 0, 0x10), src: macA)]).count, 4)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    /// Outer group destination MACs are decapsulated; the uplink's own MAC is, another host's is not.
    func testOuterDestinationMAC() {
        var (sw, io) = makeSwitch()
        var u = testUnderlay(); u.localV4 = remote4
        var outer = encap(Build.raw(dst: .broadcast, src: macC), vni: 100, remote: local4, underlay: u)
        XCTAssertEqual(pass(&sw, &io, from: uplink, [outer]).count, 3)
        outer.replaceSubrange(0..<6, with: [0x01, 0x00, 0x5E, 0, 0, 1])
        XCTAssertEqual(pass(&sw, &io, from: uplink, [outer]).count, 3, "multicast underlay")
        outer.replaceSubrange(0..<6, with: nextHopMAC.bytes)
        XCTAssertEqual(pass(&sw, &io, from: uplink, [outer]).count, 0)
        XCTAssertEqual(sw.counters.drops(port: uplink, .notOurMAC), 1)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    /// Egress MTU: a frame fits a port when what follows its Ethernet header (and its own tag) fits the MTU.
    func testEgressMTUBoundary() {
        var (sw, io) = makeSwitch()
        sw.setPort(p2, PortConfig(kind: .access(vniA), mtu: 500))
        sw.addStaticMAC(vni: vniA, macB, port: p2)
        XCTAssertEqual(pass(&sw, &io, from: p1, [Build.raw(dst: macB, src: macA, count: 514)]).map(\.port), [p2])
        XCTAssertEqual(pass(&sw, &io, from: p1, [Build.raw(dst: macB, src: macA, count: 515)]).count, 0)
        XCTAssertEqual(sw.counters.drops(port: p2, .tooBig), 1)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }
}
