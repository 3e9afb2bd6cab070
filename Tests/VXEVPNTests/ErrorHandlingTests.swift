import XCTest
import VXCore
@testable import VXEVPN

/// RFC 7606 behaviour of the decoder, one malformation at a time.
final class ErrorHandlingTests: XCTestCase {
    // A well-formed EVPN type-2 UPDATE's attributes, each as raw bytes (`UpdateBytes`), MP_REACH first.
    let mpReach = UpdateBytes.mpReach
    let origin = UpdateBytes.origin
    let asPath = UpdateBytes.asPath(65001)
    let extComm = UpdateBytes.extComm

    func message(_ attrs: [UInt8], nlri: [UInt8] = [], withdrawnLength: UInt16? = nil, attrLength: UInt16? = nil) -> [UInt8] {
        UpdateBytes.message(attrs, nlri: nlri, withdrawnLength: withdrawnLength, attrLength: attrLength)
    }
    func decode(_ attrs: [UInt8], context: BGPDecodeContext = BGPDecodeContext()) throws -> BGPUpdate {
        guard case .update(let u) = try BGPMessage.decode(message(attrs), context: context) else { throw XCTSkip("not update") }
        return u
    }
    func assertReset(_ bytes: [UInt8], _ code: BGPNotification.Code, _ sub: UInt8,
                     context: BGPDecodeContext = BGPDecodeContext(), file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try BGPMessage.decode(bytes, context: context), file: file, line: line) { e in
            let n = e as? BGPNotification
            XCTAssertEqual(n?.code, code.rawValue, "\(e)", file: file, line: line)
            XCTAssertEqual(n?.subcode, sub, "\(e)", file: file, line: line)
        }
    }

    func testCleanUpdateHasNoProblems() throws {
        let u = try decode(mpReach + origin + asPath + extComm)
        XCTAssertEqual(u.problems, [])
        XCTAssertEqual(u.evpnAnnounced.count, 1)
    }

    func testTreatAsWithdraw() throws {
        let cases: [(String, [UInt8])] = [
            ("ORIGIN value 3", mpReach + [0x40, 1, 1, 3] + asPath + extComm),
            ("ORIGIN length 2", mpReach + [0x40, 1, 2, 0, 0] + asPath + extComm),
            ("ORIGIN flags optional", mpReach + [0xC0, 1, 1, 0] + asPath + extComm),
            ("ORIGIN with the Partial bit (well-known)", mpReach + [0x60, 1, 1, 0] + asPath + extComm),
            ("AS_PATH with the Partial bit (well-known)", mpReach + origin + [0x60, 2, 6, 2, 1, 0, 0, 0xFD, 0xE9] + extComm),
            ("AS_PATH segment overrun", mpReach + origin + [0x40, 2, 6, 2, 2, 0, 0, 0xFD, 0xE9] + extComm),
            ("AS_PATH segment type 9", mpReach + origin + [0x40, 2, 6, 9, 1, 0, 0, 0xFD, 0xE9] + extComm),
            ("AS_PATH confed from eBGP", mpReach + origin + [0x40, 2, 6, 3, 1, 0, 0, 0xFD, 0xE9] + extComm),
            ("EXT_COMMUNITIES length 7", mpReach + origin + asPath + [0xC0, 16, 7, 0, 2, 0xFD, 0xE9, 0, 0, 0]),
            ("MED length 3", mpReach + origin + asPath + extComm + [0x80, 4, 3, 0, 0, 1]),
            ("COMMUNITIES length 3", mpReach + origin + asPath + extComm + [0xC0, 8, 3, 0, 0, 1]),
            ("PMSI truncated", mpReach + origin + asPath + extComm + [0xC0, 22, 3, 0, 6, 0]),
            ("PMSI IR endpoint of 3 bytes", mpReach + origin + asPath + extComm + [0xC0, 22, 8, 0, 6, 0, 0, 100, 1, 2, 3]),
            ("missing ORIGIN", mpReach + asPath + extComm),
            ("missing AS_PATH", mpReach + origin + extComm),
            ("last attribute overruns field", mpReach + origin + asPath + [0xC0, 16, 9, 0, 2, 0xFD, 0xE9, 0, 0, 0, 100]),
        ]
        for (name, attrs) in cases {
            let u = try decode(attrs)
            XCTAssertTrue(u.treatAsWithdraw, name)
            XCTAssertEqual(u.evpnAnnounced, [], name)
            XCTAssertEqual(u.evpnWithdrawn.count, 1, name)
        }
    }

    /// RFC 7606 §7.11 / RFC 4760 §7: the NLRI cannot be trusted, so the session is reset.
    func testBadNextHopLengthOrFlagsInMPReachResetTheSession() throws {
        // next hop length 4 -> 5 (no EVPN next hop is 5 bytes).
        let a = UpdateBytes.mpReachBadNextHopLength
        assertReset(message(a + origin + asPath), .update, 9)
        var flags = mpReach
        flags[0] = 0xD0   // optional transitive: MP_REACH is optional non-transitive
        assertReset(message(flags + origin + asPath), .update, 4)
        assertReset(message(mpReach + origin + asPath + [0xD0, 15, 0, 3, 0, 25, 70]), .update, 4)   // MP_UNREACH flags
    }

    /// RFC 7432 §7.2 / RFC 7606 §5.3: an announced MAC/IP route too short for its MPLS Label1
    /// is malformed NLRI (session reset), never installed with a guessed label; a withdrawal
    /// may leave the label out.
    func testMACIPRouteWithoutLabel1() throws {
        XCTAssertEqual(mpReach[13], 2, "the type-2 route starts after the 9 bytes of AFI, SAFI, next hop and reserved")
        XCTAssertEqual(mpReach[14], 33, "RD 8 + ESI 10 + tag 4 + MAC length and MAC 7 + IP length 1 + Label1 3")
        let short = UpdateBytes.mpReachWithoutLabel1
        assertReset(message(short + origin + asPath + extComm), .update, 9)
        // The same route withdrawn without its label is a withdrawal like any other.
        let route = Array(short[13...])
        let unreach: [UInt8] = [0x90, 15, 0, UInt8(3 + route.count), 0, 25, 70] + route
        let u = try decode(unreach)
        XCTAssertEqual(u.problems, [])
        XCTAssertEqual(u.evpnWithdrawn.count, 1)
    }

    /// RFC 7606 §5.2: an attribute error in an UPDATE that reaches nothing (no NLRI field, no
    /// MP_REACH_NLRI) cannot be treated as a withdrawal: the session is reset. The same error
    /// beside an MP_UNREACH is still a reset (the withdrawal carries no reachability either).
    func testAttributeErrorWithoutReachableNLRIResetsTheSession() {
        assertReset(message([0x40, 1, 1, 3] + asPath + extComm), .update, 6)                  // ORIGIN 3
        assertReset(message(origin + [0x40, 2, 6, 9, 1, 0, 0, 0xFD, 0xE9]), .update, 11)      // AS_PATH segment type 9
        assertReset(message(origin + asPath + [0xC0, 16, 7, 0, 2, 0xFD, 0xE9, 0, 0, 0]), .update, 9)
        let unreach: [UInt8] = [0x90, 15, 0, 3, 0, 25, 70]
        assertReset(message(unreach + [0x40, 1, 1, 3]), .update, 6)
        // Attribute discard is still only a discard.
        XCTAssertNoThrow(try decode(origin + asPath + [0x40, 6, 1, 0]))
    }

    func testAttributeDiscard() throws {
        let cases: [(String, [UInt8], UInt8)] = [
            ("ATOMIC_AGGREGATE length 1", [0x40, 6, 1, 0], 6),
            ("ATOMIC_AGGREGATE with the Partial bit (well-known)", [0x60, 6, 0], 6),
            ("AGGREGATOR length 5", [0xC0, 7, 5, 0, 0, 0, 0, 1], 7),
            ("LOCAL_PREF from eBGP", [0x40, 5, 4, 0, 0, 0, 100], 5),
            ("ORIGINATOR_ID from eBGP", [0x80, 9, 4, 1, 1, 1, 1], 9),
            ("repeated ORIGIN", [0x40, 1, 1, 2], 1),
            ("AS4_PATH malformed", [0xC0, 17, 3, 2, 1, 0], 17),
        ]
        for (name, extra, type) in cases {
            let u = try decode(mpReach + origin + asPath + extComm + extra)
            XCTAssertFalse(u.treatAsWithdraw, name)
            XCTAssertEqual(u.problems.map(\.type), [type], name)
            XCTAssertEqual(u.problems.first?.action, .attributeDiscard, name)
            XCTAssertEqual(u.evpnAnnounced.count, 1, name)
            XCTAssertEqual(u.attributes.origin, .igp, name) // the first ORIGIN is kept
        }
    }

    func testIBGPNeedsLocalPref() throws {
        let ibgp = BGPDecodeContext(internalPeer: true)
        XCTAssertTrue(try decode(mpReach + origin + asPath, context: ibgp).treatAsWithdraw)
        let ok = try decode(mpReach + origin + asPath + [0x40, 5, 4, 0, 0, 0, 100], context: ibgp)
        XCTAssertEqual(ok.problems, [])
        XCTAssertEqual(ok.attributes.localPref, 100)
        // A withdraw-only UPDATE needs no attributes.
        var w = [UInt8]()
        MPUnreachNLRI(routes: [.imet(EVPNIMETRoute(rd: .as2(1, 1), originator: IPAddress("198.18.0.9")!))]).encodeValue(into: &w)
        XCTAssertEqual(try decode([0x80, 15, UInt8(w.count)] + w, context: ibgp).problems, [])
    }

    func testUnknownOptionalAttributes() throws {
        let u = try decode(mpReach + origin + asPath + [0xC0, 99, 2, 7, 7] + [0x80, 98, 1, 7])
        XCTAssertEqual(u.problems, [])
        XCTAssertEqual(u.attributes.unknown.map(\.type), [99])
        XCTAssertEqual(u.attributes.unknown.first?.value, [7, 7])
    }

    func testUnknownRouteTypeIsSkippedNotAnError() throws {
        var v = [UInt8]()
        MPReachNLRI(nextHop: IPAddress("198.18.0.1")!, routes: [.other(type: 6, body: [1, 2, 3]),
            .imet(EVPNIMETRoute(rd: .as2(1, 1), originator: IPAddress("198.18.0.1")!))]).encodeValue(into: &v)
        let u = try decode([0x90, 14, 0, UInt8(v.count)] + v + origin + asPath)
        XCTAssertEqual(u.evpnAnnounced.map(\.routeType), [6, 3])
    }

    func testSessionReset() {
        let upd = BGPNotification.Code.update, hdr = BGPNotification.Code.messageHeader
        assertReset(message(mpReach + mpReach + origin + asPath), upd, 1) // repeated MP_REACH
        assertReset(message(origin + [0x40, 77, 1, 0] + asPath), upd, 2) // unknown well-known
        assertReset(message(origin + asPath + [0xC0, 16, 9, 0]), upd, 1) // overrun, no MP attribute
        assertReset(message(origin + asPath, attrLength: 200), upd, 1) // total length past message
        assertReset(message([], withdrawnLength: 9), upd, 1)
        assertReset(message(origin + asPath + [0x40, 3, 4, 1, 1, 1, 1], nlri: [33, 1, 2, 3, 4, 5]), upd, 10)
        var truncatedNLRI = mpReach
        truncatedNLRI[13 + 1] = 40 // type-2 length past the attribute
        assertReset(message(truncatedNLRI + origin + asPath), upd, 9)
        var badMACLen = mpReach
        badMACLen[13 + 2 + 22] = 47
        assertReset(message(badMACLen + origin + asPath), upd, 9)
        var badMarker = BGPMessage.keepalive.encode(); badMarker[3] = 0
        assertReset(badMarker, hdr, 1)
        assertReset(BGPMessage.keepalive.encode() + [0], hdr, 2)
        var longKeepalive = BGPMessage.keepalive.encode() + [0]; longKeepalive[17] = 20
        assertReset(longKeepalive, hdr, 2)
        var badType = BGPMessage.keepalive.encode(); badType[18] = 9
        assertReset(badType, hdr, 3)
    }

    func testOpenErrors() {
        func open(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
            var m = BGPMessage.open(BGPOpen(asn: 65001, holdTime: 90, routerID: 1, capabilities: [])).encode()
            edit(&m); return m
        }
        let o = BGPNotification.Code.open
        assertReset(open { $0[19] = 3 }, o, 1)
        assertReset(open { $0[22] = 0; $0[23] = 2 }, o, 6)
        assertReset(open { $0[24...27] = [0, 0, 0, 0] }, o, 3)
        assertReset(open { $0[29] = 1 }, o, 4) // optional parameter type 1 (authentication)
        assertReset(open { $0[20] = 0xFD; $0[21] = 0xEA }, o, 2) // 2-octet AS != 4-octet capability
    }

    /// A capability vxsw knows with a malformed value refuses the OPEN with 2/0 (RFC 4271 §6.2,
    /// RFC 5492 §3); one it does not know is ignored.
    func testMalformedKnownCapabilityIsRefused() throws {
        func open(_ capability: [UInt8]) -> [UInt8] { UpdateBytes.open(capability: capability) }
        let o = BGPNotification.Code.open
        assertReset(open([1, 3, 0, 25, 70]), o, 0)                  // Multiprotocol of 3 bytes
        assertReset(open([1, 5, 0, 25, 0, 70, 0]), o, 0)            // ... of 5 bytes
        assertReset(open([65, 2, 0, 1]), o, 0)                      // 4-octet AS of 2 bytes
        assertReset(open([2, 1, 0]), o, 0)                          // route refresh with a value
        guard case .open(let ok) = try BGPMessage.decode(open([1, 4, 0, 25, 0, 70]), context: BGPDecodeContext()) else {
            return XCTFail("a well-formed OPEN")
        }
        XCTAssertEqual(ok.families, [AFISAFI(afi: 25, safi: 70)])
        guard case .open(let odd) = try BGPMessage.decode(open([200, 3, 1, 2, 3]), context: BGPDecodeContext()) else {
            return XCTFail("an unknown capability is ignored")
        }
        XCTAssertEqual(odd.capabilities, [.unknown(code: 200, value: [1, 2, 3])])
    }
}
