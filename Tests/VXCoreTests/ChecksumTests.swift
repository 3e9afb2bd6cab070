import XCTest
@testable import VXCore

final class ChecksumTests: XCTestCase {
    func testRFC1071Example() {
        var b: [UInt8] = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]
        XCTAssertEqual(withBytes(&b) { Checksum.sum($0, count: $1) }, 0xDDF2)
    }

    func testMatchesReferenceAtAllLengthsAndOffsets() {
        var rng = SystemRandomNumberGenerator()
        for length in 0..<80 {
            for offset in 0..<3 {
                var b = (0..<(length + offset)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let got = withBytes(&b) { p, _ in Checksum.internet(p + offset, count: length) }
                XCTAssertEqual(got, referenceChecksum(Array(b[offset...])), "length \(length) offset \(offset)")
            }
        }
        // Carries: all 0xFF.
        var ones = [UInt8](repeating: 0xFF, count: 1501)
        XCTAssertEqual(withBytes(&ones) { Checksum.internet($0, count: $1) }, referenceChecksum(ones))
    }

    func testTwentyByteSumMatchesTheLoop() {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<2000 {
            var b = (0..<23).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if round < 3 { b = [UInt8](repeating: [0xFF, 0x00, 0x80][round], count: 23) }  // carries, zeros
            let offset = round % 4
            let (fast, loop) = withBytes(&b) { p, _ in (Checksum.sum20(p + offset), Checksum.sum(p + offset, count: 20)) }
            XCTAssertEqual(fast, loop, "round \(round)")
        }
    }

    func testIPv4HeaderChecksum() {
        var h = hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7")
        XCTAssertEqual(withBytes(&h) { p, _ in Checksum.ipv4Header(p, length: 20) }, 0xB861)
        h[10] = 0xB8; h[11] = 0x61
        XCTAssertEqual(withBytes(&h) { p, _ in Checksum.ipv4Header(p, length: 20) }, 0)
    }

    func testCompletionFixesPartialChecksums() {
        let payload = (0..<37).map { UInt8($0 * 7 & 0xFF) }
        let frames: [(String, [UInt8], Int)] = [
            ("tcp4", Build.ipv4(proto: 6, payload: payload, l4Checksum: 0x1234), 14),
            ("udp4", Build.ipv4(proto: 17, payload: payload, l4Checksum: 0x1234), 14),
            ("tcp6", Build.ipv6(proto: 6, payload: payload, l4Checksum: 0xBEEF), 14),
            ("udp6", Build.ipv6(proto: 17, payload: payload, l4Checksum: 0xBEEF), 14),
            ("tcp4 tagged", Build.ipv4(vlan: 7, proto: 6, payload: payload, l4Checksum: 1), 18),
        ]
        for (name, frame, l3) in frames {
            var f = frame + [0, 0, 0, 0] // Ethernet padding past the IP packet must be ignored.
            XCTAssertFalse(referenceL4Valid(f, l3: l3), name)
            XCTAssertTrue(withBytes(&f) { ChecksumCompletion.complete($0, length: $1) }, name)
            XCTAssertTrue(referenceL4Valid(f, l3: l3), name)
        }
    }

    func testCompletionLeavesUDPv4ZeroFragmentsAndTruncated() {
        var zero = Build.ipv4(proto: 17, payload: [1, 2, 3], l4Checksum: 0)
        XCTAssertFalse(withBytes(&zero) { ChecksumCompletion.complete($0, length: $1) })
        XCTAssertEqual(be16(zero, 40), 0)

        var frag = Build.ipv4(proto: 6, payload: [1, 2, 3], l4Checksum: 5, fragment: true)
        let before = frag
        XCTAssertFalse(withBytes(&frag) { ChecksumCompletion.complete($0, length: $1) })
        XCTAssertEqual(frag, before)

        var full = Build.ipv4(proto: 6, payload: [1, 2, 3], l4Checksum: 5)
        for cut in [10, 14, 20, 33, full.count - 1] {
            let n = cut
            XCTAssertFalse(withBytes(&full) { p, _ in ChecksumCompletion.complete(p, length: n) }, "cut \(cut)")
        }
        var full6 = Build.ipv6(proto: 17, payload: [1, 2, 3], l4Checksum: 5)
        XCTAssertFalse(withBytes(&full6) { p, c in ChecksumCompletion.complete(p, length: c - 1) })
    }

    func testComputedUDPZeroIsSentAsFFFF() {
        // Pick a payload word that makes the full sum 0xFFFF, so the checksum computes to 0.
        var f = Build.ipv6(proto: 17, payload: [0, 0], l4Checksum: 0)
        XCTAssertTrue(withBytes(&f) { ChecksumCompletion.complete($0, length: $1) })
        let c = be16(f, 14 + 40 + 6)
        // Put c into the payload word: sum becomes 0xFFFF-ish → checksum 0 → 0xFFFF.
        f[14 + 48] = UInt8(c >> 8); f[14 + 49] = UInt8(c & 0xFF)
        XCTAssertTrue(withBytes(&f) { ChecksumCompletion.complete($0, length: $1) })
        XCTAssertEqual(be16(f, 14 + 40 + 6), 0xFFFF)
        XCTAssertTrue(referenceL4Valid(f))
    }
}
