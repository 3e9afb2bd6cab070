import VXCore

/// An IPv4 prefix in the classic UPDATE fields (vxsw does not route IPv4 unicast; kept for completeness).
public struct IPv4Prefix: Hashable, Sendable {
    public var address: UInt32
    public var length: UInt8
}

/// UPDATE (RFC 4271 §4.3) with RFC 7606 results of decoding.
public struct BGPUpdate: Hashable, Sendable {
    public var withdrawnRoutes: [IPv4Prefix] = []
    public var attributes = PathAttributes()
    public var nlri: [IPv4Prefix] = []
    /// Problems found while decoding; empty for a clean UPDATE.
    public var problems: [AttributeProblem] = []

    public init(withdrawnRoutes: [IPv4Prefix] = [], attributes: PathAttributes = PathAttributes(), nlri: [IPv4Prefix] = []) {
        self.withdrawnRoutes = withdrawnRoutes; self.attributes = attributes; self.nlri = nlri
    }

    /// RFC 7606 §2: the routes this UPDATE carries are to be handled as withdrawn.
    public var treatAsWithdraw: Bool { problems.contains { $0.action == .treatAsWithdraw } }

    /// EVPN routes announced (empty when treat-as-withdraw applies).
    public var evpnAnnounced: [EVPNRoute] {
        guard !treatAsWithdraw, let m = attributes.mpReach, m.family == .l2vpnEVPN else { return [] }
        return m.routes
    }
    /// EVPN routes withdrawn, including those of MP_REACH under treat-as-withdraw.
    public var evpnWithdrawn: [EVPNRoute] {
        var out: [EVPNRoute] = []
        if let u = attributes.mpUnreach, u.family == .l2vpnEVPN { out += u.routes }
        if treatAsWithdraw, let m = attributes.mpReach, m.family == .l2vpnEVPN { out += m.routes }
        return out
    }
    /// End-of-RIB (RFC 4724 §2): IPv4 unicast is an empty UPDATE; others an empty MP_UNREACH alone.
    public var endOfRIB: AFISAFI? {
        guard withdrawnRoutes.isEmpty, nlri.isEmpty, attributes.mpReach == nil else { return nil }
        if let u = attributes.mpUnreach {
            let onlyUnreach = attributes.origin == nil && attributes.asPath == nil && attributes.extendedCommunities.isEmpty
            return u.routes.isEmpty && u.otherNLRI.isEmpty && onlyUnreach ? u.family : nil
        }
        return attributes == PathAttributes() ? .ipv4Unicast : nil
    }
    public static func endOfRIB(_ family: AFISAFI) -> BGPUpdate {
        var u = BGPUpdate()
        if family != .ipv4Unicast { u.attributes.mpUnreach = MPUnreachNLRI(family: family, routes: []) }
        return u
    }

    func encodeBody(into out: inout [UInt8], fourOctetAS: Bool) {
        let wAt = out.reserve16()
        for p in withdrawnRoutes { encodePrefix(p, into: &out) }
        out.patch16(at: wAt, UInt16(truncatingIfNeeded: out.count - wAt - 2))
        let aAt = out.reserve16()
        attributes.encode(into: &out, fourOctetAS: fourOctetAS)
        out.patch16(at: aAt, UInt16(truncatingIfNeeded: out.count - aAt - 2))
        for p in nlri { encodePrefix(p, into: &out) }
    }

    private func encodePrefix(_ p: IPv4Prefix, into out: inout [UInt8]) {
        out.put8(p.length)
        let n = (Int(p.length) + 7) / 8
        for i in 0..<n { out.put8(UInt8(truncatingIfNeeded: p.address >> UInt32(24 - 8 * i))) }
    }

    /// Decodes an UPDATE body; throws the NOTIFICATION when RFC 7606 keeps session reset.
    static func decodeBody(_ r: inout ByteReader, context: BGPDecodeContext) throws -> BGPUpdate {
        // §5.1 / RFC 4271 §6.3: the two length fields must fit the message.
        guard let wLen = r.u16(), var w = r.sub(Int(wLen)), let aLen = r.u16(), var attrs = r.sub(Int(aLen)) else {
            throw BGPNotification.update(.malformedAttributeList)
        }
        var u = BGPUpdate()
        guard let withdrawn = decodePrefixes(&w), let nlri = decodePrefixes(&r) else {
            throw BGPNotification.update(.invalidNetworkField)
        }
        u.withdrawnRoutes = withdrawn; u.nlri = nlri
        (u.attributes, u.problems) = try PathAttributes.decode(&attrs, context: context)
        // RFC 7606 §5.2: with no reachable NLRI (no NLRI field, no MP_REACH_NLRI) there is nothing
        // to treat as withdrawn, so an attribute error other than attribute-discard resets the session.
        if u.nlri.isEmpty && u.attributes.mpReach == nil,
           let problem = u.problems.first(where: { $0.action == .treatAsWithdraw }) {
            throw BGPNotification.update(Self.subcode(forAttribute: problem.type))
        }

        // §3(d): mandatory attributes missing from an UPDATE that announces routes.
        let announces = !u.nlri.isEmpty || !(u.attributes.mpReach?.routes.isEmpty ?? true)
        if announces {
            let seen = Set(u.problems.map(\.type))
            func missing(_ t: UInt8, _ present: Bool, _ name: String) {
                if !present && !seen.contains(t) {
                    u.problems.append(AttributeProblem(type: t, action: .treatAsWithdraw, reason: "missing \(name)"))
                }
            }
            missing(1, u.attributes.origin != nil, "ORIGIN")
            missing(2, u.attributes.asPath != nil, "AS_PATH")
            if !u.nlri.isEmpty { missing(3, u.attributes.nextHop != nil, "NEXT_HOP") }
            if context.internalPeer { missing(5, u.attributes.localPref != nil, "LOCAL_PREF") }
        }
        return u
    }

    /// The UPDATE error subcode a malformed attribute of `type` is reported with (RFC 4271 §6.3).
    static func subcode(forAttribute type: UInt8) -> BGPNotification.UpdateSubcode {
        switch type {
        case 1: return .invalidOriginAttribute
        case 2: return .malformedASPath
        case 3: return .invalidNextHop
        case 5: return .malformedAttributeList
        default: return .optionalAttributeError
        }
    }

    private static func decodePrefixes(_ r: inout ByteReader) -> [IPv4Prefix]? {
        var out: [IPv4Prefix] = []
        while !r.isAtEnd {
            guard let len = r.u8(), len <= 32, let bytes = r.take((Int(len) + 7) / 8) else { return nil }
            var a: UInt32 = 0
            for (i, b) in bytes.enumerated() { a |= UInt32(b) << UInt32(24 - 8 * i) }
            out.append(IPv4Prefix(address: a, length: len))
        }
        return out
    }
}
