import XCTest
@testable import VXCore

final class HeaderTests: XCTestCase {
    func testEthernetAndVLANParsing() {
        var f = Build.ipv4(vlan: 100, proto: 17, payload: [1, 2])
        withBytes(&f) { p, n in
            XCTAssertEqual(Ethernet.destination(p), macB)
            XCTAssertEqual(Ethernet.source(p), macA)
            XCTAssertEqual(Ethernet.etherType(p), 0x8100)
            XCTAssertEqual(VLANTag.vid(p), 100)
            let l3 = Ethernet.l3(p, length: n)
            XCTAssertEqual(l3?.offset, 18)
            XCTAssertEqual(l3?.type, 0x0800)
            XCTAssertNil(Ethernet.l3(p, length: 16))
        }
    }

    func testVLANStripAndPushRoundTrip() {
        let tagged = [UInt8](repeating: 0, count: 4) + Build.ipv4(vlan: 42, proto: 17, payload: [9])
        var f = tagged
        withBytes(&f) { p, _ in VLANTag.strip(p + 4) }
        XCTAssertEqual(Array(f[8...]), Build.ipv4(proto: 17, payload: [9]))
        withBytes(&f) { p, _ in VLANTag.push(p + 8, vid: 42) }
        XCTAssertEqual(Array(f[4...]), Array(tagged[4...]))
    }

    func testIPv4WriteAndRead() {
        var b = [UInt8](repeating: 0xAA, count: 20)
        withBytes(&b) { p, _ in
            IPv4.write(p, totalLength: 0x73, protocol: 17, source: 0xC0A8_0001, destination: 0xC0A8_00C7)
            XCTAssertEqual(IPv4.version(p), 4)
            XCTAssertEqual(IPv4.ihlBytes(p), 20)
            XCTAssertEqual(IPv4.totalLength(p), 0x73)
            XCTAssertFalse(IPv4.isFragment(p))
            XCTAssertEqual(IPv4.destination(p), 0xC0A8_00C7)
        }
        XCTAssertEqual(b, hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"))
    }

    func testVXLANHeader() {
        var b = [UInt8](repeating: 0xFF, count: 8)
        withBytes(&b) { p, _ in VXLAN.write(p, vni: VNI(unchecked: 0x123456)) }
        XCTAssertEqual(b, [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0])
        withBytes(&b) { p, _ in
            XCTAssertTrue(VXLAN.hasValidVNI(p))
            XCTAssertEqual(VXLAN.vni(p).value, 0x123456)
        }
    }
}
