import VXCore

/// The speaker's configuration; part of the daemon's config file (Codable).
public struct EVPNConfig: Codable, Sendable {
    public var asn: UInt32
    /// BGP identifier, also the administrator of auto RDs (router-id:n, like FRR).
    public var routerID: IPAddress
    /// Local VTEP address: next hop of our routes and PMSI tunnel endpoint.
    public var vtep: IPAddress
    /// Where to accept passive sessions; nil: no listener (active peers only).
    public var listenAddress: IPAddress?
    public var listenPort: Int = 179
    public var holdTime: UInt16 = 90
    /// Seconds between connection attempts for an active peer.
    public var connectRetrySeconds: Double = 5
    public var peers: [PeerConfig] = []
    /// Per-VNI overrides of the auto RD/RT; VNIs without an entry use auto values.
    public var vnis: [VNIConfig] = []
    public var gracefulRestart = GracefulRestartConfig()
    public var duplicateAddressDetection = DuplicateAddressDetectionConfig()
    /// FRR's `autort rfc8365-compatible`: auto RTs carry the RFC 8365 type bits.
    public var autoRTRFC8365 = false
    /// Tenant VRFs (symmetric IRB, RFC 9135): MAC/IP routes of their L2 VNIs carry the L3 VNI
    /// and router MAC; received ones become host routes in the VRF.
    public var vrfs: [VRFConfig] = []
    /// The most MACs the data plane holds (the switch's `fdb.max-entries`): the RIB sizes its
    /// per-MAC tables and each peer's route table for that many up front (at most 1M), so a
    /// full table arriving at session start never rehashes them as they grow (~10% of a 100k
    /// feed here). Pages are touched only as routes fill them. nil: they grow as routes come.
    public var tableCapacity: Int?

    public init(asn: UInt32, routerID: IPAddress, vtep: IPAddress, listenAddress: IPAddress? = nil, peers: [PeerConfig] = []) {
        self.asn = asn; self.routerID = routerID; self.vtep = vtep; self.listenAddress = listenAddress; self.peers = peers
    }
}

public struct PeerConfig: Codable, Sendable, Hashable {
    public var address: IPAddress
    public var port: Int = 179
    public var remoteAS: UInt32
    /// Only wait for the peer to connect (RFC 4271 PassiveTcpEstablishment).
    public var passive = false
    /// Source address for outgoing connections.
    public var localAddress: IPAddress?
    public var holdTime: UInt16?
    public var description: String?

    public init(address: IPAddress, remoteAS: UInt32, port: Int = 179, passive: Bool = false, localAddress: IPAddress? = nil) {
        self.address = address; self.remoteAS = remoteAS; self.port = port; self.passive = passive; self.localAddress = localAddress
    }
}

public struct VNIConfig: Codable, Sendable, Hashable {
    public var vni: UInt32
    public var rd: RouteDistinguisher?
    public var importRTs: [RouteTarget]?
    public var exportRTs: [RouteTarget]?
    public init(vni: UInt32, rd: RouteDistinguisher? = nil, importRTs: [RouteTarget]? = nil, exportRTs: [RouteTarget]? = nil) {
        self.vni = vni; self.rd = rd; self.importRTs = importRTs; self.exportRTs = exportRTs
    }
}

/// A tenant VRF: its L3 VNI (Label2 of its MAC/IP routes), router MAC, route targets (nil:
/// auto, AS:L3VNI like FRR) and L2 VNIs.
public struct VRFConfig: Codable, Sendable, Hashable {
    public var l3VNI: UInt32
    public var routerMAC: MACAddress
    public var vnis: [UInt32]
    public var importRTs: [RouteTarget]?
    public var exportRTs: [RouteTarget]?
    /// Prefixes to advertise as type-5 routes (the daemon fills in the gateway subnets with
    /// `advertise-subnets`).
    public var advertisedPrefixes: [IPPrefix]
    /// The VRF's name, for `show evpn vni`.
    public var name: String
    public init(l3VNI: UInt32, routerMAC: MACAddress, vnis: [UInt32], importRTs: [RouteTarget]? = nil, exportRTs: [RouteTarget]? = nil,
                advertisedPrefixes: [IPPrefix] = [], name: String = "") {
        self.name = name
        self.l3VNI = l3VNI; self.routerMAC = routerMAC; self.vnis = vnis; self.importRTs = importRTs; self.exportRTs = exportRTs
        self.advertisedPrefixes = advertisedPrefixes
    }
}

public struct GracefulRestartConfig: Codable, Sendable, Hashable {
    public var enabled = true
    /// Advertised restart time (RFC 4724), seconds.
    public var restartTime: UInt16 = 120
    /// How long to keep a restarting peer's stale routes after it comes back without End-of-RIB.
    public var stalePathTime: Double = 360
    /// Set by the daemon when vxsw itself restarted with forwarding state kept (R and F bits).
    public var restarting = false
    public init() {}
}

/// FRR's `dup-addr-detection max-moves 5 time 180 [freeze permanent|SECONDS]` (these defaults,
/// no freeze): a MAC that moves `maxMoves` times within `seconds` is a duplicate; with a freeze
/// it is then neither advertised nor installed until cleared (or `freeze` seconds passed).
public struct DuplicateAddressDetectionConfig: Codable, Sendable, Hashable {
    public var enabled = true
    public var maxMoves = 5
    public var seconds: Double = 180
    public var freeze = Freeze.off

    public enum Freeze: Codable, Sendable, Hashable {
        /// Detect and report only; moves go on.
        case off
        /// Frozen until `clear evpn dup-addr`.
        case permanent
        /// Frozen for this many seconds, then counted afresh.
        case seconds(Int)
    }

    public init(enabled: Bool = true, maxMoves: Int = 5, seconds: Double = 180, freeze: Freeze = .off) {
        self.enabled = enabled; self.maxMoves = maxMoves; self.seconds = seconds; self.freeze = freeze
    }
}

// Addresses are written as text in config files and JSON.
extension IPAddress: TextCodable {}
extension MACAddress: TextCodable {}
