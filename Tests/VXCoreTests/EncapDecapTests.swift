import XCTest
@testable import VXCore

let uplinkMAC = MACAddress(0x02, 0, 0, 0, 0, 0x01)
let nextHopMAC = MACAddress(0x02, 0, 0, 0, 0, 0xFE)
let local4 = IPAddress("10.0.0.1")!, remote4 = IPAddress("10.0.0.2")!, remote4b = IPAddress("10.0.0.3")!
let local6 = IPAddress("fd00::1")!, remote6 = IPAddress("fd00::2")!

func testUnderlay() -> UnderlayConfig {
    var u = UnderlayConfig(uplink: PortID(0), uplinkMAC: uplinkMAC, localV4: local4, localV6: local6)
    u.sourcePortRange = 50000...50000 // a fixed source port keeps golden bytes hand-writable
    return u
}

/// Encapsulates `inner` in a buffer with headroom and returns the whole outer frame. Toward
/// one of our own addresses (a frame to receive) it is addressed to the uplink's MAC.
func encap(_ inner: [UInt8], vni: UInt32, remote: IPAddress, underlay: UnderlayConfig = testUnderlay()) -> [UInt8] {
    let over = Encap.overhead(toward: remote)
    var buf = [UInt8](repeating: 0, count: over) + inner
    withBytes(&buf) { p, n in
        Encap.writeHeaders(before: p + over, innerLength: n - over, vni: VNI(unchecked: vni),
                           local: remote.isIPv4 ? underlay.localV4! : underlay.localV6!, remote: remote,
                           nextHop: remote == local4 || remote == local6 ? uplinkMAC : nextHopMAC, sourcePort: FlowHash.sourcePort(FlowHash.hash(p + over, length: n - over),
                                                                                in: underlay.sourcePortRange),
                           underlay: underlay)
    }
    return buf
}

final class EncapDecapTests: XCTestCase {
    let inner = Build.raw(dst: macB, src: macA, count: 60)

    func testGoldenIPv4() {
        let got = encap(inner, vni: 1000, remote: remote4)
        let expected = hex("""
            020000 0000fe 020000 000001 0800
            4500 0060 0000 4000 4011 268b 0a00 0001 0a00 0002
            c350 12b5 004c 0000
            0800 0000 0003 e800
            """) + inner
        XCTAssertEqual(got, expected)
        XCTAssertEqual(got.count - 14, Encap.outerIPLength(innerLength: inner.count, toward: remote4))
        XCTAssertEqual(referenceChecksum(Array(got[14..<34])), 0, "IPv4 header checksum")
    }

    func testGoldenIPv6WithUDPChecksum() {
        let got = encap(inner, vni: 0xABCDEF, remote: remote6)
        var expected = hex("""
            020000 0000fe 020000 000001 86dd
            6000 0000 004c 1140
            fd00 0000 0000 0000 0000 0000 0000 0001
            fd00 0000 0000 0000 0000 0000 0000 0002
            c350 12b5 004c 0000
            0800 0000 abcd ef00
            """) + inner
        XCTAssertEqual(got.count, expected.count)
        XCTAssertNotEqual(be16(got, 60), 0, "IPv6 UDP checksum is computed (RFC 6935)")
        expected[60] = got[60]; expected[61] = got[61]
        XCTAssertEqual(got, expected)
        XCTAssertTrue(referenceL4Valid(got))
    }

    func testIPv6ZeroChecksumWhenConfigured() {
        var u = testUnderlay()
        u.udp6ZeroChecksum = true
        let got = encap(inner, vni: 7, remote: remote6, underlay: u)
        XCTAssertEqual(be16(got, 60), 0)
    }

    func testDecapYieldsInnerFrame() {
        for (remote, overhead) in [(remote4, 50), (remote6, 70)] {
            var outer = encap(inner, vni: 1000, remote: remote) + [0, 0, 0] // trailing padding ignored
            var receiver = testUnderlay() // the remote VTEP's view
            receiver.localV4 = remote4; receiver.localV6 = remote6; receiver.uplinkMAC = nextHopMAC
            let r = withBytes(&outer) { Decap.parse($0, length: $1, underlay: receiver) }
            guard case .inner(let vni, let offset, let length, let source) = r else { return XCTFail("\(r)") }
            XCTAssertEqual(vni.value, 1000)
            XCTAssertEqual(offset, overhead)
            XCTAssertEqual(Array(outer[offset..<(offset + length)]), inner)
            XCTAssertEqual(source, remote.isIPv4 ? local4 : local6, "source is the sender")
        }
    }

    func testFlowHashSpreadsAndIsStable() {
        let a = Build.ipv4(proto: 17, payload: [1])
        var b = a
        b[14 + 20 + 1] ^= 1 // another source port
        var a2 = a
        let ha = withBytes(&a2) { FlowHash.hash($0, length: $1) }
        let hb = withBytes(&b) { FlowHash.hash($0, length: $1) }
        XCTAssertNotEqual(ha, hb)
        XCTAssertEqual(ha, withBytes(&a2) { FlowHash.hash($0, length: $1) })
        for h: UInt32 in [0, 1, 0x8000_0000, .max] {
            XCTAssertTrue((49152...65535).contains(FlowHash.sourcePort(h, in: 49152...65535)))
        }
        XCTAssertEqual(FlowHash.sourcePort(.max, in: 49152...65535), 65535)
    }
}
