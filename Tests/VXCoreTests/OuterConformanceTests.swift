import VXLabKit
import XCTest
@testable import VXCore

/// Issue 10, outer headers: IPv6 extension headers (RFC 8200 §4, RFC 6946) and outer UDP checksums.
final class IPv6ExtensionHeaderTests: XCTestCase {
    let inner = Build.raw(dst: macB, src: macC)
    /// VXLAN over IPv6 from fd00::2 to us (fd00::1), UDP checksum computed.
    lazy var plain: [UInt8] = {
        var u = testUnderlay(); u.localV6 = remote6
        return encap(inner, vni: 100, remote: local6, underlay: u)
    }()

    func decap(_ frame: [UInt8], underlay: UnderlayConfig = testUnderlay()) -> Decapsulated {
        frame.withUnsafeBytes { Decap.parse($0.baseAddress!, length: frame.count, underlay: underlay) }
    }

    func innerBytes(_ frame: [UInt8]) -> [UInt8]? {
        guard case .inner(let vni, let offset, let length, let source) = decap(frame),
              vni.value == 100, source == remote6 else { return nil }
        return Array(frame[offset..<(offset + length)])
    }

    func testValidChainsAreDecapsulatedLikeThePlainFrame() {
        let chains: [[IPv6ExtensionHeader]] = [
            [IPv6ExtensionHeader.options(0)],                                   // Hop-by-Hop (e.g. router alert)
            [IPv6ExtensionHeader.options(60, units: 3)],                        // Destination Options, 24 bytes
            [IPv6ExtensionHeader.fragment()],                                   // atomic fragment (RFC 6946)
            [IPv6ExtensionHeader.options(0), IPv6ExtensionHeader.options(60), IPv6ExtensionHeader.fragment(), IPv6ExtensionHeader.options(60)], // four: the most walked
        ]
        XCTAssertEqual(innerBytes(plain), inner)
        for chain in chains {
            let f = insertingIPv6Extensions(plain, chain)
            XCTAssertEqual(innerBytes(f), inner, "\(chain.map(\.type))")
            // Through the pipeline: delivered byte for byte as the plain frame is.
            var (sw, io) = makeSwitch()
            sw.addStaticMAC(vni: vniA, macB, port: p2)
            let want = pass(&sw, &io, from: uplink, [plain])
            let got = pass(&sw, &io, from: uplink, [f])
            XCTAssertEqual(got.map(\.port), [p2])
            XCTAssertEqual(got.map(\.bytes), want.map(\.bytes))
            XCTAssertEqual(io.freeCount, io.frameCount)
        }
    }

    func testChainsVxswDoesNotTakeAreDroppedByReason() {
        let routing = IPv6ExtensionHeader.routing
        let bad: [(DropReason, [IPv6ExtensionHeader])] = [
            (.fragmented, [IPv6ExtensionHeader.fragment(more: true)]),                // first fragment
            (.fragmented, [IPv6ExtensionHeader.fragment(offset: 10)]),                // a later one
            (.badExtensionHeader, [routing]),
            (.badExtensionHeader, [IPv6ExtensionHeader.options(60), IPv6ExtensionHeader.options(0)]),    // Hop-by-Hop not first
            (.badExtensionHeader, [IPv6ExtensionHeader.fragment(), IPv6ExtensionHeader.fragment()]),     // two Fragment headers
            (.badExtensionHeader, Array(repeating: IPv6ExtensionHeader.options(60), count: 5)), // more than four
        ]
        for (reason, chain) in bad {
            XCTAssertEqual(dropReason(insertingIPv6Extensions(plain, chain)), reason, "\(chain.map(\.type))")
        }
        // A header whose length runs past the payload, and past the frame: never read beyond.
        var long = insertingIPv6Extensions(plain, [IPv6ExtensionHeader.options(0)])
        long[55] = 200
        XCTAssertEqual(dropReason(long), .badExtensionHeader)
        let cut = insertingIPv6Extensions(plain, [IPv6ExtensionHeader.options(60)])
        for n in 55..<62 {
            var f = Array(cut[..<n])
            f.replaceSubrange(18..<20, with: be16(n - 54))
            XCTAssertEqual(dropReason(f), .badExtensionHeader, "cut at \(n)")
        }
        // Not addressed to one of our VTEP addresses: nothing says it was VXLAN for us.
        var other = insertingIPv6Extensions(plain, [routing])
        other[53] = 9
        XCTAssertEqual(dropReason(other), .notVXLAN)
        // After the chain, not UDP.
        var tcp = insertingIPv6Extensions(plain, [IPv6ExtensionHeader.options(0)])
        tcp[54] = 6
        XCTAssertEqual(dropReason(tcp), .notVXLAN)
    }

    /// Every prefix of a frame with a chain is handled without reading past it (the synthetic
    /// frames are exactly that long) and without leaking frames.
    func testEveryPrefixOfAChainIsHandled() {
        var (sw, io) = makeSwitch()
        let f = insertingIPv6Extensions(plain, [IPv6ExtensionHeader.options(0), IPv6ExtensionHeader.fragment(), IPv6ExtensionHeader.options(60, units: 2)])
        for n in 0...f.count {
            var prefix = Array(f[..<n])
            if n >= 20 { prefix.replaceSubrange(18..<20, with: be16(max(0, n - 54))) }
            _ = pass(&sw, &io, from: uplink, [prefix])
        }
        XCTAssertEqual(io.freeCount, io.frameCount)
        XCTAssertGreaterThan(sw.counters.drops(.badExtensionHeader), 0)
    }

    func dropReason(_ frame: [UInt8]) -> DropReason? {
        var (sw, io) = makeSwitch()
        let out = pass(&sw, &io, from: uplink, [frame])
        XCTAssertTrue(out.isEmpty)
        XCTAssertEqual(io.freeCount, io.frameCount)
        let reasons = DropReason.allCases.filter { sw.counters.drops($0) > 0 }
        XCTAssertEqual(reasons.count, 1, "\(reasons.map(\.name))")
        XCTAssertEqual(sw.counters.drops(port: uplink, reasons.first ?? .runt), 1, "counted on the uplink")
        return reasons.first
    }
}

final class UDPChecksumTests: XCTestCase {
    let inner = Build.raw(dst: macB, src: macC)

    /// VXLAN from the remote VTEP of `family` to us with the outer UDP checksum computed
    /// (over IPv4 too, which vxsw itself never sends), then `edit` applied.
    func frame(v6: Bool, _ edit: (inout [UInt8]) -> Void = { _ in }) -> [UInt8] {
        var u = testUnderlay(); u.localV4 = remote4; u.localV6 = remote6
        var f = encap(inner, vni: 100, remote: v6 ? local6 : local4, underlay: u)
        if !v6 { referenceFillL4Checksum(&f, l3: 14, field: 6) }
        edit(&f)
        return f
    }

    func delivered(_ f: [UInt8], v4: Bool = false, v6: Bool = true, complete: Bool = false) -> (Bool, UInt64) {
        var (sw, io) = makeSwitch()
        sw.underlay.verifyUDPChecksumV4 = v4
        sw.underlay.verifyUDPChecksumV6 = v6
        sw.underlay.completeDecapChecksums = complete
        sw.addStaticMAC(vni: vniA, macB, port: p2)
        let out = pass(&sw, &io, from: uplink, [f])
        XCTAssertEqual(io.freeCount, io.frameCount)
        XCTAssertEqual(sw.counters.drops(port: uplink, .badUDPChecksum), sw.counters.drops(.badUDPChecksum))
        return (out.map(\.port) == [p2], sw.counters.drops(.badUDPChecksum))
    }

    func testDefaultsVerifyIPv6AndNotIPv4() {
        let u = UnderlayConfig(uplink: uplink, uplinkMAC: uplinkMAC)
        XCTAssertTrue(u.verifyUDPChecksumV6)
        XCTAssertFalse(u.verifyUDPChecksumV4)
    }

    func testWrongChecksumIsDroppedWhenVerified() {
        for v6 in [false, true] {
            let good = frame(v6: v6)
            let off = v6 ? 60 : 40
            XCTAssertTrue(referenceL4Valid(good), "the reference agrees the frame is right")
            let wrongField = frame(v6: v6) { $0[off] ^= 0x10 }
            let wrongPayload = frame(v6: v6) { $0[$0.count - 1] ^= 0x01 }  // a flipped bit in the inner frame
            for bad in [wrongField, wrongPayload] {
                XCTAssertEqual(delivered(bad, v4: true, v6: true).1, 1, "v6 \(v6): dropped bad_udp_checksum")
                XCTAssertEqual(delivered(bad, v4: false, v6: false).0, true, "v6 \(v6): accepted, not verified")
            }
            XCTAssertEqual(delivered(good, v4: true, v6: true).0, true, "v6 \(v6): right checksum")
            // Zero: no checksum (RFC 768; RFC 6935/6936 for tunnels over IPv6): accepted.
            let zero = frame(v6: v6) { $0[off] = 0; $0[off + 1] = 0 }
            XCTAssertEqual(delivered(zero, v4: true, v6: true).0, true, "v6 \(v6): zero checksum")
            // Left partial (the pseudo-header sum, as a veth peer's kernel sends it): accepted.
            let partial = frame(v6: v6) { f in
                let (pseudo, _, _) = referencePseudoHeader(f, l3: 14)
                let sum = ~referenceChecksum(pseudo)
                f[off] = UInt8(sum >> 8); f[off + 1] = UInt8(sum & 0xFF)
            }
            XCTAssertEqual(delivered(partial, v4: true, v6: true).0, true, "v6 \(v6): partial checksum")
        }
        // The defaults: an IPv4 frame with a wrong checksum goes through, an IPv6 one does not.
        XCTAssertTrue(delivered(frame(v6: false) { $0[40] ^= 0x10 }, v4: false, v6: true).0)
        XCTAssertFalse(delivered(frame(v6: true) { $0[60] ^= 0x10 }, v4: false, v6: true).0)
    }

    /// A kernel VTEP behind a veth computes the outer checksum for the frame with its inner TCP
    /// checksum filled in (local checksum offload) and leaves the inner one partial: accepted once
    /// the inner checksum is completed (what the daemon does with every decapsulated frame).
    func testLocalChecksumOffloadFromAKernelVTEPIsAccepted() {
        var t = TCPFrame()
        t.dst = macB; t.src = macC; t.payload = TCPFrame.pattern(300)
        let full = t.tcp()
        var u = testUnderlay(); u.localV4 = remote4; u.localV6 = remote6
        var f = encap(full, vni: 100, remote: local6, underlay: u)
        let field = 14 + 40 + 8 + 8 + 14 + 20 + 16   // the inner TCP checksum
        let (pseudo, _, _) = referencePseudoHeader(full, l3: 14)
        let partial = ~referenceChecksum(pseudo)
        f[field] = UInt8(partial >> 8); f[field + 1] = UInt8(partial & 0xFF)
        XCTAssertTrue(delivered(f, complete: true).0, "completed, then the outer checksum is right")
        XCTAssertEqual(delivered(f, complete: false).1, 1, "without completion it cannot be told from damage")
        // A frame with its inner checksum complete (from the wire) and a damaged payload is not
        // "completed" into looking right: only a partial inner checksum is.
        var damaged = encap(full, vni: 100, remote: local6, underlay: u)
        damaged[damaged.count - 1] ^= 0x01
        XCTAssertEqual(delivered(damaged, complete: true).1, 1, "damage is still caught")
    }

    /// With extension headers in front, the pseudo-header is still the fixed header's.
    func testChecksumIsVerifiedBehindExtensionHeaders() {
        let good = insertingIPv6Extensions(frame(v6: true), [IPv6ExtensionHeader.options(0), IPv6ExtensionHeader.fragment()])
        XCTAssertTrue(delivered(good).0)
        var bad = good
        bad[bad.count - 1] ^= 0x01
        XCTAssertEqual(delivered(bad).1, 1)
    }
}
