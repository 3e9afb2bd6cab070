import CVXSW
import VXCore
import VXDatapath
import VXLabKit
import XCTest

/// The XDP fast path against the Swift engine: the same crafted frame goes through the XDP
/// program (BPF_PROG_RUN returns the rewritten frame) and through `SwitchPipeline` on
/// `SyntheticFrameIO`; where XDP takes the frame, the bytes must be identical and the
/// target the engine's. The maps are derived from the very pipeline (`FastPathTables`).
///
///   VNI 1000: port 1 (macA), port 2 (macB), macR4 at VTEP 198.18.0.2, macR6 at fd00:18::2
///   VNI 2000: port 3 (macC)
final class FastPathXDPTests: XCTestCase {
    var program: XDPProgram!
    var maps: FastPathMaps!
    var pipeline: SwitchPipeline!
    var tables = FastPathTables()
    let loopback: Int32 = 1 // BPF_PROG_RUN needs an existing ingress interface

    let macA = MACAddress(0x02, 0, 0, 0, 0, 0x0A)
    let macB = MACAddress(0x02, 0, 0, 0, 0, 0x0B)
    let macC = MACAddress(0x02, 0, 0, 0, 0, 0x0C)
    let macR4 = MACAddress(0x02, 0, 0, 0, 4, 0x04)
    let macR6 = MACAddress(0x02, 0, 0, 0, 6, 0x06)
    let stranger = MACAddress(0x02, 0, 0, 0, 0x99, 0x99)
    let uplinkMAC = MACAddress(0x02, 0xAA, 0, 0, 0, 1)
    let nextHop = MACAddress(0x02, 0xBB, 0, 0, 0, 2)
    let vtep4 = IPAddress("198.18.0.2")!
    let vtep6 = IPAddress("fd00:18::2")!
    let uplink = PortID(0), p1 = PortID(1), p2 = PortID(2), p3 = PortID(3)

    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: loads a BPF program (BPF_PROG_RUN)")
        program = try XDPProgram()
        maps = try FastPathMaps(program: program)
        try program.setConfig(vtep4: IPAddress("198.18.0.1"), vtep6: IPAddress("fd00:18::1"), udpPort: 4789)
        var underlay = UnderlayConfig(uplink: uplink, uplinkMAC: uplinkMAC, localV4: IPAddress("198.18.0.1"),
                                      localV6: IPAddress("fd00:18::1"))
        underlay.uplinkMTU = 1600
        underlay.completeDecapChecksums = true
        var p = SwitchPipeline(underlay: underlay, maxPorts: 8, maxBridgeDomains: 8, maxVTEPs: 8, fdbCapacity: 64)
        p.addVNI(VNI(1000)!)
        p.addVNI(VNI(2000)!)
        p.setPort(p1, PortConfig(kind: .access(VNI(1000)!), completeChecksums: true))
        p.setPort(p2, PortConfig(kind: .access(VNI(1000)!), completeChecksums: true))
        p.setPort(p3, PortConfig(kind: .access(VNI(2000)!), completeChecksums: true))
        p.setNextHop(vtep: vtep4, nextHop)
        p.setNextHop(vtep: vtep6, nextHop)
        let bd1000 = p.bridgeDomains.index(of: VNI(1000)!)!, bd2000 = p.bridgeDomains.index(of: VNI(2000)!)!
        _ = p.fdb.learnLocal(bd: bd1000, mac: macA, port: p1, now: 1)
        _ = p.fdb.learnLocal(bd: bd1000, mac: macB, port: p2, now: 1)
        _ = p.fdb.learnLocal(bd: bd2000, mac: macC, port: p3, now: 1)
        p.addStaticMAC(vni: VNI(1000)!, macR4, vtep: vtep4)
        p.addStaticMAC(vni: VNI(1000)!, macR6, vtep: vtep6)
        pipeline = p
    }

    override func tearDown() {
        program = nil // closes the object and its maps
    }

    /// Mirrors the pipeline with `ingress` as the interface frames come in on (loopback).
    func mirror(ingress: PortID, enabled: Bool = true, tapGRO: Bool = false) throws {
        var ifindex: [PortID: Int32] = [uplink: 900, p1: 901, p2: 902, p3: 903]
        ifindex[ingress] = loopback
        var new = FastPathTables(pipeline: pipeline, ifindex: ifindex)
        new.config.tapGRO = tapGRO
        try maps.apply(from: tables, to: new, enabled: enabled)
        tables = new
        try program.setPort(ifindex: loopback, slot: 1, role: ingress == uplink ? .uplink : .access)
    }

    struct XDPResult {
        var verdict: Int32
        var bytes: [UInt8]
        var counter: String
    }

    func runXDP(_ frame: [UInt8]) throws -> XDPResult {
        let before = program.statistics()
        var out = [UInt8](repeating: 0, count: 4096)
        var outLen = UInt32(out.count)
        let rc = cvxsw_xdp_test_run(program.programFD, frame, UInt32(frame.count), &out, &outLen, UInt32(loopback), 0, 1)
        XCTAssertGreaterThanOrEqual(rc, 0, "BPF_PROG_RUN failed: \(rc)")
        let after = program.statistics()
        let moved = after.keys.sorted().first { after[$0]! != (before[$0] ?? 0) } ?? "none"
        return XDPResult(verdict: rc, bytes: Array(out[0..<Int(outLen)]), counter: moved)
    }

    /// What the Swift engine sends for `frame` received on `port`.
    func runSwift(_ frame: [UInt8], from port: PortID) -> [(port: PortID, bytes: [UInt8])] {
        var io = SyntheticFrameIO(frameCount: 16, frameSize: 4096)
        var f = io.receive(frame)
        withUnsafeMutablePointer(to: &f) { ptr in
            pipeline.process(UnsafeMutableBufferPointer(start: ptr, count: 1), from: port, now: 10, io: &io)
        }
        return io.collect()
    }

    /// The frame takes the fast path (`counter`), and XDP's bytes equal the engine's.
    func assertIdentical(_ frame: [UInt8], from port: PortID, counter: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try mirror(ingress: port)
        let xdp = try runXDP(frame)
        let swift = runSwift(frame, from: port)
        XCTAssertEqual(xdp.verdict, Int32(XDP_REDIRECT.rawValue), "verdict", file: file, line: line)
        XCTAssertEqual(xdp.counter, counter, file: file, line: line)
        XCTAssertEqual(swift.count, 1, "the engine sends one frame", file: file, line: line)
        guard let sent = swift.first else { return }
        if xdp.bytes != sent.bytes {
            let diff = zip(xdp.bytes, sent.bytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            XCTFail("bytes differ (xdp \(xdp.bytes.count), swift \(sent.bytes.count), first difference at \(diff.map(String.init) ?? "length"))",
                    file: file, line: line)
        }
    }

    /// The frame is declined: it goes to the AF_XDP socket (none here, so the fallback verdict).
    func assertDeclined(_ frame: [UInt8], from port: PortID, _ why: String, tapGRO: Bool = false,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        try mirror(ingress: port, tapGRO: tapGRO)
        let xdp = try runXDP(frame)
        XCTAssertEqual(xdp.counter, port == uplink ? "vxlan_to_switch" : "access_to_switch", why, file: file, line: line)
        XCTAssertEqual(xdp.bytes, frame, "a declined frame is handed over unchanged (\(why))", file: file, line: line)
    }

    // MARK: Frames

    /// Ethernet + IPv4 + TCP (or UDP) with `payload` bytes; the L4 checksum field holds
    /// `checksum` (e.g. a CHECKSUM_PARTIAL pseudo-header sum, or garbage).
    func ipv4Frame(dst: MACAddress, src: MACAddress, proto: UInt8 = 6, payload: Int, checksum: UInt16 = 0x1234,
                   padding: Int = 0) -> [UInt8] {
        let l4 = (proto == 6 ? 20 : 8) + payload
        var f = dst.bytes + src.bytes + [0x08, 0x00]
        f += [0x45, 0, UInt8((20 + l4) >> 8), UInt8((20 + l4) & 0xFF), 0x12, 0x34, 0x40, 0, 64, proto, 0, 0,
              198, 19, 10, 11, 198, 19, 10, 21]
        if proto == 6 {
            f += [0x9C, 0x40, 0x14, 0x51, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xFF, 0xFF,
                  UInt8(checksum >> 8), UInt8(checksum & 0xFF), 0, 0]
        } else {
            f += [0x9C, 0x40, 0x14, 0x51, UInt8(l4 >> 8), UInt8(l4 & 0xFF), UInt8(checksum >> 8), UInt8(checksum & 0xFF)]
        }
        f += (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        return f + [UInt8](repeating: 0, count: padding)
    }

    func ipv6Frame(dst: MACAddress, src: MACAddress, payload: Int) -> [UInt8] {
        let l4 = 8 + payload
        var f = dst.bytes + src.bytes + [0x86, 0xDD]
        f += [0x60, 0, 0, 0, UInt8(l4 >> 8), UInt8(l4 & 0xFF), 17, 64]
        f += IPAddress("fd00:10::11")!.bytes + IPAddress("fd00:10::21")!.bytes
        f += [0xD0, 0x00, 0x00, 0x35, UInt8(l4 >> 8), UInt8(l4 & 0xFF), 0xAB, 0xCD]
        return f + (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
    }

    func icmpFrame(dst: MACAddress, src: MACAddress) -> [UInt8] {
        var f = dst.bytes + src.bytes + [0x08, 0x00]
        f += [0x45, 0, 0, 84, 0xAB, 0xCD, 0x40, 0, 64, 1, 0, 0, 198, 19, 10, 11, 198, 19, 10, 21]
        return f + [8, 0, 0x12, 0x34, 0, 1, 0, 1] + [UInt8](repeating: 0x5A, count: 56)
    }

    /// `inner` encapsulated by a remote VTEP toward us, as VXCore would build it.
    func vxlan(_ inner: [UInt8], vni: UInt32 = 1000, from remote: IPAddress? = nil, padding: Int = 0) -> [UInt8] {
        let remote = remote ?? vtep4
        let local = remote.isIPv4 ? IPAddress("198.18.0.1")! : IPAddress("fd00:18::1")!
        let overhead = Encap.overhead(toward: local)
        var u = UnderlayConfig(uplink: uplink, uplinkMAC: nextHop, localV4: remote.isIPv4 ? remote : nil,
                               localV6: remote.isIPv4 ? nil : remote)
        u.udp6ZeroChecksum = false
        var frame = [UInt8](repeating: 0, count: overhead) + inner
        frame.withUnsafeMutableBytes { b in
            Encap.writeHeaders(before: b.baseAddress! + overhead, innerLength: inner.count, vni: VNI(vni)!,
                               local: remote, remote: local, nextHop: uplinkMAC, sourcePort: 54321, underlay: u)
        }
        return frame + [UInt8](repeating: 0xEE, count: padding)
    }

    // MARK: Identical bytes

    func testEncapIPv4IdenticalBytes() throws {
        try assertIdentical(icmpFrame(dst: macR4, src: macA), from: p1, counter: "fast_encap")
        // TCP left CHECKSUM_PARTIAL (or with any value in the field): both complete it the same way.
        for payload in [0, 1, 2, 3, 15, 31, 32, 33, 255, 256, 257, 511, 1000, 1447] {
            try assertIdentical(ipv4Frame(dst: macR4, src: macA, payload: payload), from: p1, counter: "fast_encap")
        }
        for checksum: UInt16 in [0, 0xFFFF, 0xBEEF] {
            try assertIdentical(ipv4Frame(dst: macR4, src: macA, payload: 100, checksum: checksum), from: p1, counter: "fast_encap")
        }
        // UDP: computed; UDP over IPv4 with checksum 0 ("none") is left alone by both.
        try assertIdentical(ipv4Frame(dst: macR4, src: macA, proto: 17, payload: 99), from: p1, counter: "fast_encap")
        try assertIdentical(ipv4Frame(dst: macR4, src: macA, proto: 17, payload: 99, checksum: 0), from: p1, counter: "fast_encap")
        // Ethernet padding after a short IP packet is carried as it is.
        try assertIdentical(ipv4Frame(dst: macR4, src: macA, payload: 2, padding: 4), from: p1, counter: "fast_encap")
        try assertIdentical(ipv6Frame(dst: macR4, src: macA, payload: 700), from: p1, counter: "fast_encap")
    }

    /// IPv6 underlay: the outer UDP checksum over the whole frame (RFC 6935), or 0 when configured.
    func testEncapIPv6IdenticalBytes() throws {
        for payload in [0, 1, 64, 333, 1400] {
            try assertIdentical(ipv4Frame(dst: macR6, src: macA, payload: payload), from: p1, counter: "fast_encap")
            try assertIdentical(ipv6Frame(dst: macR6, src: macA, payload: payload), from: p1, counter: "fast_encap")
        }
        pipeline.underlay.udp6ZeroChecksum = true
        try assertIdentical(ipv4Frame(dst: macR6, src: macA, payload: 333), from: p1, counter: "fast_encap")
    }

    func testLocalDeliveryIdenticalBytes() throws {
        try assertIdentical(icmpFrame(dst: macB, src: macA), from: p1, counter: "fast_local")
        try assertIdentical(ipv4Frame(dst: macB, src: macA, payload: 777), from: p1, counter: "fast_local")
        try assertIdentical(ipv6Frame(dst: macB, src: macA, payload: 51), from: p1, counter: "fast_local")
    }

    func testDecapIdenticalBytes() throws {
        try assertIdentical(vxlan(icmpFrame(dst: macA, src: macR4)), from: uplink, counter: "fast_decap")
        for payload in [0, 1, 100, 1001, 1440] {
            try assertIdentical(vxlan(ipv4Frame(dst: macA, src: macR4, payload: payload)), from: uplink, counter: "fast_decap")
            try assertIdentical(vxlan(ipv6Frame(dst: macA, src: macR6, payload: payload), from: vtep6), from: uplink,
                                counter: "fast_decap")
        }
        // Bytes after the outer packet (padding) are cut, as the engine cuts them.
        try assertIdentical(vxlan(ipv4Frame(dst: macA, src: macR4, payload: 3), padding: 9), from: uplink, counter: "fast_decap")
    }

    /// A guest's tap (a packet-socket port) gets only bare TCP ACKs from XDP: a segment with data
    /// goes to the engine, which coalesces a flow's segments into super-frames for the guest.
    func testATapTakesOnlyBareACKsFromTheUplink() throws {
        pipeline.setPort(p1, PortConfig(kind: .access(VNI(1000)!), completeChecksums: true, takesSuperFrames: true))
        _ = pipeline.fdb.learnLocal(bd: pipeline.bridgeDomains.index(of: VNI(1000)!)!, mac: macA, port: p1, now: 1) // a port change flushes it
        try mirror(ingress: uplink)
        for inner in [ipv4Frame(dst: macA, src: macR4, payload: 0), ipv6TCPACK(dst: macA, src: macR6)] {
            let remote = inner[12] == 0x86 ? vtep6 : vtep4
            let xdp = try runXDP(vxlan(inner, from: remote))
            XCTAssertEqual(xdp.verdict, Int32(XDP_REDIRECT.rawValue))
            XCTAssertEqual(xdp.counter, "fast_decap_tap_ack")
            XCTAssertEqual(xdp.bytes, runSwift(vxlan(inner, from: remote), from: uplink).first?.bytes, "the bytes the engine sends")
        }
        try assertDeclined(vxlan(ipv4Frame(dst: macA, src: macR4, payload: 100)), from: uplink, "data: the engine coalesces it")
        try assertDeclined(vxlan(icmpFrame(dst: macA, src: macR4)), from: uplink, "not TCP")
        var syn = ipv4Frame(dst: macA, src: macR4, payload: 0)
        syn[14 + 20 + 13] = 0x12 // SYN+ACK
        try assertDeclined(vxlan(syn), from: uplink, "SYN: not a bare ACK")
    }

    /// With the uplink's tap delivery attached (`tap_gro`), a segment with data for a tap is
    /// decapsulated and passed up (XDP_PASS) with the tap in its metadata, for GRO and the uplink's
    /// tc program; its bytes are the inner frame as it came (checksums left to the kernel, as a
    /// bridge leaves them). Bare ACKs still go straight to the tap; what the fast path would not
    /// decapsulate is still declined.
    func testATapsDataGoesUpThroughGROWithItsTapInTheMetadata() throws {
        pipeline.setPort(p1, PortConfig(kind: .access(VNI(1000)!), completeChecksums: true, takesSuperFrames: true))
        let bd = pipeline.bridgeDomains.index(of: VNI(1000)!)!
        _ = pipeline.fdb.learnLocal(bd: bd, mac: macA, port: p1, now: 1)
        try mirror(ingress: uplink, tapGRO: true)
        for inner in [ipv4Frame(dst: macA, src: macR4, payload: 1400), ipv4Frame(dst: macA, src: macR4, proto: 17, payload: 99),
                      ipv6Frame(dst: macA, src: macR6, payload: 700), icmpFrame(dst: macA, src: macR4)] {
            let remote = inner[12] == 0x86 ? vtep6 : vtep4
            let xdp = try runXDP(vxlan(inner, from: remote))
            XCTAssertEqual(xdp.verdict, Int32(XDP_PASS.rawValue), "up to GRO")
            XCTAssertEqual(xdp.counter, "fast_decap_tap")
            XCTAssertEqual(xdp.bytes.count, 16 + inner.count, "metadata, then the inner frame")
            let word = { (i: Int) in xdp.bytes[i..<i + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }
            XCTAssertEqual(word(0), 0x7678_7467, "the metadata's magic")
            XCTAssertEqual(word(4), 901, "the tap's ifindex")
            XCTAssertEqual(word(8), UInt32(bd), "its bridge domain")
            XCTAssertEqual(Array(xdp.bytes.dropFirst(16)), inner, "the inner frame, unchanged")
        }
        let ack = try runXDP(vxlan(ipv4Frame(dst: macA, src: macR4, payload: 0)))
        XCTAssertEqual(ack.counter, "fast_decap_tap_ack", "a bare ACK still goes straight to the tap")
        try assertDeclined(vxlan(ipv4Frame(dst: macA, src: macR4, payload: 100), vni: 2000), from: uplink, "macA is in another VNI",
                           tapGRO: true)
        try assertDeclined(vxlan(ipv4Frame(dst: macA, src: stranger, payload: 100)), from: uplink, "a source the fast path does not know",
                           tapGRO: true)
        // Without the delivery attached, data waits for the engine's coalescing.
        try assertDeclined(vxlan(ipv4Frame(dst: macA, src: macR4, payload: 100)), from: uplink, "no tap_gro: the engine")
    }

    func ipv6TCPACK(dst: MACAddress, src: MACAddress) -> [UInt8] {
        var f = dst.bytes + src.bytes + [0x86, 0xDD]
        f += [0x60, 0, 0, 0, 0, 20, 6, 64]
        f += IPAddress("fd00:10::11")!.bytes + IPAddress("fd00:10::21")!.bytes
        return f + [0x9C, 0x40, 0x14, 0x51, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xFF, 0xFF, 0x12, 0x34, 0, 0]
    }

    // MARK: What the fast path declines

    func testVNIIsolation() throws {
        // macC is known in VNI 2000 only: a VNI 1000 frame to it is never fast-pathed (the engine floods it in 1000).
        try assertDeclined(icmpFrame(dst: macC, src: macA), from: p1, "macC is in another VNI")
        // The same from the overlay: VNI 2000 frame to macA (a VNI 1000 MAC).
        try assertDeclined(vxlan(icmpFrame(dst: macA, src: macR4), vni: 2000), from: uplink, "macA is in another VNI")
        // A VNI the switch does not have.
        try assertDeclined(vxlan(icmpFrame(dst: macA, src: macR4), vni: 3000), from: uplink, "unknown VNI")
        // A MAC known as a port of another VNI's domain, even with the same address in the FDB key space,
        // never crosses: port 3 (VNI 2000) sending to macA (VNI 1000) misses.
        let bd2000 = pipeline.bridgeDomains.index(of: VNI(2000)!)!
        _ = pipeline.fdb.learnLocal(bd: bd2000, mac: stranger, port: p3, now: 1)
        try assertDeclined(icmpFrame(dst: macA, src: stranger), from: p3, "macA is not in VNI 2000")
    }

    func testSplitHorizon() throws {
        // An overlay frame whose destination is behind a VTEP is never sent back into the overlay.
        try assertDeclined(vxlan(icmpFrame(dst: macR6, src: macR4)), from: uplink, "destination is remote")
        let swift = runSwift(vxlan(icmpFrame(dst: macR6, src: macR4)), from: uplink)
        XCTAssertTrue(swift.isEmpty, "the engine drops it (split_horizon)")
    }

    func testSourcesNotKnownHereGoToTheEngine() throws {
        try assertDeclined(icmpFrame(dst: macR4, src: stranger), from: p1, "unknown source: the engine learns it")
        try assertDeclined(icmpFrame(dst: macR4, src: macB), from: p1, "macB is known on port 2: a move")
        try assertDeclined(vxlan(icmpFrame(dst: macA, src: macR6)), from: uplink, "macR6 is at another VTEP")
        try assertDeclined(vxlan(icmpFrame(dst: macA, src: macA)), from: uplink, "a local MAC from the overlay")
    }

    func testFloodsUnknownsAndOddFramesGoToTheEngine() throws {
        try assertDeclined(icmpFrame(dst: .broadcast, src: macA), from: p1, "broadcast")
        try assertDeclined(icmpFrame(dst: MACAddress(0x01, 0, 0x5E, 0, 0, 1), src: macA), from: p1, "multicast")
        try assertDeclined(icmpFrame(dst: stranger, src: macA), from: p1, "unknown unicast")
        try assertDeclined(icmpFrame(dst: macA, src: macA), from: p1, "same segment")
        var tagged = icmpFrame(dst: macR4, src: macA)
        tagged.insert(contentsOf: [0x81, 0x00, 0x00, 0x64], at: 12)
        try assertDeclined(tagged, from: p1, "802.1Q tagged")
        try assertDeclined(vxlan(icmpFrame(dst: .broadcast, src: macR4)), from: uplink, "broadcast from the overlay")
        try assertDeclined(vxlan(icmpFrame(dst: stranger, src: macR4)), from: uplink, "unknown from the overlay")
        var badFlags = vxlan(icmpFrame(dst: macA, src: macR4))
        badFlags[42] = 0
        try assertDeclined(badFlags, from: uplink, "VXLAN I flag clear")
        // Too big for the 1600-byte underlay: the engine drops and counts too_big.
        try assertDeclined(ipv4Frame(dst: macR4, src: macA, payload: 1540), from: p1, "too big")
        // Unresolved next hop.
        pipeline.setNextHop(vtep: vtep4, nil)
        try assertDeclined(icmpFrame(dst: macR4, src: macA), from: p1, "unresolved VTEP")
    }

    /// Issue 12: unicast ARP and NS/NA between known local MACs go to the engine, which learns
    /// the sender's IP (EVPN MAC/IP routes); other unicast ICMPv6 still takes the fast path.
    func testARPAndNeighborDiscoveryGoToTheEngine() throws {
        var arp = macB.bytes + macA.bytes + [0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2] + macA.bytes + [198, 19, 10, 11]
        arp += macB.bytes + [198, 19, 10, 12]
        try assertDeclined(arp + [UInt8](repeating: 0, count: 18), from: p1, "a unicast ARP reply")
        func icmp6(_ type: UInt8) -> [UInt8] {
            var f = macB.bytes + macA.bytes + [0x86, 0xDD, 0x60, 0, 0, 0, 0, 32, 58, 255]
            f += IPAddress("fd00:10::11")!.bytes + IPAddress("fd00:10::21")!.bytes
            return f + [type, 0, 0x12, 0x34, 0x60, 0, 0, 0] + IPAddress("fd00:10::11")!.bytes + [2, 1] + macA.bytes
        }
        try assertDeclined(icmp6(136), from: p1, "a unicast neighbour advertisement")
        try assertDeclined(icmp6(135), from: p1, "a unicast neighbour solicitation")
        try mirror(ingress: p1)
        XCTAssertEqual(try runXDP(icmp6(128)).counter, "fast_local", "an echo request is no ND")
    }

    // MARK: Conformance (issue 10): declined by XDP, dropped and counted by the engine

    /// XDP declines `frame` untouched, and the engine drops it with `reason`.
    func assertDropped(_ frame: [UInt8], from port: PortID, _ reason: DropReason, file: StaticString = #filePath,
                       line: UInt = #line) throws {
        try assertDeclined(frame, from: port, reason.name, file: file, line: line)
        let before = pipeline.counters.drops(reason)
        XCTAssertTrue(runSwift(frame, from: port).isEmpty, "the engine sends nothing (\(reason.name))", file: file, line: line)
        XCTAssertEqual(pipeline.counters.drops(reason), before + 1, reason.name, file: file, line: line)
    }

    /// `frame` with an 802.1Q/802.1ad tag (`type`, `vid`) after the MACs.
    func tagged(_ frame: [UInt8], type: UInt16 = 0x8100, vid: UInt16) -> [UInt8] {
        var f = frame
        f.insert(contentsOf: [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(vid >> 8), UInt8(vid & 0xFF)], at: 12)
        return f
    }

    func testLinkLocalGroupsAreNeverRelayed() throws {
        for last: UInt8 in [0x00, 0x01, 0x02, 0x03, 0x0E] { // STP, PAUSE, LACP, EAPOL, LLDP
            let group = MACAddress(0x01, 0x80, 0xC2, 0, 0, last)
            try assertDropped(icmpFrame(dst: group, src: macA), from: p1, .linkLocalGroup)
            try assertDropped(vxlan(icmpFrame(dst: group, src: macR4)), from: uplink, .linkLocalGroup)
        }
    }

    func testTaggedFramesOnAnAccessPort() throws {
        try assertDropped(tagged(icmpFrame(dst: macR4, src: macA), vid: 100), from: p1, .taggedOnAccess)
        try assertDropped(tagged(icmpFrame(dst: macB, src: macA), type: 0x88A8, vid: 100), from: p1, .taggedOnAccess)
        try assertDropped(tagged(icmpFrame(dst: macB, src: macA), type: 0x88A8, vid: 0), from: p1, .taggedOnAccess)
        // Priority-tagged (VID 0): declined by XDP, sent on by the engine without the tag.
        try assertDeclined(tagged(icmpFrame(dst: macB, src: macA), vid: 0), from: p1, "priority tag")
        let sent = runSwift(tagged(icmpFrame(dst: macB, src: macA), vid: 0), from: p1)
        XCTAssertEqual(sent.map(\.port), [p2])
        XCTAssertEqual(sent.first?.bytes, icmpFrame(dst: macB, src: macA))
    }

    func testInnerVLANTagsAfterDecap() throws {
        try assertDropped(vxlan(tagged(icmpFrame(dst: macA, src: macR4), vid: 100)), from: uplink, .innerVLANTag)
        try assertDropped(vxlan(tagged(icmpFrame(dst: macA, src: macR4), type: 0x88A8, vid: 100)), from: uplink, .innerVLANTag)
        // A VNI that carries tagged frames: still declined by XDP, delivered as it is by the engine.
        XCTAssertTrue(pipeline.apply(.addVNI(VNI(1000)!, learnRemote: false, macLimit: nil, carryTagged: true)))
        let inner = tagged(icmpFrame(dst: macA, src: macR4), vid: 100)
        try assertDeclined(vxlan(inner), from: uplink, "carry-tagged: left to the engine")
        XCTAssertEqual(runSwift(vxlan(inner), from: uplink).first?.bytes, inner)
    }

    func testFramesAHostMustNotDecapsulate() throws {
        // Another host's MAC (a promiscuous uplink).
        var frame = vxlan(icmpFrame(dst: macA, src: macR4))
        frame.replaceSubrange(0..<6, with: MACAddress(0x02, 0xAA, 0, 0, 0, 9).bytes)
        try assertDropped(frame, from: uplink, .notOurMAC)
        // A wrong IPv4 header checksum (TTL changed, checksum not).
        frame = vxlan(icmpFrame(dst: macA, src: macR4))
        frame[22] &-= 1
        try assertDropped(frame, from: uplink, .badIPChecksum)
        // Sources that are never a VTEP, even when the tables hold them (a hostile EVPN route's
        // next hop): the fast path refuses them itself, not only through its source lookup.
        let liar = MACAddress(0x02, 0, 0, 0, 0x66, 0x66)
        for bad in ["127.0.0.1", "224.0.0.5", "255.255.255.255", "0.0.0.0", "198.18.0.1",
                    "ff02::1", "::1", "::", "fd00:18::1"] {
            let ip = IPAddress(bad)!
            pipeline.setNextHop(vtep: ip, nextHop)
            pipeline.addStaticMAC(vni: VNI(1000)!, liar, vtep: ip)
            try assertDropped(vxlan(icmpFrame(dst: macA, src: liar), from: ip), from: uplink, .badOuterSource)
            pipeline.removeStaticMAC(vni: VNI(1000)!, liar)
        }
        // IPv6 from ::ffff:198.18.0.2, which would pass for the IPv4 VTEP 198.18.0.2.
        frame = vxlan(icmpFrame(dst: macA, src: macR4), from: vtep6)
        frame.replaceSubrange(22..<38, with: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 198, 18, 0, 2])
        try assertDropped(frame, from: uplink, .badOuterSource)
    }

    /// Egress MTU: an untagged frame fits a 1500-MTU port up to 1514 bytes, in both paths.
    func testEgressMTUIsTheEngines() throws {
        try assertIdentical(ipv4Frame(dst: macB, src: macA, payload: 1460), from: p1, counter: "fast_local")
        try assertIdentical(vxlan(ipv4Frame(dst: macA, src: macR4, payload: 1460)), from: uplink, counter: "fast_decap")
        try assertDropped(ipv4Frame(dst: macB, src: macA, payload: 1461), from: p1, .tooBig)
        try assertDropped(vxlan(ipv4Frame(dst: macA, src: macR4, payload: 1464)), from: uplink, .tooBig)
    }

    func testDisabledFastPathTakesNothing() throws {
        try mirror(ingress: p1, enabled: false)
        let xdp = try runXDP(icmpFrame(dst: macR4, src: macA))
        XCTAssertEqual(xdp.counter, "access_to_switch")
    }

    /// The fast path stamps the source's entry: the daemon folds it into the FDB's last-seen.
    func testFastPathStampsTheSourceLastSeen() throws {
        try mirror(ingress: p1)
        XCTAssertTrue(maps.lastSeen().isEmpty)
        _ = try runXDP(icmpFrame(dst: macR4, src: macA))
        let bd1000 = pipeline.bridgeDomains.index(of: VNI(1000)!)!
        let stamp = try XCTUnwrap(maps.lastSeen()[FDBEntry.key(bd: bd1000, mac: macA)])
        XCTAssertLessThanOrEqual(abs(Int(stamp) - Int(Worker<SwitchPipelineStub>.seconds())), 1, "the worker's clock")
    }
}

/// Only to name `Worker.seconds()`, which does not depend on the processor.
struct SwitchPipelineStub: PacketProcessor {
    mutating func process<IO: FrameIO>(_ batch: UnsafeMutableBufferPointer<FrameDescriptor>, from port: PortID, now: UInt32,
                                       io: inout IO) {}
    mutating func housekeeping(now: UInt32) {}
    mutating func countDrops(_ reason: DropReason, port: PortID, count: UInt64) {}
}
