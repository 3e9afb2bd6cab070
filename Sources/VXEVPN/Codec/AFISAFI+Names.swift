/// Names of address families in the three spellings vxsw prints: plain ("l2vpn evpn", logs and
/// Prometheus labels), FRR's text ("L2VPN EVPN") and FRR's JSON keys ("l2VpnEvpn").
extension AFISAFI {
    /// (plain, FRR text, FRR JSON key part) per AFI and per SAFI.
    private static let afis: [UInt16: (String, String, String)] = [
        1: ("ipv4", "IPv4", "ipv4"), 2: ("ipv6", "IPv6", "ipv6"), 25: ("l2vpn", "L2VPN", "l2Vpn"),
    ]
    private static let safis: [UInt8: (String, String, String)] = [
        1: ("unicast", "Unicast", "Unicast"), 2: ("multicast", "Multicast", "Multicast"),
        4: ("labeled_unicast", "labeled-unicast", "LabeledUnicast"), 70: ("evpn", "EVPN", "Evpn"),
        128: ("vpn", "VPN", "Vpn"), 133: ("flowspec", "Flowspec", "Flowspec"),
    ]

    /// "l2vpn" (Prometheus label `afi`).
    public var afiName: String { Self.afis[afi]?.0 ?? "afi\(afi)" }
    /// "evpn" (Prometheus label `safi`).
    public var safiName: String { Self.safis[safi]?.0 ?? "safi\(safi)" }
    /// "L2VPN EVPN", as FRR's `show bgp neighbors` writes a family.
    public var frrName: String { (Self.afis[afi]?.1 ?? "AFI \(afi)") + " " + (Self.safis[safi]?.1 ?? "SAFI \(safi)") }
    /// "l2VpnEvpn", FRR's JSON key for a family.
    public var frrKey: String { (Self.afis[afi]?.2 ?? "afi\(afi)") + (Self.safis[safi]?.2 ?? "Safi\(safi)") }

    /// The family of one of FRR's JSON keys, among those named here.
    public init?(frrKey: String) {
        for (afi, a) in Self.afis { for (safi, b) in Self.safis where a.2 + b.2 == frrKey { self.init(afi: afi, safi: safi); return } }
        return nil
    }
}
