/// One BGP message (RFC 4271 §4) and its framing.
public enum BGPMessage: Hashable, Sendable {
    case open(BGPOpen)
    case update(BGPUpdate)
    case notification(BGPNotification)
    case keepalive
    case routeRefresh(family: AFISAFI, subtype: UInt8)

    public static let headerLength = 19
    public static let maxLength = 4096

    public var typeCode: UInt8 {
        switch self {
        case .open: return 1; case .update: return 2; case .notification: return 3
        case .keepalive: return 4; case .routeRefresh: return 5
        }
    }

    /// The whole message, marker included.
    public func encode(fourOctetAS: Bool = true) -> [UInt8] {
        var out = [UInt8](repeating: 0xFF, count: 16)
        let lenAt = out.reserve16()
        out.put8(typeCode)
        switch self {
        case .open(let o): o.encodeBody(into: &out)
        case .update(let u): u.encodeBody(into: &out, fourOctetAS: fourOctetAS)
        case .notification(let n): n.encodeBody(into: &out)
        case .keepalive: break
        case .routeRefresh(let f, let sub): out.put16(f.afi); out.put8(sub); out.put8(f.safi)
        }
        out.patch16(at: lenAt, UInt16(truncatingIfNeeded: out.count))
        return out
    }

    /// Checks a header (RFC 4271 §6.1) and returns the message length, or nil when fewer than
    /// 19 bytes are there. Throws the Message Header Error to send.
    public static func frameLength(_ bytes: [UInt8]) throws -> Int? {
        guard bytes.count >= headerLength else { return nil }
        for i in 0..<16 where bytes[i] != 0xFF { throw BGPNotification.header(.connectionNotSynchronized) }
        let len = Int(bytes[16]) << 8 | Int(bytes[17])
        let type = bytes[18]
        let minimum: [UInt8: Int] = [1: 29, 2: 23, 3: 21, 4: 19, 5: 23]
        guard let min = minimum[type] else { throw BGPNotification.header(.badMessageType, data: [type]) }
        guard len >= min, len <= maxLength, type != 4 || len == 19, type != 5 || len == 23 else {
            throw BGPNotification.header(.badMessageLength, data: [bytes[16], bytes[17]])
        }
        return len
    }

    /// Decodes one whole message (exactly `frameLength` bytes). Never traps; throws the
    /// NOTIFICATION to send when the session must be reset.
    public static func decode(_ bytes: [UInt8], context: BGPDecodeContext = BGPDecodeContext()) throws -> BGPMessage {
        guard let len = try frameLength(bytes), len == bytes.count else {
            throw BGPNotification.header(.badMessageLength, data: Array(bytes.dropFirst(16).prefix(2)))
        }
        var r = ByteReader(bytes, from: headerLength, to: len)
        switch bytes[18] {
        case 1: return .open(try BGPOpen.decodeBody(&r))
        case 2: return .update(try BGPUpdate.decodeBody(&r, context: context))
        case 3:
            guard let n = BGPNotification.decodeBody(&r) else { throw BGPNotification.header(.badMessageLength) }
            return .notification(n)
        case 4: return .keepalive
        default:
            guard let afi = r.u16(), let sub = r.u8(), let safi = r.u8() else { throw BGPNotification.header(.badMessageLength) }
            return .routeRefresh(family: AFISAFI(afi: afi, safi: safi), subtype: sub)
        }
    }
}
