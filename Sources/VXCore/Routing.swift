/// An L2 VNI's anycast gateway: the same MAC and addresses on every hypervisor, in one
/// tenant VRF (named by its L3 VNI). Each address's prefix length gives the connected subnet.
public struct Gateway: Sendable, Equatable {
    public var vrf: VNI
    public var mac: MACAddress
    public var ipv4: InterfaceAddress?
    public var ipv6: InterfaceAddress?

    public init(vrf: VNI, mac: MACAddress, ipv4: InterfaceAddress? = nil, ipv6: InterfaceAddress? = nil) {
        self.vrf = vrf; self.mac = mac; self.ipv4 = ipv4; self.ipv6 = ipv6
    }
}

/// A token bucket of whole tokens refilled once per second tick: `rate` per second, at most
/// `rate` held (RFC 1812 §4.3.2.8 / RFC 4443 §2.4(f): ICMP errors are rate limited).
public struct TokenBucket: Sendable, Equatable {
    @usableFromInline var tokens: UInt32
    @usableFromInline var stamp: UInt32

    public init(rate: UInt32) { tokens = rate; stamp = 0 }

    /// Takes one token at second `now`; false when the bucket is empty.
    @inlinable public mutating func take(now: UInt32, rate: UInt32) -> Bool {
        if now != stamp {
            let elapsed = now &- stamp
            tokens = elapsed >= rate ? rate : min(rate, tokens &+ elapsed &* rate)
            stamp = now
        }
        guard tokens > 0 else { return false }
        tokens &-= 1
        return true
    }
}

/// The routing state of a pipeline: tenant VRFs (L3 VNI, router MAC), each bridge domain's
/// anycast gateway and VRF, the VRFs' longest-prefix-match tables (`RouteTable`) and the
/// local hosts the gateways learned (an `NeighborTable` of (bridge domain, IP) → MAC, filled
/// from ARP/ND to the gateway and routed packets' sources). Changed only through
/// `TableUpdate`s (`Pipeline+Routing.swift`); read per packet only for frames addressed to
/// a gateway MAC or a router MAC.
public struct RoutingTables: Sendable {
    public static let noVRF: UInt8 = 0xFF
    /// ICMP errors a VRF sends per second at most (and ARP/NS requests it sends to resolve hosts).
    public static let icmpPerSecond: UInt32 = 100
    public static let resolvesPerSecond: UInt32 = 100

    /// One VRF as the control plane sees it.
    public struct VRF: Sendable, Equatable {
        public var l3VNI: VNI
        public var routerMAC: MACAddress
        /// The bridge domain of the L3 VNI (decapsulated frames to the router MAC arrive in it).
        public var l3BD: UInt16
        public var active: Bool
    }

    /// A bridge domain's gateway, flat for the data path.
    @usableFromInline struct GatewaySlot: Sendable {
        @usableFromInline var vrf: UInt8 = RoutingTables.noVRF
        /// Prefix lengths; 0xFF: no address of the family.
        @usableFromInline var length4: UInt8 = 0xFF
        @usableFromInline var length6: UInt8 = 0xFF
        @usableFromInline var v4 = IPAddress(hi: 0, lo: 0)
        @usableFromInline var v6 = IPAddress(hi: 0, lo: 0)
        @usableFromInline var mac = MACAddress(raw: 0)
        init() {}
    }

    public internal(set) var vrfs: [VRF] = []
    /// Per VRF index: the router MAC and the L3 VNI's bridge domain, flat.
    @usableFromInline var routerMACs: [MACAddress]
    @usableFromInline var l3BDs: [UInt16]
    /// Per bridge domain: its gateway (vrf `noVRF` when it has none).
    @usableFromInline var gateways: [GatewaySlot]
    /// Per bridge domain: the gateway MAC as a raw value, 0 when none (the one load the
    /// forwarding path makes, on an FDB miss only).
    @usableFromInline var gatewayMACs: [UInt64]
    /// Per bridge domain: the VRF whose L3 VNI this domain is, or `noVRF`.
    @usableFromInline var l3VRFOfBD: [UInt8]
    public internal(set) var routes: RouteTable
    /// Local hosts learned by the gateways: (bridge domain, IP) → MAC.
    public internal(set) var hosts: NeighborTable
    @usableFromInline var icmpBuckets: [TokenBucket]
    @usableFromInline var resolveBuckets: [TokenBucket]
    /// Bridge domains with a gateway (0: the neighbour-answering path skips the gateway check).
    public internal(set) var gatewayCount = 0
    public let vrfCapacity: Int

    public init(bridgeDomains: Int, vrfs: Int = 64, routeCapacity: Int = 8192, hostCapacity: Int = 8192) {
        vrfCapacity = min(vrfs, Int(RoutingTables.noVRF))
        routerMACs = Array(repeating: MACAddress(raw: 0), count: vrfCapacity)
        l3BDs = Array(repeating: PortTable.noBD, count: vrfCapacity)
        gateways = Array(repeating: GatewaySlot(), count: bridgeDomains)
        gatewayMACs = Array(repeating: 0, count: bridgeDomains)
        l3VRFOfBD = Array(repeating: RoutingTables.noVRF, count: bridgeDomains)
        routes = RouteTable(capacity: routeCapacity, vrfs: vrfCapacity)
        hosts = NeighborTable(capacity: hostCapacity)
        icmpBuckets = Array(repeating: TokenBucket(rate: RoutingTables.icmpPerSecond), count: vrfCapacity)
        resolveBuckets = Array(repeating: TokenBucket(rate: RoutingTables.resolvesPerSecond), count: vrfCapacity)
    }

    /// The index of the active VRF whose L3 VNI is `vni`.
    public func index(ofVRF vni: VNI) -> UInt8? {
        vrfs.firstIndex { $0.active && $0.l3VNI == vni }.map { UInt8($0) }
    }

    /// The gateway of bridge domain `bd` as configured, or nil.
    public func gateway(bd: UInt16) -> Gateway? {
        let g = gateways[Int(bd)]
        guard g.vrf != RoutingTables.noVRF else { return nil }
        return Gateway(vrf: vrfs[Int(g.vrf)].l3VNI, mac: g.mac,
                       ipv4: g.length4 == 0xFF ? nil : InterfaceAddress(g.v4, length: Int(g.length4)),
                       ipv6: g.length6 == 0xFF ? nil : InterfaceAddress(g.v6, length: Int(g.length6)))
    }

    /// `ip` lies in a connected subnet of `bd`'s gateway and is not the gateway's own address.
    @inlinable func isHostAddress(bd: UInt16, _ ip: IPAddress) -> Bool {
        let g = gateways[Int(bd)]
        guard ip.isUnicast else { return false }
        if ip.isIPv4 {
            return g.length4 != 0xFF && ip != g.v4 && ip.masked(to: g.length4) == g.v4.masked(to: g.length4)
        }
        return g.length6 != 0xFF && ip != g.v6 && ip.masked(to: g.length6) == g.v6.masked(to: g.length6)
    }

    /// The gateway MAC of `bd` when `ip` is its gateway's own address.
    @inlinable func gatewayMAC(bd: UInt16, answering ip: IPAddress) -> MACAddress? {
        let g = gateways[Int(bd)]
        guard g.vrf != RoutingTables.noVRF else { return nil }
        if ip.isIPv4 { return g.length4 != 0xFF && ip == g.v4 ? g.mac : nil }
        return g.length6 != 0xFF && ip == g.v6 ? g.mac : nil
    }
}

/// One row of `show ip route vrf NAME`.
public struct RouteRow: Sendable, Equatable {
    public enum Source: String, Sendable {
        /// A gateway's subnet.
        case connected
        /// A host route installed by the control plane, in a local L2 VNI.
        case host
        /// A local host the gateway learned (ARP/ND, routed packets).
        case learned
        /// Toward a remote VTEP's router MAC through the L3 VNI.
        case remote
    }

    public var prefix: IPPrefix
    public var source: Source
    /// The L2 VNI (connected, host, learned).
    public var vni: VNI?
    /// Host MAC or remote router MAC.
    public var mac: MACAddress?
    public var vtep: IPAddress?
    /// Where the FDB has the host's MAC (host, learned), when local.
    public var port: PortID?
}
