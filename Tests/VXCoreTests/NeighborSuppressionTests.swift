import XCTest
@testable import VXCore

/// ARP / neighbour-solicitation frames from macA (10.0.0.1, fd00::1) asking for 10.0.0.2 / fd00::2.
enum ND {
    static let requesterIP: [UInt8] = [10, 0, 0, 1]
    static let targetIP: [UInt8] = [10, 0, 0, 2]

    /// An ARP frame padded to the 60-byte Ethernet minimum (64 when tagged).
    static func arp(op: Int = 1, sender: [UInt8] = requesterIP, target: [UInt8] = targetIP, vlan: Int? = nil,
                    dst: MACAddress = .broadcast) -> [UInt8] {
        var b = Build.ethernet(dst: dst, src: macA, type: 0x0806, vlan: vlan)
        b += hex("0001 0800 06 04") + be16(op) + macA.bytes + sender + [0, 0, 0, 0, 0, 0] + target
        return b + [UInt8](repeating: 0, count: (vlan == nil ? 60 : 64) - b.count)
    }

    /// A neighbour solicitation to the target's solicited-node group, with a source link-layer
    /// address option unless the source is :: (DAD).
    static func solicitation(source: String = "fd00::1", target: String = "fd00::2", hopLimit: UInt8 = 255,
                             vlan: Int? = nil, corruptChecksum: Bool = false) -> [UInt8] {
        let src = IPAddress(source)!.bytes, tgt = IPAddress(target)!.bytes
        let group = hex("ff02 0000 0000 0000 0000 0001 ff") + tgt[13...]
        var icmp: [UInt8] = [135, 0, 0, 0, 0, 0, 0, 0] + tgt + (source == "::" ? [] : [1, 1] + macA.bytes)
        let c = referenceChecksum(src + group + [0, 0] + be16(icmp.count) + [0, 0, 0, 58] + icmp) ^ (corruptChecksum ? 1 : 0)
        icmp[2] = UInt8(c >> 8); icmp[3] = UInt8(c & 0xFF)
        let ip: [UInt8] = [0x60, 0, 0, 0] + be16(icmp.count) + [58, hopLimit] + src + group
        let dst = MACAddress(0x33, 0x33, 0xFF, tgt[13], tgt[14], tgt[15])
        return Build.ethernet(dst: dst, src: macA, type: 0x86DD, vlan: vlan) + ip + icmp
    }
}

final class NeighborSuppressionTests: XCTestCase {
    /// makeSwitch() with macD (a host behind 10.0.0.2 / remote4) known at 10.0.0.2 and fd00::2 in VNI A.
    func makeSuppressingSwitch() -> (SwitchPipeline, SyntheticFrameIO) {
        var (sw, io) = makeSwitch()
        XCTAssertTrue(sw.installEVPNMAC(vni: vniA, macD, vtep: remote4, sequence: 0))
        XCTAssertTrue(sw.installNeighbor(vni: vniA, ip: IPAddress("10.0.0.2")!, mac: macD))
        XCTAssertTrue(sw.installNeighbor(vni: vniA, ip: IPAddress("fd00::2")!, mac: macD))
        return (sw, io)
    }

    func testARPRequestForKnownHostIsAnsweredOnTheIngressPort() {
        var (sw, io) = makeSuppressingSwitch()
        let request = ND.arp()
        XCTAssertEqual(request, hex("""
            ffffffffffff 02000000000a 0806 0001 0800 06 04 0001 02000000000a 0a000001 000000000000 0a000002
            000000000000000000000000000000000000
            """))
        let out = pass(&sw, &io, from: p1, [request])
        XCTAssertEqual(out.map(\.port), [p1], "answered on the ingress port, not flooded")
        XCTAssertEqual(out.first?.bytes, hex("""
            02000000000a 02000000000d 0806 0001 0800 06 04 0002 02000000000d 0a000002 02000000000a 0a000001
            000000000000000000000000000000000000
            """))
        XCTAssertEqual(sw.counters.vnis[0].arpSuppressed, 1)
        XCTAssertEqual(sw.counters.vnis[0].floods, 0)
        XCTAssertEqual(io.freeCount, io.frameCount)
        XCTAssertEqual(sw.fdb.entry(bd: 0, mac: macA)?.destination, .port(p1), "the requester is still learned")
    }

    func testNeighborSolicitationGetsAnAdvertisement() {
        var (sw, io) = makeSuppressingSwitch()
        let ns = ND.solicitation()
        XCTAssertEqual(be16(ns, 56), 0x7D8E, "the solicitation's checksum as computed by hand")
        let out = pass(&sw, &io, from: p1, [ns])
        XCTAssertEqual(out.map(\.port), [p1])
        let na = out.first?.bytes ?? []
        XCTAssertEqual(na, hex("""
            02000000000a 02000000000d 86dd
            60000000 0020 3a ff fd000000000000000000000000000002 fd000000000000000000000000000001
            88 00 1c8f 60000000 fd000000000000000000000000000002 02 01 02000000000d
            """))
        XCTAssertTrue(referenceL4Valid(na), "ICMPv6 checksum over the pseudo-header")
        XCTAssertEqual(sw.counters.vnis[0].ndSuppressed, 1)
        XCTAssertEqual(sw.counters.vnis[0].floods, 0)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testUnknownTargetsAndOtherFramesFlood() {
        var (sw, io) = makeSuppressingSwitch()
        let frames = [ND.arp(target: [10, 0, 0, 9]), ND.solicitation(target: "fd00::9"),
                      ND.arp(op: 2), Build.raw(dst: .broadcast, src: macA)]
        for frame in frames {
            let out = pass(&sw, &io, from: p1, [frame])
            XCTAssertEqual(Set(out.map(\.port)), [p2, trunk, uplink])
            XCTAssertEqual(out.first { $0.port == p2 }?.bytes, frame, "flooded unchanged")
        }
        XCTAssertEqual(sw.counters.vnis[0].arpSuppressed + sw.counters.vnis[0].ndSuppressed, 0)
        XCTAssertEqual(sw.counters.vnis[0].floods, UInt64(frames.count))
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testAnotherVNIsEntryNeverAnswers() {
        var (sw, io) = makeSwitch()
        XCTAssertTrue(sw.installNeighbor(vni: vniB, ip: IPAddress("10.0.0.2")!, mac: macD))
        XCTAssertTrue(sw.installNeighbor(vni: vniB, ip: IPAddress("fd00::2")!, mac: macD))
        for frame in [ND.arp(), ND.solicitation()] {
            XCTAssertEqual(Set(pass(&sw, &io, from: p1, [frame]).map(\.port)), [p2, trunk, uplink], "VNI A floods")
            XCTAssertEqual(pass(&sw, &io, from: p3, [frame]).map(\.port), [p3], "VNI B answers")
        }
        XCTAssertEqual(sw.counters.vnis[0].arpSuppressed + sw.counters.vnis[0].ndSuppressed, 0)
        XCTAssertEqual(sw.counters.vnis[1].arpSuppressed, 1)
        XCTAssertEqual(sw.counters.vnis[1].ndSuppressed, 1)
        XCTAssertNil(sw.neighbor(vni: vniA, ip: IPAddress("10.0.0.2")!))
    }

    func testGratuitousARPProbesAndDADReachTheOwner() {
        var (sw, io) = makeSuppressingSwitch()
        let frames = [
            ND.arp(sender: ND.targetIP),               // gratuitous: sender = target
            ND.arp(sender: [0, 0, 0, 0]),              // RFC 5227 probe
            ND.solicitation(source: "::"),             // duplicate address detection
            ND.solicitation(hopLimit: 64),             // not from the link
            ND.solicitation(corruptChecksum: true),
        ]
        for frame in frames {
            XCTAssertEqual(Set(pass(&sw, &io, from: p1, [frame]).map(\.port)), [p2, trunk, uplink])
        }
        XCTAssertEqual(sw.counters.vnis[0].arpSuppressed + sw.counters.vnis[0].ndSuppressed, 0)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testTrunkRequestIsAnsweredWithTheTrunksTag() {
        var (sw, io) = makeSuppressingSwitch()
        let out = pass(&sw, &io, from: trunk, [ND.arp(vlan: 10)])
        XCTAssertEqual(out.map(\.port), [trunk])
        XCTAssertEqual(out.first?.bytes, hex("""
            02000000000a 02000000000d 8100 000a 0806 0001 0800 06 04 0002 02000000000d 0a000002 02000000000a 0a000001
            000000000000000000000000000000000000
            """))
        let na = pass(&sw, &io, from: trunk, [ND.solicitation(vlan: 10)])
        XCTAssertEqual(na.map(\.port), [trunk])
        XCTAssertEqual(Array(na.first?.bytes[12..<16] ?? []), hex("8100 000a"))
        XCTAssertTrue(referenceL4Valid(na.first?.bytes ?? [], l3: 18))
        // VLAN 20 is VNI B, which does not know 10.0.0.2.
        XCTAssertEqual(Set(pass(&sw, &io, from: trunk, [ND.arp(vlan: 20)]).map(\.port)), [p3, uplink])
        XCTAssertEqual(sw.counters.vnis[0].arpSuppressed, 1)
        XCTAssertEqual(sw.counters.vnis[0].ndSuppressed, 1)
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testWithdrawnAndRemovedEntriesStopAnswering() {
        var (sw, io) = makeSuppressingSwitch()
        let v4 = IPAddress("10.0.0.2")!
        XCTAssertFalse(sw.withdrawNeighbor(vni: vniA, ip: v4, mac: macC), "only while it maps to that MAC")
        XCTAssertEqual(pass(&sw, &io, from: p1, [ND.arp()]).map(\.port), [p1])
        XCTAssertTrue(sw.withdrawNeighbor(vni: vniA, ip: v4, mac: macD))
        XCTAssertEqual(Set(pass(&sw, &io, from: p1, [ND.arp()]).map(\.port)), [p2, trunk, uplink])
        XCTAssertEqual(sw.neighborRows().map(\.ip), [IPAddress("fd00::2")!])
        sw.removeVNI(vniA)
        XCTAssertTrue(sw.neighborRows().isEmpty, "a removed VNI takes its neighbours along")
        XCTAssertFalse(sw.installNeighbor(vni: vniB, ip: IPAddress("224.0.0.1")!, mac: macD))
        XCTAssertFalse(sw.installNeighbor(vni: vniB, ip: v4, mac: .broadcast))
    }

    func testNeighborTableMatchesADictionary() {
        var table = NeighborTable(capacity: 128)
        var model: [String: MACAddress] = [:]
        var rng = SystemRandomNumberGenerator()
        for step in 0..<5000 {
            let bd = UInt16.random(in: 0..<3, using: &rng)
            let n = UInt32.random(in: 0..<40, using: &rng)
            let ip = n % 2 == 0 ? IPAddress(v4: 0x0A00_0000 | n) : IPAddress(hi: 0xFD00 << 48, lo: UInt64(n))
            let key = "\(bd)/\(ip)"
            if Bool.random(using: &rng) {
                let mac = MACAddress(raw: UInt64(step) << 8)
                XCTAssertTrue(table.set(bd: bd, ip: ip, mac: mac))
                model[key] = mac
            } else {
                XCTAssertEqual(table.remove(bd: bd, ip: ip), model.removeValue(forKey: key))
            }
            if step % 500 == 0 { _ = table.flush(bd: 1); model = model.filter { !$0.key.hasPrefix("1/") } }
        }
        XCTAssertEqual(table.count, model.count)
        for e in table.entries() { XCTAssertEqual(model["\(e.bd)/\(e.ip)"], e.mac) }
        for (k, mac) in model {
            let parts = k.split(separator: "/")
            XCTAssertEqual(table.lookup(bd: UInt16(parts[0])!, ip: IPAddress(String(parts[1]))!), mac)
        }
    }
}
