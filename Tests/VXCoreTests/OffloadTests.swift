import XCTest
@testable import VXCore

/// Runs the segmenter over `frame`; the segments, or the reason it refused.
func segmentAll(_ frame: [UInt8], _ header: VirtioNetHeader, capacity: Int = 65_600) -> Result<[[UInt8]], SegmentationError> {
    var f = frame
    return withBytes(&f) { p, n in
        var s: Segmenter
        do throws(SegmentationError) { s = try Segmenter(frame: p, length: n, header: header) } catch { return .failure(error) }
        var out: [[UInt8]] = []
        var buf = [UInt8](repeating: 0, count: capacity)
        while let len = withBytes(&buf, { b, c in s.next(into: b, capacity: c) }) { out.append(Array(buf[0..<len])) }
        XCTAssertTrue(s.isFinished)
        XCTAssertEqual(out.count, s.segmentCount)
        return .success(out)
    }
}

/// The L4 checksum of a frame verifies with VXCore's own sum (and the reference one).
func l4Verifies(_ frame: [UInt8]) -> Bool {
    var f = frame
    let vx = withBytes(&f) { p, n -> Bool in
        guard let layout = try? OffloadLayout.parse(p, length: n) else { return false }
        let pseudo = layout.pseudoHeader(p, l4Length: layout.l4Length)
        return Checksum.l4(pseudo: pseudo, p + layout.l4, count: layout.l4Length, udp: false) == 0
    }
    let l3 = Ethernet.etherType(frame) == 0x8100 ? 18 : 14
    return vx && referenceL4Valid(frame, l3: l3)
}

func ipv4HeaderVerifies(_ frame: [UInt8], l3: Int) -> Bool {
    var f = frame
    let ihl = Int(frame[l3] & 0xF) * 4
    return withBytes(&f) { p, _ in Checksum.ipv4Header(p + l3, length: ihl) } == 0
}

func be32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(be16(b, at)) << 16 | UInt32(be16(b, at + 2)) }

let tcp4 = VirtioNetHeader(flags: VirtioNetHeader.flagNeedsCsum, gsoType: VirtioNetHeader.gsoTCPv4, hdrLen: 66, gsoSize: 1448,
                           csumStart: 34, csumOffset: 16)

final class SegmenterTests: XCTestCase {
    func testVirtioHeaderIsLittleEndian() {
        var b = [UInt8](repeating: 0, count: VirtioNetHeader.size)
        let h = VirtioNetHeader(flags: 1, gsoType: 0x81, hdrLen: 0x0102, gsoSize: 0x0304, csumStart: 0x0506, csumOffset: 0x0708)
        withBytes(&b) { p, _ in h.store(to: p) }
        XCTAssertEqual(b, [1, 0x81, 2, 1, 4, 3, 6, 5, 8, 7])
        XCTAssertEqual(withBytes(&b) { p, _ in VirtioNetHeader(loadingFrom: p) }, h)
        XCTAssertEqual(h.gsoKind, VirtioNetHeader.gsoTCPv4)
        XCTAssertTrue(h.isGSO && h.needsChecksum)
    }

    /// Checks a TCP segmentation: lengths, ids, sequence numbers, flags, checksums, and that
    /// the payloads and the unchanged header bytes add up to the super-frame.
    func checkTCP(_ t: TCPFrame, mss: Int, ecn: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        let frame = t.tcp()
        let l3 = t.l3, ipLen = t.v6 ? 40 : 20 + t.ipOptions.count, l4 = l3 + ipLen, hdr = l4 + 20 + t.options.count
        var h = VirtioNetHeader(flags: 1, gsoType: (t.v6 ? VirtioNetHeader.gsoTCPv6 : VirtioNetHeader.gsoTCPv4) | (ecn ? 0x80 : 0),
                                hdrLen: UInt16(hdr), gsoSize: UInt16(mss), csumStart: UInt16(l4), csumOffset: 16)
        h.flags = VirtioNetHeader.flagNeedsCsum
        guard case .success(let segs) = segmentAll(frame, h) else { return XCTFail("refused", file: file, line: line) }
        let n = (t.payload.count + mss - 1) / mss
        XCTAssertEqual(segs.count, n, file: file, line: line)
        var payload: [UInt8] = []
        for (i, s) in segs.enumerated() {
            let chunk = i == n - 1 ? t.payload.count - (n - 1) * mss : mss
            XCTAssertEqual(s.count, hdr + chunk, file: file, line: line)
            XCTAssertEqual(Array(s[0..<l3]), Array(frame[0..<l3]), "L2", file: file, line: line)
            if t.v6 {
                XCTAssertEqual(be16(s, l3 + 4), s.count - l4, file: file, line: line)
                XCTAssertEqual(Array(s[l3..<(l3 + 4)]) + Array(s[(l3 + 6)..<l4]),
                               Array(frame[l3..<(l3 + 4)]) + Array(frame[(l3 + 6)..<l4]), file: file, line: line)
            } else {
                XCTAssertEqual(be16(s, l3 + 2), s.count - l3, file: file, line: line)
                XCTAssertEqual(be16(s, l3 + 4), (t.id + i) & 0xFFFF, "id", file: file, line: line)
                XCTAssertTrue(ipv4HeaderVerifies(s, l3: l3), file: file, line: line)
                XCTAssertEqual(Array(s[(l3 + 6)..<(l3 + 10)]) + Array(s[(l3 + 12)..<l4]),
                               Array(frame[(l3 + 6)..<(l3 + 10)]) + Array(frame[(l3 + 12)..<l4]), file: file, line: line)
            }
            XCTAssertEqual(be32(s, l4 + 4), t.seq &+ UInt32(i * mss), "seq", file: file, line: line)
            var flags = t.flags
            if i != n - 1 { flags &= ~(TCP.flagFIN | TCP.flagPSH) }
            if i != 0 { flags &= ~TCP.flagCWR }
            XCTAssertEqual(s[l4 + 13], flags, "flags of \(i)", file: file, line: line)
            XCTAssertEqual(Array(s[(l4 + 8)..<(l4 + 13)]) + Array(s[(l4 + 14)..<(l4 + 16)]) + Array(s[(l4 + 18)..<hdr]),
                           Array(frame[(l4 + 8)..<(l4 + 13)]) + Array(frame[(l4 + 14)..<(l4 + 16)]) + Array(frame[(l4 + 18)..<hdr]),
                           "ack, offset, window, urgent, options", file: file, line: line)
            XCTAssertTrue(l4Verifies(s), "checksum of \(i)", file: file, line: line)
            payload += s[hdr...]
        }
        XCTAssertEqual(payload, t.payload, file: file, line: line)
    }

    func testTCPv4SixtyFourKilobytes() {
        var t = TCPFrame(flags: TCP.flagACK | TCP.flagPSH | TCP.flagFIN | TCP.flagCWR, options: TCPFrame.timestamps(7, 9))
        t.payload = TCPFrame.pattern(65_535 - 20 - 32)
        t.id = 0xFFF0 // wraps
        t.seq = 0xFFFF_0000 // wraps
        checkTCP(t, mss: 1448, ecn: true)
    }

    func testTCPv6SixtyFourKilobytes() {
        var t = TCPFrame(v6: true, options: TCPFrame.timestamps(1, 2), trafficClass: 0x28, flowLabel: 0x12345)
        t.flags = TCP.flagACK | TCP.flagPSH
        t.payload = TCPFrame.pattern(65_535 - 32, seed: 3)
        checkTCP(t, mss: 1428)
    }

    func testVLANTaggedAndIPv4Options() {
        var t = TCPFrame(vlan: 42, options: TCPFrame.timestamps(5, 6), ipOptions: [1, 1, 1, 0])
        t.payload = TCPFrame.pattern(10_000)
        checkTCP(t, mss: 1448)
        t.v6 = true; t.ipOptions = []
        checkTCP(t, mss: 1000)
    }

    func testJumbo() {
        // 9000-byte MTU: MSS 8948 out of a 64 KB super-frame, and a 9000-byte super-frame at MSS 1448.
        var t = TCPFrame(options: TCPFrame.timestamps(1, 1))
        t.payload = TCPFrame.pattern(65_000)
        checkTCP(t, mss: 8948)
        t.payload = TCPFrame.pattern(9000 - 14 - 20 - 32)
        checkTCP(t, mss: 1448)
    }

    func testPayloadNotLargerThanMSSIsOneSegment() {
        var t = TCPFrame(flags: TCP.flagACK | TCP.flagFIN)
        t.payload = TCPFrame.pattern(1448)
        checkTCP(t, mss: 1448)
        t.payload = []
        var h = tcp4; h.hdrLen = 54
        guard case .success(let segs) = segmentAll(t.tcp(), h) else { return XCTFail() }
        XCTAssertEqual(segs, [t.tcp()])
    }

    func testUDPSegmentationOffload() {
        for v6 in [false, true] {
            var t = TCPFrame(v6: v6, vlan: v6 ? 9 : nil, srcPort: 4000, dstPort: 53)
            t.payload = TCPFrame.pattern(30_001)
            let frame = t.udp(), l4 = t.l3 + (v6 ? 40 : 20)
            let h = VirtioNetHeader(flags: 1, gsoType: VirtioNetHeader.gsoUDPL4, hdrLen: UInt16(l4 + 8), gsoSize: 1400,
                                    csumStart: UInt16(l4), csumOffset: 6)
            guard case .success(let segs) = segmentAll(frame, h) else { return XCTFail() }
            XCTAssertEqual(segs.count, 22)
            var payload: [UInt8] = []
            for (i, s) in segs.enumerated() {
                XCTAssertEqual(be16(s, l4 + 4), s.count - l4, "UDP length")
                XCTAssertEqual(s.count - l4 - 8, i == 21 ? 30_001 - 21 * 1400 : 1400)
                XCTAssertEqual(Array(s[l4..<(l4 + 4)]), Array(frame[l4..<(l4 + 4)]))
                if !v6 { XCTAssertTrue(ipv4HeaderVerifies(s, l3: t.l3)); XCTAssertEqual(be16(s, t.l3 + 4), 0x1234 + i) }
                XCTAssertTrue(l4Verifies(s))
                payload += s[(l4 + 8)...]
            }
            XCTAssertEqual(payload, t.payload)
        }
    }

    func testRefusals() {
        var t = TCPFrame(options: TCPFrame.timestamps(1, 1))
        t.payload = TCPFrame.pattern(5000)
        let f = t.tcp()
        func reason(_ frame: [UInt8], _ h: VirtioNetHeader) -> SegmentationError? {
            var b = frame
            let v = withBytes(&b) { Segmenter.validate(frame: $0, length: $1, header: h) }
            if case .failure(let e) = segmentAll(frame, h) { XCTAssertEqual(e, v) } else { XCTAssertNil(v) }
            return v
        }
        var h = tcp4
        XCTAssertNil(reason(f, h))
        h.gsoSize = 0; XCTAssertEqual(reason(f, h), .gsoSizeZero)
        h = tcp4; h.hdrLen = UInt16(f.count + 1); XCTAssertEqual(reason(f, h), .badHeaderLength)
        for type: UInt8 in [2, 6, 7, 0x7F, 0x85] {
            h = tcp4; h.gsoType = type; XCTAssertEqual(reason(f, h), .unsupportedGSOType, "type \(type)")
        }
        h = tcp4; h.gsoType = VirtioNetHeader.gsoUDP; XCTAssertEqual(reason(t.udp(), h), .ufoUnsupported)
        h = tcp4; h.gsoType = VirtioNetHeader.gsoNone; XCTAssertEqual(reason(f, h), .notGSO)
        h = tcp4; h.gsoType = VirtioNetHeader.gsoTCPv6; XCTAssertEqual(reason(f, h), .notTCP)
        h = tcp4; XCTAssertEqual(reason(t.udp(), h), .notTCP)
        h = tcp4; h.gsoType = VirtioNetHeader.gsoUDPL4; XCTAssertEqual(reason(f, h), .notUDP)
        var frag = t; frag.fragment = true
        XCTAssertEqual(reason(frag.tcp(), tcp4), .fragment)
        var ext = t.tcp(); ext[14 + 9] = 0 // IPv4 protocol 0 is not TCP; for IPv6 it is hop-by-hop
        XCTAssertEqual(reason(ext, tcp4), .notTCP)
        var t6 = t; t6.v6 = true
        var ext6 = t6.tcp(); ext6[14 + 6] = 0
        h = tcp4; h.gsoType = VirtioNetHeader.gsoTCPv6
        XCTAssertEqual(reason(ext6, h), .ipv6ExtensionHeader)
        var badOffset = f; badOffset[34 + 12] = 0x40 // data offset 4
        XCTAssertEqual(reason(badOffset, tcp4), .badL4Header)
        var badVersion = f; badVersion[14] = 0x55
        XCTAssertEqual(reason(badVersion, tcp4), .badIPHeader)
        h = tcp4; h.hdrLen = 0
        XCTAssertEqual(reason(Build.raw(dst: macB, src: macA), h), .notIP)
        // Every cut of the frame is refused or segments what is there; nothing reads past the end.
        for cut in 0..<f.count {
            h = tcp4; h.hdrLen = 0
            let r = reason(Array(f[0..<cut]), h)
            XCTAssertNotNil(r, "cut \(cut)")
            XCTAssertTrue(r == .truncated || cut >= 34 + 32, "cut \(cut): \(String(describing: r))")
        }
    }

    func testCapacityTooSmallWritesNothing() {
        var t = TCPFrame()
        t.payload = TCPFrame.pattern(3000)
        var f = t.tcp()
        withBytes(&f) { p, n in
            guard var s = try? Segmenter(frame: p, length: n, header: tcp4) else { return XCTFail() }
            XCTAssertEqual(s.maxSegmentLength, 54 + 1448)
            var small = [UInt8](repeating: 0, count: 1000)
            XCTAssertNil(withBytes(&small) { s.next(into: $0, capacity: $1) })
            XCTAssertFalse(s.isFinished)
            XCTAssertEqual(small, [UInt8](repeating: 0, count: 1000))
        }
    }

    func testCompleteChecksumOfNonGSOFrame() {
        for v6 in [false, true] {
            var t = TCPFrame(v6: v6, vlan: 3)
            t.payload = TCPFrame.pattern(333)
            let good = t.tcp()
            let l4 = t.l3 + (v6 ? 40 : 20)
            // CHECKSUM_PARTIAL: the field holds the pseudo-header sum.
            var partial = good
            let pseudo = ~referenceChecksum(referencePseudoHeader(good, l3: t.l3).pseudo)
            partial[l4 + 16] = UInt8(pseudo >> 8); partial[l4 + 17] = UInt8(pseudo & 0xFF)
            XCTAssertNotEqual(partial, good)
            let h = VirtioNetHeader(flags: VirtioNetHeader.flagNeedsCsum, csumStart: UInt16(l4), csumOffset: 16)
            XCTAssertTrue(withBytes(&partial) { Segmenter.completeChecksum($0, length: $1, header: h) })
            XCTAssertEqual(partial, good)
            var outside = partial
            let past = VirtioNetHeader(flags: VirtioNetHeader.flagNeedsCsum, csumStart: UInt16(good.count - 10), csumOffset: 9)
            XCTAssertFalse(withBytes(&outside) { Segmenter.completeChecksum($0, length: $1, header: past) })
            XCTAssertTrue(withBytes(&outside) { Segmenter.completeChecksum($0, length: $1, header: VirtioNetHeader()) })
            XCTAssertEqual(outside, good)
        }
    }

    func testCompleteChecksumFromCsumStartWhenNotPlainTCPUDP() {
        // IPv6 with an 8-byte hop-by-hop header before UDP: ChecksumCompletion declines,
        // csum_start / csum_offset say where the checksum goes.
        let udp = be16(1000) + be16(2000) + be16(8 + 5) + [0, 0] + [1, 2, 3, 4, 5]
        let hbh: [UInt8] = [17, 0, 1, 4, 0, 0, 0, 0]
        var ip = Build.ipv6Header(proto: 0, l4Count: hbh.count + udp.count)
        ip[4...5] = ArraySlice(be16(hbh.count + udp.count))
        var f = Build.ethernet(dst: macB, src: macA, type: 0x86DD) + ip + hbh + udp
        let l4 = 14 + 40 + 8
        // Pseudo-header: addresses, UDP length, next header 17.
        let pseudo = Array(f[22..<54]) + [0, 0] + be16(udp.count) + [0, 0, 0, 17]
        let sum = ~referenceChecksum(pseudo)
        f[l4 + 6] = UInt8(sum >> 8); f[l4 + 7] = UInt8(sum & 0xFF)
        let h = VirtioNetHeader(flags: VirtioNetHeader.flagNeedsCsum, csumStart: UInt16(l4), csumOffset: 6)
        XCTAssertTrue(withBytes(&f) { Segmenter.completeChecksum($0, length: $1, header: h) })
        XCTAssertEqual(referenceChecksum(pseudo + Array(f[l4...])), 0)
    }
}

/// What a caller of the coalescer writes toward the guest, in order: flushed super-frames
/// and frames sent as they are (gso NONE, flags 0).
struct GuestWire {
    var frames: [(bytes: [UInt8], header: VirtioNetHeader)] = []
    var verdicts: [String] = []

    mutating func take(_ f: (frame: UnsafeMutableRawPointer, length: Int, header: VirtioNetHeader)?) {
        guard let f else { return }
        frames.append((Array(UnsafeRawBufferPointer(start: f.frame, count: f.length)), f.header))
    }

    mutating func add(_ c: inout TCPCoalescer, _ frame: [UInt8], checksumValid: Bool = true) {
        var b = frame
        let v = withBytes(&b) { c.add($0, length: $1, checksumValid: checksumValid) }
        switch v {
        case .held(let flushed):
            verdicts.append(flushed == nil ? "held" : "held+flush")
            take(flushed)
        case .notCoalescable(let first):
            verdicts.append(first == nil ? "send" : "flush+send")
            take(first)
            frames.append((frame, VirtioNetHeader()))
        }
    }

    mutating func drain(_ c: inout TCPCoalescer) {
        while let (p, n, h) = c.nextFlushed() { take((p, n, h)) }
        XCTAssertEqual(c.heldFlows, 0)
    }
}

/// Segments `t` at `mss` with the segmenter (tested above).
func segments(_ t: TCPFrame, mss: Int) -> [[UInt8]] {
    let l4 = t.l3 + (t.v6 ? 40 : 20 + t.ipOptions.count)
    let h = VirtioNetHeader(flags: 1, gsoType: (t.v6 ? VirtioNetHeader.gsoTCPv6 : VirtioNetHeader.gsoTCPv4) | (t.flags & 0x80),
                            hdrLen: 0, gsoSize: UInt16(mss), csumStart: UInt16(l4), csumOffset: 16)
    guard case .success(let s) = segmentAll(t.tcp(), h) else { XCTFail("segmenter refused"); return [] }
    return s
}

final class CoalescerTests: XCTestCase {
    /// Segments a super-frame, coalesces the segments back and checks the one result against
    /// the original: same bytes but the partial TCP checksum; completed, exactly the original.
    func checkRoundTrip(_ t: TCPFrame, mss: Int, file: StaticString = #filePath, line: UInt = #line) {
        var c = TCPCoalescer()
        var wire = GuestWire()
        for s in segments(t, mss: mss) { wire.add(&c, s) }
        XCTAssertEqual(Set(wire.verdicts), ["held"], file: file, line: line)
        wire.drain(&c)
        guard wire.frames.count == 1, case (var got, let h)? = wire.frames.first else { return XCTFail("\(wire.frames.count) frames", file: file, line: line) }
        let original = t.tcp()
        let l4 = t.l3 + (t.v6 ? 40 : 20), hdr = l4 + 20 + t.options.count
        XCTAssertEqual(h, VirtioNetHeader(flags: VirtioNetHeader.flagNeedsCsum,
                                          gsoType: (t.v6 ? VirtioNetHeader.gsoTCPv6 : VirtioNetHeader.gsoTCPv4) | (t.flags & TCP.flagCWR != 0 ? 0x80 : 0),
                                          hdrLen: UInt16(hdr), gsoSize: UInt16(mss), csumStart: UInt16(l4), csumOffset: 16), file: file, line: line)
        XCTAssertEqual(got.count, original.count, file: file, line: line)
        // The field holds the pseudo-header sum (not inverted).
        let pseudo = ~referenceChecksum(referencePseudoHeader(original, l3: t.l3).pseudo)
        XCTAssertEqual(be16(got, l4 + 16), Int(pseudo), file: file, line: line)
        var expected = original
        expected[l4 + 16] = got[l4 + 16]; expected[l4 + 17] = got[l4 + 17]
        XCTAssertEqual(got, expected, file: file, line: line)
        XCTAssertTrue(withBytes(&got) { Segmenter.completeChecksum($0, length: $1, header: h) }, file: file, line: line)
        XCTAssertEqual(got, original, file: file, line: line)
    }

    func testRoundTripTCPv4() {
        var t = TCPFrame(flags: TCP.flagACK | TCP.flagPSH | TCP.flagCWR | TCP.flagECE, options: TCPFrame.timestamps(100, 200))
        t.payload = TCPFrame.pattern(65_535 - 20 - 32)
        checkRoundTrip(t, mss: 1448)
    }

    func testRoundTripTCPv6() {
        var t = TCPFrame(v6: true, options: TCPFrame.timestamps(1, 2), trafficClass: 0x10, flowLabel: 0xABCDE)
        t.payload = TCPFrame.pattern(65_535 - 32, seed: 5)
        checkRoundTrip(t, mss: 1428)
    }

    func testRoundTripVLANTaggedAndJumbo() {
        var t = TCPFrame(vlan: 100)
        t.payload = TCPFrame.pattern(30_000)
        checkRoundTrip(t, mss: 1460)
        t.v6 = true
        checkRoundTrip(t, mss: 1440)
        t.vlan = nil; t.v6 = false
        t.payload = TCPFrame.pattern(65_000)
        checkRoundTrip(t, mss: 8960)
    }

    func testFullChecksumMode() {
        var t = TCPFrame(options: TCPFrame.timestamps(3, 4))
        t.payload = TCPFrame.pattern(20_000)
        var c = TCPCoalescer(limits: .init(partialChecksum: false))
        var wire = GuestWire()
        for s in segments(t, mss: 1448) { wire.add(&c, s) }
        wire.drain(&c)
        XCTAssertEqual(wire.frames.count, 1)
        XCTAssertEqual(wire.frames[0].bytes, t.tcp())
        XCTAssertEqual(wire.frames[0].header.flags, VirtioNetHeader.flagDataValid)
        XCTAssertEqual(wire.frames[0].header.gsoSize, 1448)
    }

    func testFINIsSentAfterTheHeldFlow() {
        var t = TCPFrame(flags: TCP.flagACK | TCP.flagFIN)
        t.payload = TCPFrame.pattern(5000)
        let segs = segments(t, mss: 1000)
        var c = TCPCoalescer()
        var wire = GuestWire()
        for s in segs { wire.add(&c, s) }
        wire.drain(&c)
        XCTAssertEqual(wire.verdicts, ["held", "held", "held", "held", "flush+send"])
        XCTAssertEqual(wire.frames.count, 2)
        XCTAssertEqual(wire.frames[0].header.gsoSize, 1000)
        XCTAssertEqual(wire.frames[0].bytes.count, 54 + 4000)
        XCTAssertEqual(wire.frames[1].bytes, segs[4])
    }

    func testSingleSegmentIsHandedBackUnchanged() {
        var t = TCPFrame()
        t.payload = [1, 2, 3] // 57 bytes: the sender pads to 60
        let padded = t.tcp() + [0, 0, 0]
        var c = TCPCoalescer()
        var wire = GuestWire()
        wire.add(&c, padded)
        wire.drain(&c)
        XCTAssertEqual(wire.frames.count, 1)
        XCTAssertEqual(wire.frames[0].bytes, t.tcp()) // padding dropped
        XCTAssertEqual(wire.frames[0].header, VirtioNetHeader(flags: VirtioNetHeader.flagDataValid))
    }

    func testNotMerged() {
        var t = TCPFrame(options: TCPFrame.timestamps(1, 1))
        t.payload = TCPFrame.pattern(4000)
        let segs = segments(t, mss: 1000)
        func run(_ frames: [[UInt8]], valid: Bool = true, limits: TCPCoalescer.Limits = .init()) -> GuestWire {
            var c = TCPCoalescer(limits: limits)
            var wire = GuestWire()
            for f in frames { wire.add(&c, f, checksumValid: valid) }
            wire.drain(&c)
            return wire
        }
        // A gap: the first flow is flushed, the later segment starts a new one.
        var w = run([segs[0], segs[2]])
        XCTAssertEqual(w.verdicts, ["held", "held+flush"])
        XCTAssertEqual(w.frames.map(\.bytes), [segs[0], segs[2]])
        XCTAssertEqual(w.frames.map(\.header.gsoType), [0, 0])
        // Checksum not known valid: never merged.
        w = run(segs, valid: false)
        XCTAssertEqual(Set(w.verdicts), ["send"])
        XCTAssertEqual(w.frames.map(\.bytes), segs)
        // Different flows (ports), interleaved: two super-frames.
        var other = t; other.srcPort = 5555
        let segsB = segments(other, mss: 1000)
        w = run([segs[0], segsB[0], segs[1], segsB[1]])
        XCTAssertEqual(w.verdicts, ["held", "held", "held", "held"])
        XCTAssertEqual(w.frames.count, 2)
        XCTAssertEqual(w.frames.map(\.bytes.count), [66 + 2000, 66 + 2000])
        XCTAssertEqual(be16(w.frames[1].bytes, 34), 5555)
        // SYN, RST, URG, pure ACK of the same 5-tuple: the held flow goes first.
        for flags: UInt8 in [TCP.flagSYN, TCP.flagRST | TCP.flagACK, TCP.flagURG | TCP.flagACK] {
            var x = t; x.flags = flags; x.seq = t.seq + 2000; x.payload = [1]
            w = run([segs[0], segs[1], x.tcp()])
            XCTAssertEqual(w.verdicts, ["held", "held", "flush+send"], "flags \(flags)")
            XCTAssertEqual(w.frames.count, 2)
        }
        var ack = t; ack.payload = []
        XCTAssertEqual(run([segs[0], ack.tcp()]).verdicts, ["held", "flush+send"])
        XCTAssertEqual(run([ack.tcp()]).verdicts, ["send"])
        // Headers that differ: TTL, TOS, MAC, timestamps, window, ack → flushed, new flow.
        var changes: [(String, (inout TCPFrame) -> Void)] = [
            ("ttl", { $0.ttl = 63 }), ("tos", { $0.tos = 0x10 }), ("mac", { $0.dst = macC }),
            ("timestamps", { $0.options = TCPFrame.timestamps(2, 1) }), ("window", { $0.window = 100 }),
            ("ack", { $0.ack = 99 }), ("vlan", { $0.vlan = 5 }), ("cwr", { $0.flags |= TCP.flagCWR }),
        ]
        changes.append(("longer", { $0.payload = TCPFrame.pattern(1001) }))
        for (name, change) in changes {
            var x = t; x.seq = t.seq + 1000; x.payload = TCPFrame.pattern(1000)
            change(&x)
            w = run([segs[0], x.tcp()])
            XCTAssertEqual(w.verdicts, ["held", "held+flush"], name)
            XCTAssertEqual(w.frames.map(\.bytes), [segs[0], x.tcp()], name)
        }
        // A shorter segment closes the flow; so does PSH.
        var short = t; short.seq = t.seq + 1000; short.payload = TCPFrame.pattern(500)
        var after = t; after.seq = t.seq + 1500; after.payload = TCPFrame.pattern(1000)
        w = run([segs[0], short.tcp(), after.tcp()])
        XCTAssertEqual(w.verdicts, ["held", "held", "held+flush"])
        XCTAssertEqual(w.frames.map(\.bytes.count), [66 + 1500, 66 + 1000])
        var push = t; push.seq = t.seq + 1000; push.flags |= TCP.flagPSH; push.payload = TCPFrame.pattern(1000)
        after.seq = t.seq + 2000
        w = run([segs[0], push.tcp(), after.tcp()])
        XCTAssertEqual(w.verdicts, ["held", "held", "held+flush"])
        XCTAssertEqual(w.frames[0].bytes[34 + 13], TCP.flagACK | TCP.flagPSH, "PSH of the last segment kept")
        // IPv4 options, not TCP, IPv4 fragments: sent as they are.
        var opts = t; opts.ipOptions = [1, 1, 1, 0]
        XCTAssertEqual(run([opts.tcp()]).verdicts, ["send"])
        XCTAssertEqual(run([t.udp()]).verdicts, ["send"])
        var frag = t; frag.fragment = true
        XCTAssertEqual(run([frag.tcp()]).verdicts, ["send"])
        XCTAssertEqual(run([Build.raw(dst: macB, src: macA)]).verdicts, ["send"])
        // Limits: segments, bytes.
        w = run(segs, limits: .init(maxSegments: 3))
        XCTAssertEqual(w.verdicts, ["held", "held", "held", "held+flush"])
        XCTAssertEqual(w.frames.map(\.bytes.count), [66 + 3000, 66 + 1000])
        w = run(segs, limits: .init(maxIPLength: 52 + 2500))
        XCTAssertEqual(w.frames.map(\.bytes.count), [66 + 2000, 66 + 2000])
    }

    func testAllSlotsFullFlushesTheOldest() {
        var c = TCPCoalescer(limits: .init(flows: 2))
        var wire = GuestWire()
        var flows: [[UInt8]] = []
        for port in 0..<3 {
            var t = TCPFrame(srcPort: 1000 + port)
            t.payload = TCPFrame.pattern(100)
            flows.append(t.tcp())
            wire.add(&c, flows[port])
        }
        XCTAssertEqual(wire.verdicts, ["held", "held", "held+flush"])
        XCTAssertEqual(wire.frames.map(\.bytes), [flows[0]])
        wire.drain(&c)
        XCTAssertEqual(wire.frames.map(\.bytes), flows)
    }

    func testMalformedNeverCrashes() {
        var t = TCPFrame(options: TCPFrame.timestamps(1, 1))
        t.payload = TCPFrame.pattern(200)
        let f = t.tcp()
        var c = TCPCoalescer()
        var wire = GuestWire()
        for cut in 0..<f.count { wire.add(&c, Array(f[0..<cut])) }
        XCTAssertEqual(Set(wire.verdicts), ["send"]) // the IP length runs past the end
        // Every header byte set to 0x00 and 0xFF: whatever the verdict, nothing is read past the end.
        for i in 0..<66 {
            for v: UInt8 in [0, 0xFF] { var x = f; x[i] = v; wire.add(&c, x) }
        }
        wire.drain(&c)
    }
}
