import VXCore

/// `show bgp neighbors [ADDRESS]`: each peer's session state as FRR shows it, gathered on the
/// speaker's loop from the state the peer and its connection own.
extension EVPNSpeaker {
    /// Every configured peer, or the one at `address`; throws `NoSuchNeighbor` for an address
    /// that is not a configured peer.
    public func neighbors(_ address: IPAddress? = nil) async throws -> BGPNeighbors {
        try await loop.submit { try self.makeNeighbors(address) }.get()
    }

    func makeNeighbors(_ address: IPAddress?) throws -> BGPNeighbors {
        let chosen = peers.filter { address == nil || $0.config.address == address }
        if let address, chosen.isEmpty { throw NoSuchNeighbor(address: address.description, configured: peers.map(\.id)) }
        let now = clock()
        return BGPNeighbors(chosen.sorted { $0.config.address < $1.config.address }.map { makeNeighbor($0, now: now) })
    }

    func makeNeighbor(_ p: BGPPeer, now: Double) -> BGPNeighbor {
        let session = p.established
        let configuredHold = Int(p.config.holdTime ?? config.holdTime)
        let hold = session.map { Int($0.holdTime) } ?? configuredHold
        let connection = session ?? p.connections.first
        func ms(_ since: Double?) -> Int? { since.map { Int(((now - $0) * 1000).rounded()) } }
        let upSeconds = Int(now - p.stateSince)
        let s = p.sentMessages, r = p.receivedMessages
        return BGPNeighbor(
            address: p.id, remoteAs: p.config.remoteAS, localAs: config.asn,
            nbrInternalLink: p.isInternal ? true : nil, nbrExternalLink: p.isInternal ? nil : true, nbrDesc: p.config.description,
            remoteRouterId: session?.remoteOpen.map { IPAddress(v4: $0.routerID).description } ?? "0.0.0.0",
            localRouterId: config.routerID.description, bgpState: p.state,
            bgpTimerUpMsec: session == nil ? nil : upSeconds * 1000, bgpTimerUpString: session == nil ? nil : upDown(upSeconds),
            bgpTimerLastRead: ms(p.lastRead), bgpTimerLastWrite: ms(p.lastWrite),
            bgpTimerConfiguredHoldTimeMsecs: configuredHold * 1000, bgpTimerConfiguredKeepAliveIntervalMsecs: configuredHold * 1000 / 3,
            bgpTimerHoldTimeMsecs: hold * 1000, bgpTimerKeepAliveIntervalMsecs: hold * 1000 / 3,
            neighborCapabilities: session?.remoteOpen.map(neighborCapabilities),
            gracefulRestartInfo: gracefulRestartInfo(p, now: now),
            messageStats: .init(opensSent: s.opens, opensRecv: r.opens, notificationsSent: s.notifications, notificationsRecv: r.notifications,
                                updatesSent: s.updates, updatesRecv: r.updates, keepalivesSent: s.keepalives, keepalivesRecv: r.keepalives,
                                routeRefreshSent: s.routeRefreshes, routeRefreshRecv: r.routeRefreshes, totalSent: s.total, totalRecv: r.total),
            addressFamilyInfo: .init(l2VpnEvpn: .init(receivedPrefixCounter: rib.routeCount(from: p.id),
                                                      acceptedPrefixCounter: rib.importedRouteCount(from: p.id),
                                                      sentPrefixCounter: session == nil ? nil : rib.exported.count)),
            connectionsEstablished: p.connectionsEstablished, connectionsDropped: p.connectionsDropped,
            lastResetTimerMsecs: ms(p.lastReset?.at), lastResetDueTo: p.lastReset?.dueTo,
            lastErrorCodeSubcode: p.lastReset?.notification?.codeSubcodeHex, lastNotificationReason: p.lastReset?.notification?.reason,
            lastResetDetail: p.lastReset?.detail, lastError: p.lastError,
            hostLocal: connection?.channel?.localAddress?.ipAddress.flatMap { IPAddress(mappedText: $0)?.description },
            portLocal: connection?.channel?.localAddress?.port,
            hostForeign: connection?.channel?.remoteAddress?.ipAddress.flatMap { IPAddress(mappedText: $0)?.description },
            portForeign: connection?.channel?.remoteAddress?.port,
            connectRetryTimer: Int(config.connectRetrySeconds))
    }

    /// What was advertised (`capabilities()`, the OPEN vxsw sends) against the peer's OPEN.
    func neighborCapabilities(_ open: BGPOpen) -> BGPNeighbor.Capabilities {
        let ours = capabilities()
        var families: [String: [String: Bool]] = [:]
        let advertisedFamilies = Set(ours.compactMap { if case .multiprotocol(let f) = $0 { return f } else { return nil } })
        for f in advertisedFamilies.union(open.families) {
            if let e = BGPNeighbor.Exchange(advertised: advertisedFamilies.contains(f), received: open.families.contains(f)) {
                families[f.frrKey] = [e.rawValue: true]
            }
        }
        let oldRefresh = open.capabilities.contains { $0.code == 128 }, newRefresh = open.supportsRouteRefresh
        let refreshAdvertised = ours.contains(.routeRefresh)
        var refresh: String? = nil
        if newRefresh || oldRefresh {
            let kind = oldRefresh && newRefresh ? "OldNew" : oldRefresh ? "Old" : "New"
            refresh = refreshAdvertised ? "advertisedAndReceived" + kind : "received"
        } else if refreshAdvertised {
            refresh = "advertised"
        }
        let ourGR = ours.contains { $0.code == 64 }, theirGR = open.gracefulRestart
        let unused = open.capabilities.filter { if case .unknown(let code, _) = $0 { return code != 128 } else { return false } }
            .map { BGPNeighbor.OtherCapability(code: Int($0.code), name: Self.capabilityNames[$0.code] ?? "Capability \($0.code)") }
        return BGPNeighbor.Capabilities(
            fourByteAs: .init(advertised: true, received: open.supportsFourOctetAS),   // BGPOpen always carries ours
            routeRefresh: refresh,
            enhancedRouteRefresh: .init(advertised: ours.contains(.enhancedRouteRefresh), received: open.capabilities.contains(.enhancedRouteRefresh)),
            multiprotocolExtensions: families,
            gracefulRestart: .init(advertised: ourGR, received: theirGR != nil),
            gracefulRestartRemoteTimerMsecs: theirGR.map { Int($0.restartTime) * 1000 },
            addressFamiliesByPeer: theirGR.map { gr in
                .init(Dictionary(gr.families.map { ($0.0.frrKey, $0.forwardingPreserved) }, uniquingKeysWith: { a, _ in a }))
            },
            unusedCapabilitiesRecv: unused.isEmpty ? nil : unused)
    }

    func gracefulRestartInfo(_ p: BGPPeer, now: Double) -> BGPNeighbor.GracefulRestartInfo {
        let gr = config.gracefulRestart
        let theirs = p.established?.remoteOpen?.gracefulRestart
        let remoteMode = if p.established == nil { "NotApplicable" } else if let theirs { theirs.families.isEmpty ? "Helper" : "Restart" } else { "Disable" }
        let known = p.peerGracefulRestart
        let remaining = p.staleDeadline.map { max(0, Int(($0 - now).rounded(.up))) }
        let evpn = AFISAFI.l2vpnEVPN.frrKey
        let established = p.established != nil
        return BGPNeighbor.GracefulRestartInfo(
            endOfRibSend: established && p.endOfRIBSent ? [evpn: true] : [:],
            endOfRibRecv: established && p.endOfRIBReceived ? [evpn: true] : [:],
            localGrMode: gr.enabled ? "Restart" : "Disable", remoteGrMode: remoteMode,
            rBit: known?.restarting ?? false, nBit: known?.notification ?? false,
            timers: .init(configuredRestartTimer: Int(gr.restartTime), receivedRestartTimer: known.map { Int($0.restartTime) },
                          restartTimerRemaining: established ? nil : remaining),
            l2VpnEvpn: .init(fBit: known?.families.first { $0.0 == .l2vpnEVPN }?.forwardingPreserved ?? false,
                             endOfRibStatus: .init(endOfRibSend: established && p.endOfRIBSent, endOfRibRecv: established && p.endOfRIBReceived),
                             timers: .init(stalePathTimer: Int(gr.stalePathTime), stalePathTimerRemaining: established ? remaining : nil)))
    }

    /// IANA capability codes vxsw may receive and not use, named as FRR names them.
    static let capabilityNames: [UInt8: String] = [
        3: "Outbound Route Filtering", 5: "Extended nexthop", 6: "Extended Message", 7: "BGPsec", 8: "Multiple Labels",
        9: "BGP Role", 67: "Dynamic", 69: "AddPath", 71: "Long-lived Graceful Restart", 73: "Hostname",
    ]
}
