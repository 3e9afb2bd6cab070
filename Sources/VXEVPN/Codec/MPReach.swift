import VXCore

/// MP_REACH_NLRI (RFC 4760 §3). EVPN NLRI are decoded; other families keep their raw NLRI.
public struct MPReachNLRI: Hashable, Sendable {
    public var family: AFISAFI
    /// Next hop: 4 (IPv4), 16 (IPv6) or 32 (IPv6 global + link-local) bytes.
    public var nextHopBytes: [UInt8]
    public var routes: [EVPNRoute]
    public var otherNLRI: [UInt8]

    public init(family: AFISAFI = .l2vpnEVPN, nextHop: IPAddress, routes: [EVPNRoute]) {
        self.family = family; self.nextHopBytes = nextHop.bytes; self.routes = routes; self.otherNLRI = []
    }
    init(family: AFISAFI, nextHopBytes: [UInt8], routes: [EVPNRoute], otherNLRI: [UInt8]) {
        self.family = family; self.nextHopBytes = nextHopBytes; self.routes = routes; self.otherNLRI = otherNLRI
    }

    /// The global next hop (the VTEP); nil when the length is not 4, 16 or 32.
    public var nextHop: IPAddress? {
        var r = ByteReader(nextHopBytes)
        switch nextHopBytes.count {
        case 4: return r.ip(length: 4)
        case 16, 32: return r.ip(length: 16)
        default: return nil
        }
    }

    func encodeValue(into out: inout [UInt8]) {
        out.put16(family.afi); out.put8(family.safi)
        out.put8(UInt8(truncatingIfNeeded: nextHopBytes.count)); out.append(contentsOf: nextHopBytes)
        out.put8(0) // reserved (was SNPA count)
        for r in routes { r.encode(into: &out) }
        out.append(contentsOf: otherNLRI)
    }

    enum Problem: Error { case malformed, badNextHopLength }

    /// Throws `.malformed` when the NLRI cannot be located or parsed (session reset,
    /// RFC 7606 §5.3/§7.11); returns `badNextHop` true when only the next hop is unusable
    /// (treat-as-withdraw: the routes are still known).
    static func decode(_ r: inout ByteReader) throws -> (MPReachNLRI, badNextHop: Bool) {
        guard let afi = r.u16(), let safi = r.u8(), let nhLen = r.u8(), let nh = r.take(Int(nhLen)), r.skip(1) else {
            throw Problem.malformed
        }
        let family = AFISAFI(afi: afi, safi: safi)
        var routes: [EVPNRoute] = [], other: [UInt8] = []
        if family == .l2vpnEVPN {
            do { routes = try EVPNRoute.decodeAll(&r, announced: true) } catch { throw Problem.malformed }
        } else {
            other = r.take(r.remaining) ?? []
        }
        let m = MPReachNLRI(family: family, nextHopBytes: nh, routes: routes, otherNLRI: other)
        return (m, family == .l2vpnEVPN && m.nextHop == nil)
    }
}

/// MP_UNREACH_NLRI (RFC 4760 §4). An EVPN one with no routes is the End-of-RIB marker (RFC 4724 §2).
public struct MPUnreachNLRI: Hashable, Sendable {
    public var family: AFISAFI
    public var routes: [EVPNRoute]
    public var otherNLRI: [UInt8]

    public init(family: AFISAFI = .l2vpnEVPN, routes: [EVPNRoute]) {
        self.family = family; self.routes = routes; self.otherNLRI = []
    }

    func encodeValue(into out: inout [UInt8]) {
        out.put16(family.afi); out.put8(family.safi)
        for r in routes { r.encode(into: &out) }
        out.append(contentsOf: otherNLRI)
    }

    static func decode(_ r: inout ByteReader) throws -> MPUnreachNLRI {
        guard let afi = r.u16(), let safi = r.u8() else { throw MPReachNLRI.Problem.malformed }
        var m = MPUnreachNLRI(family: AFISAFI(afi: afi, safi: safi), routes: [])
        if m.family == .l2vpnEVPN {
            do { m.routes = try EVPNRoute.decodeAll(&r, announced: false) } catch { throw MPReachNLRI.Problem.malformed }
        } else {
            m.otherNLRI = r.take(r.remaining) ?? []
        }
        return m
    }
}
