import XCTest
@testable import VXCore

/// A guest's super-frame passes whole only tap to tap, within one VNI, when it fits.
final class SuperFrameTests: XCTestCase {
    /// p1, p2 in VNI A and p3 in VNI B take super-frames; macB is learned on p2, macC on p3.
    private func makeTapSwitch(p2MTU: Int = 1500) -> SwitchPipeline {
        var (sw, _) = makeSwitch()
        sw.setPort(p1, PortConfig(kind: .access(vniA), takesSuperFrames: true))
        sw.setPort(p2, PortConfig(kind: .access(vniA), mtu: p2MTU, takesSuperFrames: true))
        sw.setPort(p3, PortConfig(kind: .access(vniB), takesSuperFrames: true))
        let bdA = sw.bridgeDomains.index(of: vniA)!, bdB = sw.bridgeDomains.index(of: vniB)!
        _ = sw.fdb.learnLocal(bd: bdA, mac: macB, port: p2, now: 1)
        _ = sw.fdb.learnLocal(bd: bdB, mac: macC, port: p3, now: 1)
        return sw
    }

    /// A guest's 45-segment TCP super-frame (MSS 1360) from macA to `dst`, as its virtio header says.
    private static let mss = 1360  // segments fit the 1500-byte uplink MTU after encapsulation, over IPv6 too
    private static func superFrame(dst: MACAddress, v6: Bool = false) -> [UInt8] {
        var t = TCPFrame()
        t.dst = dst
        t.v6 = v6
        t.payload = TCPFrame.pattern(45 * mss - 100)
        return t.tcp()
    }

    private static func guestHeader(v6: Bool = false) -> VirtioNetHeader {
        VirtioNetHeader(flags: VirtioNetHeader.flagNeedsCsum, gsoType: v6 ? VirtioNetHeader.gsoTCPv6 : VirtioNetHeader.gsoTCPv4,
                        hdrLen: v6 ? 74 : 54, gsoSize: UInt16(mss), csumStart: v6 ? 54 : 34, csumOffset: 16)
    }

    /// Where the super-frame goes; `tunnel`: the I/O layer has a tunnel tap (the headers land in it).
    private func destination(_ sw: inout SwitchPipeline, dst: MACAddress, from port: PortID = p1, v6: Bool = false,
                             tunnel: UnsafeMutableRawPointer? = nil) -> SuperFrameRoute? {
        let frame = Self.superFrame(dst: dst, v6: v6)
        return frame.withUnsafeBytes { b -> SuperFrameRoute? in
            guard let s = try? Segmenter(frame: b.baseAddress!, length: b.count, header: Self.guestHeader(v6: v6)) else {
                XCTFail("a valid super-frame"); return nil
            }
            XCTAssertEqual(s.segmentCount, 45)
            return sw.superFrameDestination(s, from: port, tunnelHeader: tunnel, now: 2)
        }
    }

    private static func wireBytes(v6: Bool = false) -> UInt64 {
        let headers = v6 ? 74 : 54
        return UInt64(superFrame(dst: macB, v6: v6).count + 44 * headers)
    }

    func testTapToTapInOneVNIGoesWholeAndIsCounted() {
        var sw = makeTapSwitch()
        XCTAssertEqual(destination(&sw, dst: macB), .port(p2))
        XCTAssertEqual(sw.counters.ports[Int(p1.raw)].rxPackets, 45, "counted as its segments")
        XCTAssertEqual(sw.counters.ports[Int(p2.raw)].txBytes, Self.wireBytes())
        let bdA = sw.bridgeDomains.index(of: vniA)!
        XCTAssertEqual(sw.fdb.lookup(bd: bdA, mac: macA), .port(p1), "the source is learned")
    }

    func testAnythingElseIsSegmented() {
        var sw = makeTapSwitch(p2MTU: 1300)
        XCTAssertNil(destination(&sw, dst: macB), "segments would not fit p2's MTU")
        sw = makeTapSwitch()
        XCTAssertNil(destination(&sw, dst: macC), "macC is in VNI B: never across VNIs")
        XCTAssertNil(destination(&sw, dst: .broadcast), "flooding goes frame by frame")
        XCTAssertNil(destination(&sw, dst: macD), "unknown destination: flooded")
        XCTAssertNil(destination(&sw, dst: macB, from: p2), "back to the port it came from")
        sw.setPort(p2, PortConfig(kind: .access(vniA)))
        _ = sw.fdb.learnLocal(bd: sw.bridgeDomains.index(of: vniA)!, mac: macB, port: p2, now: 1)
        XCTAssertNil(destination(&sw, dst: macB), "p2 takes only wire-sized frames (AF_XDP)")
        XCTAssertEqual(sw.counters.ports[Int(p1.raw)].rxPackets, 0, "nothing counted when it is segmented instead")
    }

    // MARK: To a remote VTEP, through the tunnel tap

    /// macD behind remote4, macC... (VNI A): with a tunnel tap the super-frame is encapsulated once.
    func testToARemoteVTEPGoesWholeWithATunnelHeader() {
        var sw = makeTapSwitch()
        XCTAssertTrue(sw.addStaticMAC(vni: vniA, macD, vtep: remote4))
        let room = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 16)
        defer { room.deallocate() }
        XCTAssertNil(destination(&sw, dst: macD), "no tunnel tap: segmented")
        XCTAssertEqual(destination(&sw, dst: macD, tunnel: room), .overlay(headerLength: 24 + 50))
        let h = VirtioNetHeader(loadingFrom: room)
        XCTAssertEqual(h.flags, VirtioNetHeader.flagNeedsCsum, "inner checksum partial; IPv4 outer UDP checksum zero")
        XCTAssertEqual(h.gsoType, VirtioNetHeader.gsoTCPv4 | VirtioNetHeader.gsoUDPTunnelIPv4)
        XCTAssertEqual(h.gsoSize, UInt16(Self.mss))
        XCTAssertEqual(h.csumStart, 50 + 34, "the inner TCP header, after the outer headers")
        XCTAssertEqual(h.csumOffset, 16)
        XCTAssertEqual(h.hdrLen, 50 + 54)
        XCTAssertEqual(UInt16(littleEndian: room.loadUnaligned(fromByteOffset: 20, as: UInt16.self)), 34, "outer UDP")
        XCTAssertEqual(UInt16(littleEndian: room.loadUnaligned(fromByteOffset: 22, as: UInt16.self)), 50 + 14, "inner IP")
        // The outer headers: what `Encap` writes for one frame of the super-frame's length.
        let outer = Array(UnsafeRawBufferPointer(start: room + 24, count: 50))
        let inner = Self.superFrame(dst: macD)
        let (vni, dst, _) = outerInfo(outer + inner)
        XCTAssertEqual(vni, vniA.value)
        XCTAssertEqual(dst, remote4)
        XCTAssertEqual(Array(outer[0..<6]), nextHopMAC.bytes, "to the VTEP's next hop")
        XCTAssertEqual(be16(outer, 14 + 2), 20 + 8 + 8 + inner.count, "outer IPv4 total length of the whole packet")
        XCTAssertEqual(be16(outer, 34 + 2), 4789)
        XCTAssertEqual(be16(outer, 34 + 6), 0, "no outer UDP checksum over IPv4")
        XCTAssertTrue(ipv4HeaderVerifies(outer, l3: 14))
        // Counted as the 45 packets the kernel will send.
        XCTAssertEqual(sw.counters.ports[Int(p1.raw)].rxPackets, 45)
        XCTAssertEqual(sw.counters.ports[0].txPackets, 45, "on the uplink")
        XCTAssertEqual(sw.counters.ports[0].txBytes, Self.wireBytes() + 45 * 50)
        let v = Int(sw.vteps.index(of: remote4)!)
        XCTAssertEqual(sw.counters.vteps[v].txPackets, 45)
    }

    func testOverIPv6TheOuterUDPChecksumIsLeftPartial() {
        var sw = makeTapSwitch()
        XCTAssertTrue(sw.addStaticMAC(vni: vniA, macD, vtep: remote6))
        let room = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 16)
        defer { room.deallocate() }
        XCTAssertEqual(destination(&sw, dst: macD, v6: true, tunnel: room), .overlay(headerLength: 24 + 70))
        let h = VirtioNetHeader(loadingFrom: room)
        XCTAssertEqual(h.flags, VirtioNetHeader.flagNeedsCsum | VirtioNetHeader.flagUDPTunnelCsum)
        XCTAssertEqual(h.gsoType, VirtioNetHeader.gsoTCPv6 | VirtioNetHeader.gsoUDPTunnelIPv6)
        XCTAssertEqual(h.csumStart, 70 + 54)
        XCTAssertEqual(UInt16(littleEndian: room.loadUnaligned(fromByteOffset: 20, as: UInt16.self)), 54)
        XCTAssertEqual(UInt16(littleEndian: room.loadUnaligned(fromByteOffset: 22, as: UInt16.self)), 70 + 14)
        // The UDP checksum field holds the pseudo-header sum (not complemented), for the kernel to complete per segment.
        let outer = Array(UnsafeRawBufferPointer(start: room + 24, count: 70))
        let udpLength = 8 + 8 + Self.superFrame(dst: macD, v6: true).count
        let pseudo = ~referenceChecksum(Array(outer[22..<54]) + be16(udpLength >> 16) + be16(udpLength & 0xFFFF) + [0, 0, 0, 17])
        XCTAssertEqual(be16(outer, 54 + 6), Int(pseudo))
    }

    func testToARemoteVTEPIsSegmentedWhenTheKernelCouldNotTakeItWhole() {
        var sw = makeTapSwitch()
        let room = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 16)
        defer { room.deallocate() }
        XCTAssertTrue(sw.addStaticMAC(vni: vniA, macD, vtep: IPAddress("10.0.0.9")!))
        XCTAssertNil(destination(&sw, dst: macD, tunnel: room), "VTEP without a next hop (not resolved)")
        sw.setNextHop(vtep: IPAddress("10.0.0.9")!, nextHopMAC)
        sw.underlay.uplinkMTU = 1400
        XCTAssertNil(destination(&sw, dst: macD, tunnel: room), "a segment would exceed the uplink MTU")
        XCTAssertEqual(sw.counters.ports[Int(p1.raw)].rxPackets, 0, "nothing counted when it is segmented instead")
    }
}
