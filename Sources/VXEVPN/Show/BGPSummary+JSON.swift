import VXCore

/// `show bgp l2vpn evpn summary json` in FRR 8.4's shape: the router's figures and `peers`, an
/// object keyed by address with FRR's keys (`remoteAs`, `msgRcvd`, `msgSent`, `peerUptime`,
/// `peerUptimeMsec`, `peerUptimeEstablishedEpoch`, `pfxRcd`, `pfxSnt`, `state`, …). vxsw's
/// extra keys on a peer: `lastError`, `gracefulRestartStale`. Left out: FRR's memory figures
/// (`ribMemory`, `peerMemory`) and the peer's `hostname` (vxsw does not speak the hostname
/// capability). `show bgp summary json` is the same under `l2VpnEvpn` (`BGPSummaryByFamily`).
extension BGPSummary {
    enum CodingKeys: String, CodingKey {
        case routerId, `as`, vrfId, vrfName, tableVersion, ribCount, peerCount, peers
        case failedPeers, displayedPeers, totalPeers, dynamicPeers, bestPath
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(routerID, forKey: .routerId)
        try c.encode(localAS, forKey: .as)
        try c.encode(0, forKey: .vrfId)
        try c.encode("default", forKey: .vrfName)
        try c.encode(0, forKey: .tableVersion)
        try c.encode(ribCount, forKey: .ribCount)
        try c.encode(peers.count, forKey: .peerCount)
        var p = c.nestedContainer(keyedBy: FRRJSONKey.self, forKey: .peers)
        for peer in peers { try p.encode(PeerJSON(peer, localAS: localAS), forKey: FRRJSONKey(peer.neighbor)) }
        try c.encode(peers.filter { $0.state != .established }.count, forKey: .failedPeers)
        try c.encode(peers.count, forKey: .displayedPeers)
        try c.encode(peers.count, forKey: .totalPeers)
        try c.encode(0, forKey: .dynamicPeers)
        try c.encode(["multiPathRelax": "false"], forKey: .bestPath)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let p = try c.nestedContainer(keyedBy: FRRJSONKey.self, forKey: .peers)
        let peers = try p.allKeys.map { try p.decode(PeerJSON.self, forKey: $0).summary(neighbor: $0.stringValue) }
        self.init(routerID: try c.decode(String.self, forKey: .routerId), localAS: try c.decode(UInt32.self, forKey: .as),
                  peers: peers.sorted { a, b in
                      guard let x = IPAddress(a.neighbor), let y = IPAddress(b.neighbor) else { return a.neighbor < b.neighbor }
                      return x < y
                  },
                  ribCount: try c.decodeIfPresent(Int.self, forKey: .ribCount) ?? 0)
    }

    /// One peer as FRR writes it.
    struct PeerJSON: Codable {
        var remoteAs: UInt32, localAs: UInt32, version = 4
        var msgRcvd: Int, msgSent: Int
        var tableVersion = 0, outq = 0, inq = 0
        var peerUptime: String, peerUptimeMsec: Int
        var peerUptimeEstablishedEpoch: Int?
        var pfxRcd: Int, pfxSnt: Int
        var state: BGPState
        var peerState = "OK"
        var connectionsEstablished: Int, connectionsDropped: Int
        var idType: String
        var desc: String?
        var lastError: String?
        var gracefulRestartStale: Bool?

        init(_ p: PeerSummary, localAS: UInt32) {
            let never = p.upDownText == "never"
            remoteAs = p.remoteAS; localAs = localAS
            msgRcvd = p.messagesReceived; msgSent = p.messagesSent
            peerUptime = p.upDownText; peerUptimeMsec = never ? 0 : p.upDownSeconds * 1000
            peerUptimeEstablishedEpoch = p.state == .established ? p.establishedEpoch : nil
            pfxRcd = p.prefixesReceived; pfxSnt = p.prefixesSent
            state = p.state
            connectionsEstablished = p.connectionsEstablished; connectionsDropped = p.connectionsDropped
            idType = p.neighbor.contains(":") ? "ipv6" : "ipv4"
            desc = p.description; lastError = p.lastError; gracefulRestartStale = p.gracefulRestartStale
        }

        func summary(neighbor: String) -> PeerSummary {
            PeerSummary(neighbor: neighbor, remoteAS: remoteAs, messagesReceived: msgRcvd, messagesSent: msgSent,
                        upDownSeconds: peerUptimeMsec / 1000, state: state, prefixesReceived: pfxRcd, prefixesSent: pfxSnt,
                        description: desc, lastError: lastError, gracefulRestartStale: gracefulRestartStale ?? false,
                        connectionsEstablished: connectionsEstablished, connectionsDropped: connectionsDropped,
                        establishedEpoch: peerUptimeEstablishedEpoch)
        }
    }
}

/// `show bgp summary json`: FRR writes each address family's summary under its key; vxsw has one.
public struct BGPSummaryByFamily: Codable, Sendable {
    public var l2VpnEvpn: BGPSummary
    public init(_ summary: BGPSummary) { l2VpnEvpn = summary }
}
