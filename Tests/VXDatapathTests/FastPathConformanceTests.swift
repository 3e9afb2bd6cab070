import VXCore
import VXLabKit
import XCTest

/// Issue 10 in the fast path: VXLAN over IPv6 with extension headers is decapsulated like the
/// plain frame; a wrong outer UDP checksum is never decapsulated here (declined: the engine
/// drops and counts it) where it is verified.
extension FastPathXDPTests {
    func testDecapBehindIPv6ExtensionHeadersIdenticalBytes() throws {
        let plain = vxlan(ipv4Frame(dst: macA, src: macR6, payload: 200), from: vtep6)
        for chain: [IPv6ExtensionHeader] in [
            [.hopByHop], [.options(60, units: 3)], [.fragment()],
            [.hopByHop, .destinationOptions, .fragment(), .destinationOptions],
        ] {
            try assertIdentical(insertingIPv6Extensions(plain, chain), from: uplink, counter: "fast_decap")
        }
        // Chains the steering does not take go to the kernel; the engine, if it saw them, drops them.
        try mirror(ingress: uplink)
        for (chain, reason) in [([IPv6ExtensionHeader.routing], DropReason.badExtensionHeader), ([.fragment(more: true)], .fragmented)] {
            let frame = insertingIPv6Extensions(plain, chain)
            XCTAssertEqual(try runXDP(frame).counter, "uplink_pass", reason.name)
            let before = pipeline.counters.drops(reason)
            XCTAssertTrue(runSwift(frame, from: uplink).isEmpty)
            XCTAssertEqual(pipeline.counters.drops(reason), before + 1, reason.name)
        }
        // The chain fits the frame but not the payload length.
        var pastPayload = insertingIPv6Extensions(plain, [.options(60, units: 2)])
        pastPayload[18] = 0; pastPayload[19] = 12
        try assertDropped(pastPayload, from: uplink, .badExtensionHeader)
    }

    func testWrongOuterUDPChecksumIsNotDecapsulated() throws {
        var wrong = vxlan(ipv4Frame(dst: macA, src: macR6, payload: 300), from: vtep6)
        wrong[60] ^= 0x40
        try assertDropped(wrong, from: uplink, .badUDPChecksum)
        try assertDropped(insertingIPv6Extensions(wrong, [.hopByHop]), from: uplink, .badUDPChecksum)
        // Zero ("none", RFC 6935/6936) is taken.
        var zero = wrong
        zero[60] = 0; zero[61] = 0
        try assertIdentical(zero, from: uplink, counter: "fast_decap")
        // Left partial by a local sender (a veth peer's kernel): the pseudo-header sum, taken.
        var partial = wrong
        let pseudo = partial.withUnsafeBytes { Checksum.pseudoHeaderV6($0.baseAddress! + 14, protocol: 17, length: partial.count - 54) }
        partial[60] = UInt8(pseudo >> 8); partial[61] = UInt8(pseudo & 0xFF)
        try assertIdentical(partial, from: uplink, counter: "fast_decap")
        // Over IPv4, computed by the sender and then damaged: verified only when configured.
        var wrong4 = vxlan(ipv4Frame(dst: macA, src: macR4, payload: 300))
        wrong4[40] = 0x12; wrong4[41] = 0x34
        try assertIdentical(wrong4, from: uplink, counter: "fast_decap")
        pipeline.underlay.verifyUDPChecksumV4 = true
        try assertDropped(wrong4, from: uplink, .badUDPChecksum)
        // Verification off for IPv6: both paths take the damaged frame alike.
        pipeline.underlay.verifyUDPChecksumV6 = false
        try assertIdentical(wrong, from: uplink, counter: "fast_decap")
    }
}
