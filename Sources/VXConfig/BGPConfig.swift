import VXCore

/// The `bgp:` section, for the EVPN speaker. Validated here; its meaning belongs to VXEVPN.
///
/// ```yaml
/// bgp:
///   asn: 65001                       # 1..4294967295
///   router-id: 198.18.0.1            # IPv4
///   peers:
///     - { address: 198.18.0.2, remote-as: 65002 }     # or "internal" / "external"
///     - { address: "fd00:18::2", remote-as: internal, port: 1179 }
///   vnis:                            # optional per-VNI overrides of the automatic RD/RT (ASN:VNI)
///     - vni: 1000
///       rd: 198.18.0.1:1000
///       route-targets: { import: ["65001:1000"], export: ["65001:1000"] }
///   dup-addr-detection: { max-moves: 5, time: 180, freeze: false }   # FRR's defaults; or false (off)
/// ```
public struct BGPConfig: Equatable, Sendable {
    public var asn: UInt32
    public var routerID: IPAddress
    public var peers: [Peer]
    public var vnis: [VNIOverride]
    public var dupAddrDetection: DupAddrDetection

    public init(asn: UInt32, routerID: IPAddress, peers: [Peer] = [], vnis: [VNIOverride] = [],
                dupAddrDetection: DupAddrDetection = .init()) {
        self.asn = asn
        self.routerID = routerID
        self.peers = peers
        self.vnis = vnis
        self.dupAddrDetection = dupAddrDetection
    }

    /// FRR's `dup-addr-detection [max-moves 2..1000] [time 2..1800] [freeze permanent|30..3600]`:
    /// a MAC that moves `max-moves` times within `time` seconds between this switch and remote
    /// VTEPs is a duplicate (logged, `isDuplicate` in `show evpn mac`); with `freeze` it is then
    /// neither advertised nor installed until `vxsw clear evpn dup-addr` (or the freeze time).
    public struct DupAddrDetection: Equatable, Sendable {
        public var enabled: Bool
        public var maxMoves: Int
        public var time: Int
        public var freeze: Freeze

        public enum Freeze: Equatable, Sendable {
            case off
            case permanent
            case seconds(Int)
        }

        public init(enabled: Bool = true, maxMoves: Int = 5, time: Int = 180, freeze: Freeze = .off) {
            self.enabled = enabled
            self.maxMoves = maxMoves
            self.time = time
            self.freeze = freeze
        }
    }

    public struct Peer: Equatable, Sendable {
        public var address: IPAddress
        public var remoteAS: RemoteAS
        public var port: UInt16

        public init(address: IPAddress, remoteAS: RemoteAS, port: UInt16 = 179) {
            self.address = address
            self.remoteAS = remoteAS
            self.port = port
        }
    }

    public enum RemoteAS: Equatable, Sendable, CustomStringConvertible {
        case asn(UInt32)
        /// iBGP: the peer's AS is ours.
        case `internal`
        /// eBGP with whatever AS (other than ours) the peer announces.
        case external

        public var description: String {
            switch self {
            case .asn(let n): return String(n)
            case .internal: return "internal"
            case .external: return "external"
            }
        }
    }

    /// Route distinguisher and route targets for one VNI, in FRR's text form
    /// (`ASN:NN` or `IPv4:NN`); what is absent stays automatic.
    public struct VNIOverride: Equatable, Sendable {
        public var vni: VNI
        public var rd: String?
        public var importTargets: [String]?
        public var exportTargets: [String]?

        public init(vni: VNI, rd: String? = nil, importTargets: [String]? = nil, exportTargets: [String]? = nil) {
            self.vni = vni
            self.rd = rd
            self.importTargets = importTargets
            self.exportTargets = exportTargets
        }
    }

    /// Checks an RD or RT in `ADMIN:NN` form (RFC 4364 types 0, 1, 2): a 2-byte ASN with a 4-byte
    /// number, or a 4-byte ASN / IPv4 address with a 2-byte number. Returns the problem, or nil.
    /// Route targets may use `*` as the administrator to import from any AS.
    static func problem(withDistinguisher text: String, wildcard: Bool) -> String? {
        guard let colon = text.lastIndex(of: ":") else { return "'\(text)' is not in ASN:NN or IP:NN form" }
        let admin = text[..<colon], assigned = text[text.index(after: colon)...]
        guard let number = UInt64(assigned) else { return "'\(text)' has no number after ':'" }
        if wildcard && admin == "*" { return number <= UInt32.max ? nil : "'\(text)': \(number) is too large" }
        let limit: UInt64
        if IPAddress(String(admin))?.isIPv4 == true, admin.contains(".") {
            limit = UInt64(UInt16.max)
        } else if let asn = UInt64(admin), asn <= UInt32.max, asn > 0 {
            limit = asn <= UInt16.max ? UInt64(UInt32.max) : UInt64(UInt16.max)
        } else {
            return "'\(text)' is not in ASN:NN or IP:NN form"
        }
        return number <= limit ? nil : "'\(text)': \(number) is too large (most \(limit) with this administrator)"
    }
}
