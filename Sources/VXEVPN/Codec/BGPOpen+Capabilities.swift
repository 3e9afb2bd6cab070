import VXCore

/// An address family: AFI/SAFI pair (RFC 4760).
public struct AFISAFI: Hashable, Sendable, Codable, CustomStringConvertible {
    public var afi: UInt16
    public var safi: UInt8
    public init(afi: UInt16, safi: UInt8) { self.afi = afi; self.safi = safi }
    public static let l2vpnEVPN = AFISAFI(afi: 25, safi: 70)
    public static let ipv4Unicast = AFISAFI(afi: 1, safi: 1)
    public var description: String { "\(afiName) \(safiName)" }
}

/// A capability advertised in OPEN (RFC 5492).
public enum BGPCapability: Hashable, Sendable {
    case multiprotocol(AFISAFI)                      // code 1, RFC 4760
    case routeRefresh                                // code 2, RFC 2918
    case enhancedRouteRefresh                        // code 70, RFC 7313
    case fourOctetAS(UInt32)                         // code 65, RFC 6793
    case gracefulRestart(GracefulRestartCapability)  // code 64, RFC 4724
    case unknown(code: UInt8, value: [UInt8])

    public var code: UInt8 {
        switch self {
        case .multiprotocol: return 1
        case .routeRefresh: return 2
        case .enhancedRouteRefresh: return 70
        case .fourOctetAS: return 65
        case .gracefulRestart: return 64
        case .unknown(let c, _): return c
        }
    }

    func encode(into out: inout [UInt8]) {
        out.put8(code)
        let lenAt = out.count; out.put8(0)
        switch self {
        case .multiprotocol(let f): out.put16(f.afi); out.put8(0); out.put8(f.safi)
        case .routeRefresh, .enhancedRouteRefresh: break
        case .fourOctetAS(let asn): out.put32(asn)
        case .gracefulRestart(let gr): gr.encode(into: &out)
        case .unknown(_, let v): out.append(contentsOf: v)
        }
        out[lenAt] = UInt8(truncatingIfNeeded: out.count - lenAt - 1)
    }

    /// Decodes one capability value. A capability vxsw does not know is kept as `.unknown`
    /// (RFC 5492: ignored). One it knows whose value is malformed for its code — e.g. a
    /// Multiprotocol capability that is not 4 bytes — refuses the OPEN with NOTIFICATION 2/0
    /// (RFC 4271 §6.2, RFC 5492 §3): guessing what the peer meant would build a wrong session.
    static func decode(code: UInt8, value: [UInt8]) throws -> BGPCapability {
        var r = ByteReader(value)
        let malformed = BGPNotification.open(.unspecific, data: [code, UInt8(truncatingIfNeeded: value.count)] + value)
        switch code {
        case 1:
            guard value.count == 4, let afi = r.u16(), r.skip(1), let safi = r.u8() else { throw malformed }
            return .multiprotocol(AFISAFI(afi: afi, safi: safi))
        case 2:
            guard value.isEmpty else { throw malformed }
            return .routeRefresh
        case 70:
            guard value.isEmpty else { throw malformed }
            return .enhancedRouteRefresh
        case 65:
            guard value.count == 4, let asn = r.u32() else { throw malformed }
            return .fourOctetAS(asn)
        case 64:
            guard let gr = GracefulRestartCapability.decode(&r) else { throw malformed }
            return .gracefulRestart(gr)
        default:
            return .unknown(code: code, value: value)
        }
    }
}

/// RFC 4724 §3: restart flags, restart time, and per-family forwarding-state flags.
public struct GracefulRestartCapability: Hashable, Sendable {
    /// R bit: the sender has restarted (its peer must not wait for its End-of-RIB forever).
    public var restarting: Bool
    /// N bit (RFC 8538 notification support); kept for round trip.
    public var notification: Bool
    /// Seconds (12 bits) the sender expects to take to re-establish the session.
    public var restartTime: UInt16
    /// Families with the F bit: whether forwarding state was preserved.
    public var families: [(AFISAFI, forwardingPreserved: Bool)]

    public init(restarting: Bool = false, notification: Bool = false, restartTime: UInt16, families: [(AFISAFI, forwardingPreserved: Bool)]) {
        self.restarting = restarting; self.notification = notification
        self.restartTime = restartTime & 0x0FFF; self.families = families
    }

    func encode(into out: inout [UInt8]) {
        out.put16((restarting ? 0x8000 : 0) | (notification ? 0x4000 : 0) | (restartTime & 0x0FFF))
        for (f, fwd) in families { out.put16(f.afi); out.put8(f.safi); out.put8(fwd ? 0x80 : 0) }
    }
    static func decode(_ r: inout ByteReader) -> GracefulRestartCapability? {
        guard let word = r.u16(), r.remaining % 4 == 0 else { return nil }
        var fams: [(AFISAFI, forwardingPreserved: Bool)] = []
        while let afi = r.u16(), let safi = r.u8(), let flags = r.u8() {
            fams.append((AFISAFI(afi: afi, safi: safi), flags & 0x80 != 0))
        }
        return GracefulRestartCapability(restarting: word & 0x8000 != 0, notification: word & 0x4000 != 0,
                                         restartTime: word & 0x0FFF, families: fams)
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.restarting == b.restarting && a.notification == b.notification && a.restartTime == b.restartTime
            && a.families.map(\.0) == b.families.map(\.0) && a.families.map(\.1) == b.families.map(\.1)
    }
    public func hash(into h: inout Hasher) { h.combine(restartTime); h.combine(families.map(\.0)) }
}

/// OPEN (RFC 4271 §4.2) with capabilities in optional parameter type 2.
public struct BGPOpen: Hashable, Sendable {
    public static let asTrans: UInt16 = 23456

    public var version: UInt8 = 4
    /// The 2-octet "My Autonomous System" field (AS_TRANS when the real AS does not fit).
    public var myAS16: UInt16
    public var holdTime: UInt16
    /// BGP Identifier in host order.
    public var routerID: UInt32
    public var capabilities: [BGPCapability]

    /// Builds an OPEN for `asn`; puts AS_TRANS in the 2-octet field when needed (RFC 6793).
    public init(asn: UInt32, holdTime: UInt16, routerID: UInt32, capabilities: [BGPCapability]) {
        self.myAS16 = asn <= 0xFFFF ? UInt16(asn) : BGPOpen.asTrans
        self.holdTime = holdTime; self.routerID = routerID
        var caps = capabilities
        if !caps.contains(where: { $0.code == 65 }) { caps.append(.fourOctetAS(asn)) }
        self.capabilities = caps
    }
    init(version: UInt8, myAS16: UInt16, holdTime: UInt16, routerID: UInt32, capabilities: [BGPCapability]) {
        self.version = version; self.myAS16 = myAS16; self.holdTime = holdTime
        self.routerID = routerID; self.capabilities = capabilities
    }

    /// The sender's real AS: the 4-octet capability when present, else the 2-octet field.
    public var asn: UInt32 {
        for c in capabilities { if case .fourOctetAS(let a) = c { return a } }
        return UInt32(myAS16)
    }
    public var supportsFourOctetAS: Bool { capabilities.contains { $0.code == 65 } }
    public var supportsRouteRefresh: Bool { capabilities.contains { $0 == .routeRefresh } }
    public var families: [AFISAFI] {
        capabilities.compactMap { if case .multiprotocol(let f) = $0 { return f } else { return nil } }
    }
    public var gracefulRestart: GracefulRestartCapability? {
        for c in capabilities { if case .gracefulRestart(let g) = c { return g } }
        return nil
    }

    func encodeBody(into out: inout [UInt8]) {
        out.put8(version); out.put16(myAS16); out.put16(holdTime); out.put32(routerID)
        // One optional parameter per capability keeps each under 255 bytes.
        var params = [UInt8]()
        var one = [UInt8]()
        for c in capabilities {
            one.removeAll(keepingCapacity: true); c.encode(into: &one)
            params.put8(2); params.put8(UInt8(truncatingIfNeeded: one.count)); params.append(contentsOf: one)
        }
        out.put8(UInt8(truncatingIfNeeded: params.count)); out.append(contentsOf: params)
    }

    /// Decodes and validates an OPEN body; throws the NOTIFICATION RFC 4271 §6.2 names.
    static func decodeBody(_ r: inout ByteReader) throws -> BGPOpen {
        guard let version = r.u8(), let as16 = r.u16(), let hold = r.u16(), let id = r.u32(),
              let optLen = r.u8(), var params = r.sub(Int(optLen)), r.isAtEnd
        else { throw BGPNotification.header(.badMessageLength) }
        guard version == 4 else { throw BGPNotification.open(.unsupportedVersion, data: [0, 4]) }
        guard hold == 0 || hold >= 3 else { throw BGPNotification.open(.unacceptableHoldTime) }
        guard id != 0 else { throw BGPNotification.open(.badBGPIdentifier) }
        var caps: [BGPCapability] = []
        while !params.isAtEnd {
            guard let type = params.u8(), let len = params.u8(), var p = params.sub(Int(len)) else {
                throw BGPNotification.open(.unsupportedOptionalParameter)
            }
            guard type == 2 else { throw BGPNotification.open(.unsupportedOptionalParameter) }
            while !p.isAtEnd {
                guard let code = p.u8(), let clen = p.u8(), let value = p.take(Int(clen)) else {
                    throw BGPNotification.open(.unsupportedOptionalParameter)
                }
                caps.append(try BGPCapability.decode(code: code, value: value))
            }
        }
        let open = BGPOpen(version: version, myAS16: as16, holdTime: hold, routerID: id, capabilities: caps)
        // RFC 6793 §4.2: a 4-octet AS that fits in 2 octets must match the 2-octet field.
        if open.supportsFourOctetAS, open.asn <= 0xFFFF, UInt32(as16) != open.asn {
            throw BGPNotification.open(.badPeerAS)
        }
        return open
    }
}
