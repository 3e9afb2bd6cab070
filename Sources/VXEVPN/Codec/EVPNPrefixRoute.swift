import VXCore

/// Type 5, IP Prefix (RFC 9136 §3.1): a tenant prefix reachable through the advertiser's
/// router MAC and L3 VNI. vxsw speaks the interface-less model (§4.4.1): ESI and gateway IP
/// zero, the L3 VNI in the label (RFC 8365), the Router's MAC extended community beside it.
public struct EVPNPrefixRoute: Hashable, Sendable {
    public var rd: RouteDistinguisher
    public var esi: ESI
    public var ethernetTag: UInt32
    public var prefix: IPPrefix
    /// The gateway IP of the overlay-index models; nil when zero (interface-less).
    public var gateway: IPAddress?
    public var label: UInt32

    public init(rd: RouteDistinguisher, esi: ESI = .zero, ethernetTag: UInt32 = 0, prefix: IPPrefix,
                gateway: IPAddress? = nil, label: UInt32) {
        self.rd = rd; self.esi = esi; self.ethernetTag = ethernetTag; self.prefix = prefix
        self.gateway = gateway; self.label = label & 0xFF_FFFF
    }
    /// The L3 VNI in the label (RFC 8365 §5.1.3).
    public var vni: VNI { VNI(unchecked: label) }
    /// Interface-less (RFC 9136 §4.4.1): the only model vxsw installs.
    public var isInterfaceless: Bool { esi.isZero && gateway == nil }

    /// NLRI length: 34 bytes for IPv4, 58 for IPv6 (§3.1).
    static func length(ipv4: Bool) -> Int { ipv4 ? 34 : 58 }

    func encodeBody(into out: inout [UInt8]) {
        out.put64(rd.raw); out.put16(esi.high); out.put64(esi.low); out.put32(ethernetTag)
        out.put8(prefix.length); out.putIP(prefix.address)
        let zero = prefix.isIPv4 ? IPAddress(v4: 0) : IPAddress(hi: 0, lo: 0)
        out.putIP(gateway ?? zero)
        out.put24(label)
    }

    /// The body of a type-5 NLRI. Its length says the family; a length of another size, a
    /// prefix length too long for the family, or a missing label is malformed.
    static func decode(_ b: inout ByteReader, length: Int) throws -> EVPNPrefixRoute {
        guard length == Self.length(ipv4: true) || length == Self.length(ipv4: false) else { throw EVPNRoute.DecodeError.malformed }
        let bytes = length == Self.length(ipv4: true) ? 4 : 16
        guard let rd = b.u64(), let esiHi = b.u16(), let esiLo = b.u64(), let tag = b.u32(), let prefixLength = b.u8(),
              let address = b.ip(length: bytes), let gw = b.ip(length: bytes), let label = b.u24(), b.isAtEnd,
              let prefix = IPPrefix(address, length: Int(prefixLength))
        else { throw EVPNRoute.DecodeError.malformed }
        return EVPNPrefixRoute(rd: RouteDistinguisher(raw: rd), esi: ESI(high: esiHi, low: esiLo), ethernetTag: tag,
                               prefix: prefix, gateway: isZero(gw) ? nil : gw, label: label)
    }

    private static func isZero(_ ip: IPAddress) -> Bool { ip.isIPv4 ? ip.v4 == 0 : ip.hi == 0 && ip.lo == 0 }
}
