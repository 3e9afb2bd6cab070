import VXCore
@testable import VXEVPN

/// Raw bytes of one EVPN type-2 UPDATE, attribute by attribute, to break one at a time:
/// the RFC 7606 classes, decoded (`ErrorHandlingTests`) and sent on a live session
/// (`SessionTests+ErrorClasses`). The route: MAC 02:00:00:00:00:01, Label1 100 (VNI 100),
/// next hop 198.18.0.1, RT 65001:100; the AS path is the sender's.
enum UpdateBytes {
    static let mac = MACAddress("02:00:00:00:00:01")!

    /// MP_REACH_NLRI (flags 0x90: optional, extended length) with the one type-2 route.
    static let mpReach: [UInt8] = {
        var v = [UInt8]()
        MPReachNLRI(nextHop: IPAddress("198.18.0.1")!, routes: [
            .macIP(EVPNMACIPRoute(rd: .ipv4(0xC612_0001, 1), mac: mac, label1: 100)),
        ]).encodeValue(into: &v)
        return [0x90, 14, 0, UInt8(v.count)] + v
    }()
    static let origin: [UInt8] = [0x40, 1, 1, 0]
    /// AS_SEQUENCE of one 4-octet AS.
    static func asPath(_ asn: UInt32) -> [UInt8] {
        [0x40, 2, 6, 2, 1, UInt8(asn >> 24), UInt8((asn >> 16) & 0xFF), UInt8((asn >> 8) & 0xFF), UInt8(asn & 0xFF)]
    }
    /// RT 65001:100.
    static let extComm: [UInt8] = [0xC0, 16, 8, 0x00, 0x02, 0xFD, 0xE9, 0, 0, 0, 100]

    /// MP_REACH with a 5-byte next hop (no EVPN next hop has 5 bytes).
    static var mpReachBadNextHopLength: [UInt8] {
        var a = mpReach
        a[7] = 5
        a.insert(0, at: 12)
        a[3] += 1
        return a
    }

    /// MP_REACH whose type-2 route is 3 bytes short: no MPLS Label1.
    static var mpReachWithoutLabel1: [UInt8] {
        var short = mpReach
        short[14] = 30
        short.removeLast(3)
        short[3] -= 3
        return short
    }

    /// A whole UPDATE message around `attrs` (and a classic NLRI field).
    static func message(_ attrs: [UInt8], nlri: [UInt8] = [], withdrawnLength: UInt16? = nil, attrLength: UInt16? = nil) -> [UInt8] {
        var body = [UInt8]()
        body.put16(withdrawnLength ?? 0)
        body.put16(attrLength ?? UInt16(attrs.count))
        body += attrs + nlri
        var m = [UInt8](repeating: 0xFF, count: 16)
        m.put16(UInt16(19 + body.count)); m.put8(2)
        return m + body
    }

    /// An OPEN (AS 65001, hold 90, router ID 1.1.1.1) with one capability's bytes.
    static func open(capability: [UInt8], asn: UInt16 = 65001) -> [UInt8] {
        var body: [UInt8] = [4, UInt8(asn >> 8), UInt8(asn & 0xFF), 0, 90, 1, 1, 1, 1]
        body += [UInt8(2 + capability.count), 2, UInt8(capability.count)] + capability
        var m = [UInt8](repeating: 0xFF, count: 16)
        m.put16(UInt16(19 + body.count)); m.put8(1)
        return m + body
    }
}
