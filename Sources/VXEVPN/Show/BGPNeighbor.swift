import VXCore

/// `show bgp neighbors [ADDRESS]` in FRR 8.4's JSON shape (`show bgp neighbors json`): one
/// object keyed by each peer's address, FRR's key names where FRR has the figure. Keys that are
/// vxsw's own are marked "vxsw" below (README: "show bgp neighbors"). The text is in
/// `BGPNeighbor+Text.swift`.
public struct BGPNeighbors: Codable, Sendable {
    /// In address order, as FRR lists them.
    public var neighbors: [BGPNeighbor]

    public init(_ neighbors: [BGPNeighbor]) { self.neighbors = neighbors }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: FRRJSONKey.self)
        for n in neighbors { try c.encode(n, forKey: FRRJSONKey(stringValue: n.address)) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: FRRJSONKey.self)
        neighbors = try c.allKeys.map { key in
            var n = try c.decode(BGPNeighbor.self, forKey: key)
            n.address = key.stringValue
            return n
        }.sorted { a, b in
            guard let x = IPAddress(a.address), let y = IPAddress(b.address) else { return a.address < b.address }
            return x < y
        }
    }
}

/// `show bgp neighbors ADDRESS` for an address that is not a configured peer.
public struct NoSuchNeighbor: Error, Sendable, CustomStringConvertible {
    public var address: String
    public var configured: [String]
    public var description: String {
        "no such BGP neighbor: \(address) is not a configured peer"
            + (configured.isEmpty ? " (none configured)" : " (peers: \(configured.joined(separator: ", ")))")
    }
}

public struct BGPNeighbor: Codable, Sendable {
    /// The peer's address: the key of its object, not a field.
    public var address = ""
    public var remoteAs: UInt32
    public var localAs: UInt32
    /// FRR writes one of the two, true.
    public var nbrInternalLink: Bool?
    public var nbrExternalLink: Bool?
    public var nbrDesc: String?
    public var bgpVersion = 4
    /// "0.0.0.0" while no session is up (FRR does the same).
    public var remoteRouterId: String
    public var localRouterId: String
    public var bgpState: BGPState
    /// Only while Established.
    public var bgpTimerUpMsec: Int?
    public var bgpTimerUpString: String?
    /// Milliseconds since the last message read / written; nil: none yet.
    public var bgpTimerLastRead: Int?
    public var bgpTimerLastWrite: Int?
    public var bgpTimerConfiguredHoldTimeMsecs: Int
    public var bgpTimerConfiguredKeepAliveIntervalMsecs: Int
    /// Negotiated while a session is up, else the configured values.
    public var bgpTimerHoldTimeMsecs: Int
    public var bgpTimerKeepAliveIntervalMsecs: Int
    /// Only while Established, as FRR.
    public var neighborCapabilities: Capabilities?
    public var gracefulRestartInfo: GracefulRestartInfo
    public var messageStats: MessageStats
    public var addressFamilyInfo: AddressFamilyInfo
    public var connectionsEstablished: Int
    public var connectionsDropped: Int
    /// The last reset: how long ago, why (FRR's words), the NOTIFICATION's code/subcode in hex
    /// ("0604") and its name ("Cease/Administrative Reset"). All nil: never reset.
    public var lastResetTimerMsecs: Int?
    public var lastResetDueTo: String?
    public var lastErrorCodeSubcode: String?
    public var lastNotificationReason: String?
    /// vxsw: its own words on the reset ("peer AS 65010, expected 65000").
    public var lastResetDetail: String?
    /// vxsw: the last error, connection failures included ("connect: connection refused").
    public var lastError: String?
    /// The TCP connection's ends (the session's, else the connection being tried).
    public var hostLocal: String?
    public var portLocal: Int?
    public var hostForeign: String?
    public var portForeign: Int?
    /// Seconds.
    public var connectRetryTimer: Int

    enum CodingKeys: String, CodingKey {
        case remoteAs, localAs, nbrInternalLink, nbrExternalLink, nbrDesc, bgpVersion, remoteRouterId, localRouterId
        case bgpState, bgpTimerUpMsec, bgpTimerUpString, bgpTimerLastRead, bgpTimerLastWrite
        case bgpTimerConfiguredHoldTimeMsecs, bgpTimerConfiguredKeepAliveIntervalMsecs, bgpTimerHoldTimeMsecs, bgpTimerKeepAliveIntervalMsecs
        case neighborCapabilities, gracefulRestartInfo, messageStats, addressFamilyInfo, connectionsEstablished, connectionsDropped
        case lastResetTimerMsecs, lastResetDueTo, lastErrorCodeSubcode, lastNotificationReason, lastResetDetail, lastError
        case hostLocal, portLocal, hostForeign, portForeign, connectRetryTimer
    }

    /// FRR's words for one capability or family: "advertised", "received", "advertisedAndReceived".
    public enum Exchange: String, Codable, Sendable {
        case advertised, received, advertisedAndReceived
        public init?(advertised: Bool, received: Bool) {
            switch (advertised, received) {
            case (true, true): self = .advertisedAndReceived
            case (true, false): self = .advertised
            case (false, true): self = .received
            case (false, false): return nil
            }
        }
        public var text: String { self == .advertisedAndReceived ? "advertised and received" : rawValue }
    }

    public struct Capabilities: Codable, Sendable {
        public var fourByteAs: Exchange?
        /// FRR's spelling: "advertisedAndReceivedNew" (RFC 2918 code 2), "…Old" (code 128), "…OldNew",
        /// "advertised", "received".
        public var routeRefresh: String?
        public var enhancedRouteRefresh: Exchange?
        /// Family key ("l2VpnEvpn") → {"advertisedAndReceived": true}.
        public var multiprotocolExtensions: [String: [String: Bool]]
        public var gracefulRestart: Exchange?
        public var gracefulRestartRemoteTimerMsecs: Int?
        /// The families in the peer's graceful-restart capability.
        public var addressFamiliesByPeer: GracefulRestartFamilies?
        /// vxsw: capabilities the peer sent that vxsw does not use.
        public var unusedCapabilitiesRecv: [OtherCapability]?

        enum CodingKeys: String, CodingKey {
            case fourByteAs = "4byteAs"
            case routeRefresh, enhancedRouteRefresh, multiprotocolExtensions, gracefulRestart
            case gracefulRestartRemoteTimerMsecs, addressFamiliesByPeer, unusedCapabilitiesRecv
        }
    }

    public struct OtherCapability: Codable, Sendable, Equatable {
        public var code: Int
        public var name: String
    }

    /// Family key → whether the peer preserved its forwarding state (F bit). FRR writes
    /// `{"l2VpnEvpn": {"preserved": true}}`, `{"l2VpnEvpn": {}}`, or "none" for no family.
    public struct GracefulRestartFamilies: Codable, Sendable {
        public var preserved: [String: Bool]

        public init(_ preserved: [String: Bool]) { self.preserved = preserved }

        public func encode(to encoder: Encoder) throws {
            if preserved.isEmpty {
                var c = encoder.singleValueContainer()
                try c.encode("none")
            } else {
                var c = encoder.singleValueContainer()
                try c.encode(preserved.mapValues { $0 ? ["preserved": true] : [String: Bool]() })
            }
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if (try? c.decode(String.self)) != nil { preserved = [:]; return }
            preserved = try c.decode([String: [String: Bool]].self).mapValues { $0["preserved"] ?? false }
        }
    }

    public struct GracefulRestartInfo: Codable, Sendable {
        /// Family key → true, for the families whose End-of-RIB went / came on this session.
        public var endOfRibSend: [String: Bool]
        public var endOfRibRecv: [String: Bool]
        /// "Restart" (vxsw advertises EVPN with the F bit, and helps) or "Disable".
        public var localGrMode: String
        /// From the peer's capability: "Restart" (families listed), "Helper" (none), "Disable"
        /// (no capability); "NotApplicable" while no session is up.
        public var remoteGrMode: String
        /// The peer's R (restarted) and N (notification) bits.
        public var rBit: Bool
        public var nBit: Bool
        public var timers: Timers
        /// Per family, as FRR's `show bgp neighbors graceful-restart json`.
        public var l2VpnEvpn: Family

        public struct Timers: Codable, Sendable {
            public var configuredRestartTimer: Int
            public var receivedRestartTimer: Int?
            /// While the session is down and the peer's routes are kept stale.
            public var restartTimerRemaining: Int?
        }

        public struct Family: Codable, Sendable {
            /// The peer's F bit for this family.
            public var fBit: Bool
            public var endOfRibStatus: EndOfRIB
            public var timers: FamilyTimers

            public struct EndOfRIB: Codable, Sendable {
                public var endOfRibSend: Bool
                public var endOfRibRecv: Bool
            }

            public struct FamilyTimers: Codable, Sendable {
                public var stalePathTimer: Int
                /// After the peer is back, until its End-of-RIB flushes what it did not announce again.
                public var stalePathTimerRemaining: Int?
            }
        }
    }

    public struct MessageStats: Codable, Sendable {
        public var opensSent: Int, opensRecv: Int
        public var notificationsSent: Int, notificationsRecv: Int
        public var updatesSent: Int, updatesRecv: Int
        public var keepalivesSent: Int, keepalivesRecv: Int
        public var routeRefreshSent: Int, routeRefreshRecv: Int
        /// vxsw never sends or accepts dynamic CAPABILITY messages: always 0.
        public var capabilitySent = 0, capabilityRecv = 0
        public var totalSent: Int, totalRecv: Int
    }

    public struct AddressFamilyInfo: Codable, Sendable {
        public var l2VpnEvpn: AddressFamily
    }

    public struct AddressFamily: Codable, Sendable {
        /// vxsw: routes of the peer in the Adj-RIB-In (what `show bgp summary` counts as PfxRcd).
        public var receivedPrefixCounter: Int
        /// Of those, the ones vxsw imports into a local VNI (a route target of the VNI), i.e. uses.
        public var acceptedPrefixCounter: Int
        /// Routes vxsw advertises to the peer; only while Established.
        public var sentPrefixCounter: Int?
    }
}
