import VXCore

/// Route target (RFC 4360 §4): an extended community kept as its 8 raw bytes.
public struct RouteTarget: Hashable, Comparable, Sendable, TextCodable {
    public var raw: UInt64
    public init(raw: UInt64) { self.raw = raw }
    /// One word, one-shot (see `MACAddress._rawHashValue`).
    public func _rawHashValue(seed: Int) -> Int { raw._rawHashValue(seed: seed) }

    /// Type 0x00/0x02: 2-octet AS : 4-octet number (FRR's auto RT, AS:VNI).
    public static func as2(_ asn: UInt16, _ n: UInt32) -> Self { .init(raw: 0x0002 << 48 | UInt64(asn) << 32 | UInt64(n)) }
    /// Type 0x01/0x02: IPv4 : 2-octet number.
    public static func ipv4(_ ip: UInt32, _ n: UInt16) -> Self { .init(raw: 0x0102 << 48 | UInt64(ip) << 16 | UInt64(n)) }
    /// Type 0x02/0x02: 4-octet AS : 2-octet number.
    public static func as4(_ asn: UInt32, _ n: UInt16) -> Self { .init(raw: 0x0202 << 48 | UInt64(asn) << 16 | UInt64(n)) }

    /// Whether the 8 bytes are a route target (subtype 0x02 of types 0x00, 0x01, 0x02).
    static func isRouteTarget(_ raw: UInt64) -> Bool {
        let type = UInt8(truncatingIfNeeded: raw >> 56), sub = UInt8(truncatingIfNeeded: raw >> 48)
        return sub == 0x02 && type <= 0x02
    }

    public var description: String { AdministratorText.format(type: UInt8(truncatingIfNeeded: raw >> 56), value: raw) }
    /// Parses "AS:N" (2-octet AS when it fits, with a 4-octet number), "A.B.C.D:N" or "AS4:N".
    public init?(_ text: String) {
        guard let (type, value) = AdministratorText.parse(text) else { return nil }
        self.init(raw: UInt64(type) << 56 | 0x02 << 48 | value)
    }
    public static func < (a: Self, b: Self) -> Bool { a.raw < b.raw }
}

/// The extended communities vxsw reads and writes; anything else is carried unchanged.
public enum ExtendedCommunity: Hashable, Sendable, CustomStringConvertible {
    case routeTarget(RouteTarget)
    /// RFC 9012 §4.1 Encapsulation (0x03/0x0c); tunnel type 8 is VXLAN.
    case encapsulation(tunnelType: UInt16)
    /// RFC 7432 §7.7 MAC Mobility (0x06/0x00).
    case macMobility(sticky: Bool, sequence: UInt32)
    /// EVPN Router's MAC (0x06/0x03), RFC 9135.
    case routerMAC(MACAddress)
    /// RFC 7432 §7.8 Default Gateway (0x03/0x0d).
    case defaultGateway
    case other(UInt64)

    public static let vxlanEncapsulation = ExtendedCommunity.encapsulation(tunnelType: 8)

    public init(raw: UInt64) {
        let ts = UInt16(truncatingIfNeeded: raw >> 48)
        switch ts {
        case _ where RouteTarget.isRouteTarget(raw): self = .routeTarget(RouteTarget(raw: raw))
        case 0x030C where (raw >> 16) & 0xFFFF_FFFF == 0: self = .encapsulation(tunnelType: UInt16(truncatingIfNeeded: raw))
        case 0x0600 where (raw >> 32) & 0xFE == 0:
            self = .macMobility(sticky: (raw >> 40) & 1 == 1, sequence: UInt32(truncatingIfNeeded: raw))
        case 0x0603: self = .routerMAC(MACAddress(raw: raw))
        case 0x030D where raw & 0xFFFF_FFFF_FFFF == 0: self = .defaultGateway
        default: self = .other(raw)
        }
    }

    public var raw: UInt64 {
        switch self {
        case .routeTarget(let rt): return rt.raw
        case .encapsulation(let t): return 0x030C << 48 | UInt64(t)
        case .macMobility(let sticky, let seq): return 0x0600 << 48 | (sticky ? 1 << 40 : 0) | UInt64(seq)
        case .routerMAC(let m): return 0x0603 << 48 | m.raw
        case .defaultGateway: return 0x030D << 48
        case .other(let r): return r
        }
    }

    /// FRR's notation in `show bgp l2vpn evpn`: "RT:65001:100 ET:8 MM:5, sticky MAC".
    public var description: String {
        switch self {
        case .routeTarget(let rt): return "RT:\(rt)"
        case .encapsulation(let t): return "ET:\(t)"
        case .macMobility(let sticky, let seq): return sticky ? "MM:\(seq), sticky MAC" : "MM:\(seq)"
        case .routerMAC(let m): return "Rmac:\(m)"
        case .defaultGateway: return "Default Gateway"
        case .other(let r): return "0x" + String(r, radix: 16)
        }
    }
}

extension Array where Element == ExtendedCommunity {
    public var routeTargets: [RouteTarget] {
        compactMap { if case .routeTarget(let rt) = $0 { return rt } else { return nil } }
    }
    /// MAC mobility sequence and sticky flag; (0, false) without the community.
    public var macMobility: (sequence: UInt32, sticky: Bool) {
        for c in self { if case .macMobility(let sticky, let seq) = c { return (seq, sticky) } }
        return (0, false)
    }
    public var tunnelTypes: [UInt16] {
        compactMap { if case .encapsulation(let t) = $0 { return t } else { return nil } }
    }
}
