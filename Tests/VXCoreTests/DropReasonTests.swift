import XCTest
@testable import VXCore

/// Every drop reason is reachable from crafted input, counted, and never crashes or leaks.
final class DropReasonTests: XCTestCase {
    var sender = { () -> UnderlayConfig in var u = testUnderlay(); u.localV4 = remote4; return u }()
    let inner = Build.raw(dst: .broadcast, src: macC)

    /// A VXLAN frame from 10.0.0.2 to us (10.0.0.1), with `edit` applied to the bytes; the
    /// outer IPv4 header checksum is made right again unless `keepChecksum`.
    func overlay(vni: UInt32 = 100, inner: [UInt8]? = nil, keepChecksum: Bool = false,
                 _ edit: (inout [UInt8]) -> Void = { _ in }) -> [UInt8] {
        var f = encap(inner ?? self.inner, vni: vni, remote: local4, underlay: sender)
        edit(&f)
        if !keepChecksum { fixIPv4Checksum(&f) }
        return f
    }

    /// Rewrites the outer IPv4 header checksum of an edited frame.
    func fixIPv4Checksum(_ f: inout [UInt8]) {
        guard f.count >= 34 else { return }
        f[24] = 0; f[25] = 0
        let c = referenceChecksum(Array(f[14..<34]))
        f[24] = UInt8(c >> 8); f[25] = UInt8(c & 0xFF)
    }

    /// The same over IPv6 (fd00::2 to fd00::1).
    func overlay6(_ edit: (inout [UInt8]) -> Void = { _ in }) -> [UInt8] {
        var u6 = testUnderlay(); u6.localV6 = remote6
        var f = encap(inner, vni: 100, remote: local6, underlay: u6)
        edit(&f)
        return f
    }

    func expectDrop(_ reason: DropReason, from port: PortID = uplink, _ frame: [UInt8],
                    setup: (inout SwitchPipeline, inout SyntheticFrameIO) -> Void = { _, _ in },
                    file: StaticString = #filePath, line: UInt = #line) {
        var (sw, io) = makeSwitch()
        setup(&sw, &io)
        let free = io.freeCount // setup may hold frames (noBuffer)
        _ = pass(&sw, &io, from: port, [frame])
        XCTAssertGreaterThan(sw.counters.drops(reason), 0, reason.name, file: file, line: line)
        io.fullPorts = []
        _ = io.collect()
        XCTAssertEqual(io.freeCount, free, "leak on \(reason.name)", file: file, line: line)
    }

    func testOuterHeaderDrops() {
        expectDrop(.runt, Array(overlay()[..<13]))
        expectDrop(.truncatedHeader, Array(overlay()[..<30]))                  // IPv4 header cut
        expectDrop(.truncatedHeader, Array(overlay()[..<40]))                  // total length > present
        expectDrop(.badIPHeader, overlay { $0[14] = 0x44 })                    // IHL 4
        expectDrop(.badIPHeader, overlay { $0[14] = 0x55 })                    // version 5
        expectDrop(.fragmented, overlay { $0[20] = 0x20 })                     // MF
        expectDrop(.notVXLAN, overlay { $0[23] = 6 })                          // TCP
        expectDrop(.notVXLAN, overlay { $0[36] = 0; $0[37] = 53 })             // another UDP port
        expectDrop(.notVXLAN, overlay { $0[12] = 0x08; $0[13] = 0x06 })        // ARP
        expectDrop(.notForLocalVTEP, overlay { $0[33] = 9 })
        expectDrop(.truncatedHeader, overlay { $0[38] = 0; $0[39] = 12 })      // UDP length < UDP + VXLAN
        expectDrop(.truncatedHeader, overlay { $0[38] = 0x0F })                // UDP length > packet
        expectDrop(.badVXLANFlags, overlay { $0[42] = 0 })
        expectDrop(.unknownVNI, overlay(vni: 999))
        var short = overlay()
        short.removeLast(inner.count - 10)
        short[16] = 0; short[17] = UInt8(short.count - 14)
        short[38] = 0; short[39] = UInt8(short.count - 34)
        fixIPv4Checksum(&short)
        expectDrop(.innerRunt, short)
        expectDrop(.badSourceMAC, overlay { $0[50 + 6] = 0x01 })               // multicast inner source
        // IPv6 outer: truncated and payload length beyond the frame.
        var u6 = testUnderlay(); u6.localV6 = remote6
        let v6 = encap(inner, vni: 100, remote: local6, underlay: u6)
        expectDrop(.truncatedHeader, Array(v6[..<50]))
        expectDrop(.truncatedHeader, Array(v6[..<(v6.count - 1)]))
        expectDrop(.badIPHeader, { var f = v6; f[14] = 0x40; return f }())
    }

    /// What a host checks before it decapsulates (RFC 1122 §3.2.1, RFC 4291 §2.7).
    func testFramesAHostMustNotDecapsulate() {
        expectDrop(.notOurMAC, overlay { $0[5] = 0x77 })                      // another host's unicast MAC
        expectDrop(.badIPChecksum, overlay(keepChecksum: true) { $0[24] ^= 0x5A })
        expectDrop(.badIPChecksum, overlay(keepChecksum: true) { $0[22] = 1 }) // TTL changed, checksum not
        for source: [UInt8] in [[224, 0, 0, 1], [239, 1, 2, 3], [255, 255, 255, 255], [0, 0, 0, 0], [0, 1, 2, 3],
                                [127, 0, 0, 1], [10, 0, 0, 1]] { // the last: our own VTEP address
            expectDrop(.badOuterSource, overlay { $0.replaceSubrange(26..<30, with: source) })
        }
        for text in ["ff02::1", "::", "::1", "::ffff:a00:2", "fd00::1"] { // ::ffff:10.0.0.2 would pass for 10.0.0.2
            let a = IPAddress(text)!
            let sixteen = (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? a.hi : a.lo) >> (56 - 8 * UInt64($0 % 8))) }
            expectDrop(.badOuterSource, overlay6 { $0.replaceSubrange(22..<38, with: sixteen) })
        }
    }

    /// What a bridge must not relay (802.1Q §8.6.3 reserved addresses, ingress filtering,
    /// RFC 7348 §6.1 inner tags).
    func testFramesABridgeMustNotRelay() {
        for last: UInt8 in [0x00, 0x01, 0x02, 0x03, 0x0E, 0x0F] {
            let group = MACAddress(0x01, 0x80, 0xC2, 0, 0, last)
            expectDrop(.linkLocalGroup, from: p1, Build.raw(dst: group, src: macA))
            expectDrop(.linkLocalGroup, from: trunk, Build.ethernet(dst: group, src: macA, type: 0x88CC, vlan: 10) + [UInt8](repeating: 0, count: 46))
            expectDrop(.linkLocalGroup, overlay(inner: Build.raw(dst: group, src: macC)))
        }
        expectDrop(.taggedOnAccess, from: p1, Build.ethernet(dst: macB, src: macA, type: 0x88B5, vlan: 10) + [UInt8](repeating: 0, count: 46))
        var qinq = Build.ethernet(dst: macB, src: macA, type: 0x88B5, vlan: 0) + [UInt8](repeating: 0, count: 46)
        qinq[12] = 0x88; qinq[13] = 0xA8                                   // 802.1ad, even with VID 0
        expectDrop(.taggedOnAccess, from: p1, qinq)
        let tagged = Build.ethernet(dst: .broadcast, src: macC, type: 0x88B5, vlan: 10) + [UInt8](repeating: 0, count: 46)
        expectDrop(.innerVLANTag, overlay(inner: tagged))
        var sTagged = tagged
        sTagged[12] = 0x88; sTagged[13] = 0xA8
        expectDrop(.innerVLANTag, overlay(inner: sTagged))
        expectDrop(.innerVLANTag, overlay(inner: Build.ethernet(dst: .broadcast, src: macC, type: 0x88B5, vlan: 0) + [UInt8](repeating: 0, count: 46)))
    }

    func testEveryPrefixOfAValidFrameIsHandled() {
        var (sw, io) = makeSwitch()
        for frame in [overlay(), encap(inner, vni: 100, remote: local6, underlay: { var u = testUnderlay(); u.localV6 = remote6; return u }())] {
            for n in 0...frame.count { _ = pass(&sw, &io, from: uplink, [Array(frame[..<n])]) }
        }
        for n in 0...inner.count { _ = pass(&sw, &io, from: trunk, [Array(inner[..<n])]) }
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testLocalIngressAndEgressDrops() {
        expectDrop(.runt, from: p1, [1, 2, 3])
        expectDrop(.badSourceMAC, from: p1, Build.raw(dst: macB, src: .zero))
        expectDrop(.badSourceMAC, from: p1, Build.raw(dst: macB, src: .broadcast))
        expectDrop(.truncatedHeader, from: trunk, Array(Build.ethernet(dst: macB, src: macA, type: 1, vlan: 10)[..<16]))
        expectDrop(.vlanNotMapped, from: trunk, Build.raw(dst: macB, src: macA))
        expectDrop(.sameSegment, from: p1, Build.raw(dst: macB, src: macA)) { sw, _ in
            sw.addStaticMAC(vni: vniA, macB, port: p1)
        }
        expectDrop(.portDown, from: p1, Build.raw(dst: macB, src: macA)) { sw, _ in
            sw.setPort(p1, PortConfig(kind: .access(vniA), enabled: false))
        }
        expectDrop(.portDown, from: p1, Build.raw(dst: macB, src: macA)) { sw, _ in
            sw.addStaticMAC(vni: vniA, macB, port: p3) // p3 is in VNI B: isolation wins
        }
        expectDrop(.unknownVNI, from: p1, Build.raw(dst: macB, src: macA)) { sw, _ in
            sw.setPort(p1, PortConfig(kind: .access(VNI(unchecked: 4242))))
        }
        expectDrop(.txRingFull, from: p1, Build.raw(dst: macB, src: macA)) { sw, io in
            sw.addStaticMAC(vni: vniA, macB, port: p2)
            io.fullPorts = [p2]
        }
        expectDrop(.tooBig, from: p1, Build.raw(dst: macD, src: macA, count: 1500)) { sw, _ in
            sw.installEVPNMAC(vni: vniA, macD, vtep: remote4, sequence: 0)
        }
        expectDrop(.tooBig, from: p1, Build.raw(dst: macB, src: macA, count: 600)) { sw, _ in
            sw.setPort(p2, PortConfig(kind: .access(vniA), mtu: 500))
            sw.addStaticMAC(vni: vniA, macB, port: p2)
        }
        // One byte over the MTU untagged (MTU + 14 + 1) is too big; an 802.1Q allowance is only for tagged frames.
        expectDrop(.tooBig, from: p1, Build.raw(dst: macB, src: macA, count: 515)) { sw, _ in
            sw.setPort(p2, PortConfig(kind: .access(vniA), mtu: 500))
            sw.addStaticMAC(vni: vniA, macB, port: p2)
        }
        var u = testUnderlay(); u.localV4 = remote4
        expectDrop(.tooBig, encap(Build.raw(dst: macB, src: macD, count: 515), vni: 100, remote: local4, underlay: u)) { sw, _ in
            sw.setPort(p2, PortConfig(kind: .access(vniA), mtu: 500))
            sw.addStaticMAC(vni: vniA, macB, port: p2)
        }
        expectDrop(.vtepUnresolved, from: p1, Build.raw(dst: macD, src: macA)) { sw, _ in
            sw.installEVPNMAC(vni: vniA, macD, vtep: IPAddress("10.7.7.7")!, sequence: 0)
        }
        expectDrop(.noLocalAddress, from: p1, Build.raw(dst: macD, src: macA)) { sw, _ in
            sw.underlay.localV6 = nil
            sw.installEVPNMAC(vni: vniA, macD, vtep: remote6, sequence: 0)
        }
        expectDrop(.noBuffer, from: p1, Build.raw(dst: .broadcast, src: macA)) { _, io in
            while io.freeCount > 1 { _ = io.allocateFrame() }
        }
        expectDrop(.noFloodTargets, from: p3, Build.raw(dst: .broadcast, src: macA)) { sw, _ in
            sw.removeFloodVTEP(vni: vniB, remote4b)
            sw.setPort(trunk, nil)
        }
    }

    func testReasonNamesAreSnakeCaseAndUnique() {
        let names = DropReason.allCases.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
        for n in names { XCTAssertTrue(n.allSatisfy { $0.isLowercase || $0 == "_" }, n) }
    }
}
