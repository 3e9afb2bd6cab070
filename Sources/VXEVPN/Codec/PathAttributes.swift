import VXCore

/// AS_PATH segment (RFC 4271 §4.3, 4-octet ASNs per RFC 6793).
public struct ASPathSegment: Hashable, Sendable {
    public enum Kind: UInt8, Sendable { case set = 1, sequence = 2, confedSequence = 3, confedSet = 4 }
    public var kind: Kind
    public var asns: [UInt32]
    public init(_ kind: Kind, _ asns: [UInt32]) { self.kind = kind; self.asns = asns }
}

public enum Origin: UInt8, Sendable, Codable { case igp = 0, egp = 1, incomplete = 2 }

/// An attribute vxsw does not interpret, carried on (optional transitive) with its flags.
public struct RawAttribute: Hashable, Sendable {
    public var flags: UInt8
    public var type: UInt8
    public var value: [UInt8]
}

/// What RFC 7606 asks for one malformed attribute.
public enum AttributeErrorAction: Hashable, Sendable {
    /// §2: the UPDATE's routes are withdrawn.
    case treatAsWithdraw
    /// §2: the attribute is dropped, the UPDATE is otherwise used.
    case attributeDiscard
}

public struct AttributeProblem: Hashable, Sendable, CustomStringConvertible {
    public var type: UInt8
    public var action: AttributeErrorAction
    public var reason: String
    public var description: String { "attr \(type): \(reason) -> \(action)" }
}

/// Decoding context negotiated for the session.
public struct BGPDecodeContext: Sendable {
    /// Both sides sent the 4-octet AS capability: AS_PATH carries 4-octet ASNs.
    public var fourOctetAS: Bool
    /// iBGP session: LOCAL_PREF is mandatory, ORIGINATOR_ID/CLUSTER_LIST are meaningful.
    public var internalPeer: Bool
    public init(fourOctetAS: Bool = true, internalPeer: Bool = false) {
        self.fourOctetAS = fourOctetAS; self.internalPeer = internalPeer
    }
}

/// The path attributes of an UPDATE (RFC 4271 §5 and the EVPN-related extensions).
public struct PathAttributes: Hashable, Sendable {
    public var origin: Origin?
    public var asPath: [ASPathSegment]?
    public var nextHop: IPAddress?
    public var med: UInt32?
    public var localPref: UInt32?
    public var atomicAggregate = false
    public var aggregator: [UInt8]?
    public var communities: [UInt32] = []
    public var originatorID: UInt32?
    public var clusterList: [UInt32] = []
    public var extendedCommunities: [ExtendedCommunity] = []
    public var pmsiTunnel: PMSITunnel?
    public var mpReach: MPReachNLRI?
    public var mpUnreach: MPUnreachNLRI?
    public var unknown: [RawAttribute] = []

    public init() {}

    enum TypeCode: UInt8 {
        case origin = 1, asPath = 2, nextHop = 3, med = 4, localPref = 5, atomicAggregate = 6, aggregator = 7
        case communities = 8, originatorID = 9, clusterList = 10, mpReach = 14, mpUnreach = 15
        case extendedCommunities = 16, as4Path = 17, as4Aggregator = 18, pmsiTunnel = 22

        /// Expected Optional and Transitive bits (RFC 7606 §3(c) checks them).
        var flags: UInt8 {
            switch self {
            case .origin, .asPath, .nextHop, .localPref, .atomicAggregate: return 0x40
            case .med, .originatorID, .clusterList, .mpReach, .mpUnreach: return 0x80
            case .aggregator, .communities, .extendedCommunities, .as4Path, .as4Aggregator, .pmsiTunnel: return 0xC0
            }
        }
    }

    /// The first AS of the path (the neighbour's AS on eBGP).
    public var firstAS: UInt32? { asPath?.first(where: { $0.kind == .sequence })?.asns.first }
    public var asPathLength: Int {
        (asPath ?? []).reduce(0) { n, s in
            switch s.kind { case .sequence: return n + s.asns.count; case .set: return n + 1; default: return n }
        }
    }
    public var asPathString: String {
        (asPath ?? []).map { s -> String in
            let list = s.asns.map(String.init).joined(separator: " ")
            switch s.kind {
            case .sequence: return list
            case .set: return "{\(list)}"
            case .confedSequence: return "(\(list))"
            case .confedSet: return "[\(list)]"
            }
        }.joined(separator: " ")
    }

    // MARK: encode

    func encode(into out: inout [UInt8], fourOctetAS: Bool = true) {
        func attr(_ t: TypeCode, forceExtended: Bool = false, _ body: (inout [UInt8]) -> Void) {
            var v = [UInt8](); body(&v)
            let ext = forceExtended || v.count > 255
            out.put8(t.flags | (ext ? 0x10 : 0)); out.put8(t.rawValue)
            if ext { out.put16(UInt16(truncatingIfNeeded: v.count)) } else { out.put8(UInt8(v.count)) }
            out.append(contentsOf: v)
        }
        // MP attributes first (RFC 7606 §5.1) so a receiver can always find the NLRI.
        if let m = mpReach { attr(.mpReach, forceExtended: true) { m.encodeValue(into: &$0) } }
        if let m = mpUnreach { attr(.mpUnreach, forceExtended: true) { m.encodeValue(into: &$0) } }
        if let o = origin { attr(.origin) { $0.put8(o.rawValue) } }
        if let p = asPath {
            attr(.asPath) { v in
                for s in p {
                    // Segments hold at most 255 ASNs; split longer ones.
                    var i = 0
                    repeat {
                        let chunk = s.asns[i..<min(s.asns.count, i + 255)]
                        v.put8(s.kind.rawValue); v.put8(UInt8(chunk.count))
                        for a in chunk { if fourOctetAS { v.put32(a) } else { v.put16(a <= 0xFFFF ? UInt16(a) : BGPOpen.asTrans) } }
                        i += 255
                    } while i < s.asns.count
                }
            }
        }
        if let nh = nextHop, nh.isIPv4 { attr(.nextHop) { $0.put32(nh.v4) } }
        if let m = med { attr(.med) { $0.put32(m) } }
        if let l = localPref { attr(.localPref) { $0.put32(l) } }
        if atomicAggregate { attr(.atomicAggregate) { _ in } }
        if let a = aggregator { attr(.aggregator) { $0.append(contentsOf: a) } }
        if !communities.isEmpty { attr(.communities) { v in communities.forEach { v.put32($0) } } }
        if let o = originatorID { attr(.originatorID) { $0.put32(o) } }
        if !clusterList.isEmpty { attr(.clusterList) { v in clusterList.forEach { v.put32($0) } } }
        if !extendedCommunities.isEmpty { attr(.extendedCommunities) { v in extendedCommunities.forEach { v.put64($0.raw) } } }
        if let p = pmsiTunnel { attr(.pmsiTunnel) { p.encode(into: &$0) } }
        for u in unknown {
            // Passed-on optional transitive attributes get the Partial bit (RFC 4271 §5).
            let ext = u.value.count > 255
            out.put8((u.flags & 0xC0) | 0x20 | (ext ? 0x10 : 0)); out.put8(u.type)
            if ext { out.put16(UInt16(truncatingIfNeeded: u.value.count)) } else { out.put8(UInt8(u.value.count)) }
            out.append(contentsOf: u.value)
        }
    }

    // MARK: decode (RFC 7606)

    /// Decodes the path attribute field. Throws the NOTIFICATION where RFC 7606 keeps
    /// "session reset"; reports every other problem with its action.
    static func decode(_ r: inout ByteReader, context: BGPDecodeContext) throws -> (PathAttributes, [AttributeProblem]) {
        var a = PathAttributes()
        var problems: [AttributeProblem] = []
        var seen = Set<UInt8>()
        func problem(_ t: UInt8, _ action: AttributeErrorAction, _ why: String) {
            problems.append(AttributeProblem(type: t, action: action, reason: why))
        }

        while !r.isAtEnd {
            let start = r.pos
            guard let flags = r.u8(), let type = r.u8(),
                  let len = (flags & 0x10 != 0) ? r.u16().map(Int.init) : r.u8().map(Int.init),
                  var v = r.sub(len)
            else {
                // §4: an attribute running past the attribute field. The NLRI can still be
                // found when the MP attributes came first (or the UPDATE has none).
                if seen.contains(TypeCode.mpReach.rawValue) || seen.contains(TypeCode.mpUnreach.rawValue) {
                    problem(0, .treatAsWithdraw, "attribute overruns the path attribute field")
                    return (a, problems)
                }
                throw BGPNotification.update(.malformedAttributeList)
            }
            let raw = Array(r.bytes[start..<r.pos])
            if seen.contains(type) {
                // §3(g): repeated MP attributes reset the session; others: keep the first.
                if type == 14 || type == 15 { throw BGPNotification.update(.malformedAttributeList) }
                problem(type, .attributeDiscard, "repeated attribute")
                continue
            }
            seen.insert(type)

            guard let code = TypeCode(rawValue: type) else {
                if flags & 0x80 == 0 {
                    throw BGPNotification.update(.unrecognizedWellKnownAttribute, data: raw)
                }
                if flags & 0x40 != 0 { a.unknown.append(RawAttribute(flags: flags, type: type, value: v.take(len) ?? [])) }
                continue
            }
            // Optional and Transitive as the attribute's type says; a well-known attribute (Optional
            // 0) must have Partial 0 too (RFC 4271 §4.3): otherwise an attribute flags error,
            // handled as that attribute's malformation is (RFC 7606 §3(c)).
            let flagsOK = flags & 0xC0 == code.flags && (code.flags & 0x80 != 0 || flags & 0x20 == 0)
            switch code {
            case .origin:
                guard flagsOK, len == 1, let o = v.u8().flatMap(Origin.init(rawValue:)) else {
                    problem(type, .treatAsWithdraw, "bad ORIGIN"); continue
                }
                a.origin = o
            case .asPath:
                guard flagsOK, let p = decodeASPath(&v, asSize: context.fourOctetAS ? 4 : 2) else {
                    problem(type, .treatAsWithdraw, "malformed AS_PATH"); continue
                }
                if !context.internalPeer && p.contains(where: { $0.kind == .confedSequence || $0.kind == .confedSet }) {
                    problem(type, .treatAsWithdraw, "confederation segment from external peer"); continue
                }
                a.asPath = p
            case .nextHop:
                guard flagsOK, len == 4, let ip = v.u32() else { problem(type, .treatAsWithdraw, "bad NEXT_HOP"); continue }
                a.nextHop = IPAddress(v4: ip)
            case .med:
                guard flagsOK, len == 4, let m = v.u32() else { problem(type, .treatAsWithdraw, "bad MULTI_EXIT_DISC"); continue }
                a.med = m
            case .localPref:
                // §7.5: from an external peer it is disregarded whatever its form.
                guard context.internalPeer else { problem(type, .attributeDiscard, "LOCAL_PREF from external peer"); continue }
                guard flagsOK, len == 4, let l = v.u32() else { problem(type, .treatAsWithdraw, "bad LOCAL_PREF"); continue }
                a.localPref = l
            case .atomicAggregate:
                guard flagsOK, len == 0 else { problem(type, .attributeDiscard, "bad ATOMIC_AGGREGATE"); continue }
                a.atomicAggregate = true
            case .aggregator:
                guard flagsOK, len == (context.fourOctetAS ? 8 : 6) else { problem(type, .attributeDiscard, "bad AGGREGATOR"); continue }
                a.aggregator = v.take(len)
            case .communities:
                guard flagsOK, len > 0, len % 4 == 0 else { problem(type, .treatAsWithdraw, "bad COMMUNITIES"); continue }
                while let c = v.u32() { a.communities.append(c) }
            case .originatorID:
                guard context.internalPeer else { problem(type, .attributeDiscard, "ORIGINATOR_ID from external peer"); continue }
                guard flagsOK, len == 4, let o = v.u32() else { problem(type, .treatAsWithdraw, "bad ORIGINATOR_ID"); continue }
                a.originatorID = o
            case .clusterList:
                guard context.internalPeer else { problem(type, .attributeDiscard, "CLUSTER_LIST from external peer"); continue }
                guard flagsOK, len > 0, len % 4 == 0 else { problem(type, .treatAsWithdraw, "bad CLUSTER_LIST"); continue }
                while let c = v.u32() { a.clusterList.append(c) }
            case .mpReach:
                // RFC 7606 §7.11: a next hop whose length does not fit the AFI/SAFI leaves the NLRI
                // unlocatable, and RFC 4760 §7 asks the same for wrong flags on MP_REACH/MP_UNREACH:
                // session reset (with one AFI/SAFI, the same as disabling it), never treat-as-withdraw.
                guard flagsOK else { throw BGPNotification.update(.attributeFlagsError, data: raw) }
                do {
                    let (m, badNextHop) = try MPReachNLRI.decode(&v)
                    if badNextHop { throw MPReachNLRI.Problem.malformed }
                    a.mpReach = m
                } catch { throw BGPNotification.update(.optionalAttributeError, data: raw) }
            case .mpUnreach:
                guard flagsOK else { throw BGPNotification.update(.attributeFlagsError, data: raw) }
                do { a.mpUnreach = try MPUnreachNLRI.decode(&v) } catch {
                    throw BGPNotification.update(.optionalAttributeError, data: raw)
                }
            case .extendedCommunities:
                guard flagsOK, len > 0, len % 8 == 0 else { problem(type, .treatAsWithdraw, "bad EXTENDED_COMMUNITIES"); continue }
                while let c = v.u64() { a.extendedCommunities.append(ExtendedCommunity(raw: c)) }
            case .as4Path, .as4Aggregator:
                // RFC 6793 §6 / RFC 7606 §7.7: malformed AS4 attributes are discarded. With a
                // 4-octet session they must not appear at all; old-style peers are not merged.
                var check = v
                if !flagsOK || (code == .as4Path && decodeASPath(&check, asSize: 4) == nil) || (code == .as4Aggregator && len != 8) {
                    problem(type, .attributeDiscard, "malformed AS4 attribute")
                } else if !context.fourOctetAS {
                    a.unknown.append(RawAttribute(flags: flags, type: type, value: v.take(len) ?? []))
                }
            case .pmsiTunnel:
                guard flagsOK, let p = PMSITunnel.decode(&v) else {
                    problem(type, .treatAsWithdraw, "malformed PMSI_TUNNEL"); continue
                }
                a.pmsiTunnel = p
            }
        }
        return (a, problems)
    }

    static func decodeASPath(_ v: inout ByteReader, asSize: Int) -> [ASPathSegment]? {
        var segs: [ASPathSegment] = []
        while !v.isAtEnd {
            guard let t = v.u8(), let kind = ASPathSegment.Kind(rawValue: t), let n = v.u8(), n > 0 else { return nil }
            var asns: [UInt32] = []
            for _ in 0..<n {
                guard let a = asSize == 4 ? v.u32() : v.u16().map(UInt32.init) else { return nil }
                asns.append(a)
            }
            segs.append(ASPathSegment(kind, asns))
        }
        return segs
    }
}
