/// The text of `show bgp neighbors`, laid out as FRR 8.4 prints it, from the same values as the JSON.
extension BGPNeighbors {
    public func formatted() -> String {
        neighbors.map { $0.formatted() }.joined(separator: "\n")
    }
}

extension BGPNeighbor {
    public func formatted() -> String {
        var s = "BGP neighbor is \(address), remote AS \(remoteAs), local AS \(localAs), "
        s += (nbrInternalLink ?? false ? "internal" : "external") + " link\n"
        if let d = nbrDesc { s += " Description: \(d)\n" }
        s += "  BGP version \(bgpVersion), remote router ID \(remoteRouterId), local router ID \(localRouterId)\n"
        s += "  BGP state = \(bgpState.rawValue)" + (bgpTimerUpString.map { ", up for \($0)" } ?? "") + "\n"
        if bgpTimerLastRead != nil || bgpTimerLastWrite != nil {
            s += "  Last read \(Self.ago(bgpTimerLastRead)), Last write \(Self.ago(bgpTimerLastWrite))\n"
        }
        s += "  Hold time is \(bgpTimerHoldTimeMsecs / 1000) seconds, keepalive interval is \(bgpTimerKeepAliveIntervalMsecs / 1000) seconds\n"
        s += "  Configured hold time is \(bgpTimerConfiguredHoldTimeMsecs / 1000) seconds, keepalive interval is "
        s += "\(bgpTimerConfiguredKeepAliveIntervalMsecs / 1000) seconds\n"
        if let c = neighborCapabilities { s += c.formatted() }
        s += gracefulRestartInfo.formatted()
        s += messageStats.formatted()
        let evpn = addressFamilyInfo.l2VpnEvpn
        s += "\n For address family: \(AFISAFI.l2vpnEVPN.frrName)\n"
        s += "  \(evpn.receivedPrefixCounter) received prefixes\n"
        s += "  \(evpn.acceptedPrefixCounter) accepted prefixes\n"
        if let sent = evpn.sentPrefixCounter { s += "  \(sent) sent prefixes\n" }
        s += "\n  Connections established \(connectionsEstablished); dropped \(connectionsDropped)\n"
        s += "  Last reset " + lastResetText() + "\n"
        if let e = lastError { s += "  Last error: \(e)\n" }
        if let h = hostLocal, let p = portLocal { s += "Local host: \(h), Local port: \(p)\n" }
        if let h = hostForeign, let p = portForeign { s += "Foreign host: \(h), Foreign port: \(p)\n" }
        s += "BGP Connect Retry Timer in Seconds: \(connectRetryTimer)\n"
        return s
    }

    /// "00:00:13,  Notification received (Cease/Administrative Reset)", FRR's words; "never".
    func lastResetText() -> String {
        guard let ms = lastResetTimerMsecs, let due = lastResetDueTo else { return "never" }
        var s = Self.ago(ms) + ",  "
        switch (due, lastNotificationReason) {
        case ("BGP Notification send", let reason?): s += "Notification sent (\(reason))"
        case ("BGP Notification received", let reason?): s += "Notification received (\(reason))"
        // An operator's stop or reset: vxsw sent the NOTIFICATION, if any.
        case (_, let reason?): s += "\(due) (Notification sent: \(reason))"
        case (_, nil): s += due
        }
        if let d = lastResetDetail { s += ": \(d)" }
        return s
    }

    static func ago(_ ms: Int?) -> String { ms.map { upDown($0 / 1000) } ?? "never" }

    static func yesNo(_ b: Bool) -> String { b ? "Yes" : "No" }
    static func trueFalse(_ b: Bool) -> String { b ? "True" : "False" }

    /// "L2VPN EVPN" for "l2VpnEvpn"; the key itself for a family vxsw has no name for.
    static func familyName(_ key: String) -> String { AFISAFI(frrKey: key)?.frrName ?? key }
}

extension BGPNeighbor.Capabilities {
    func formatted() -> String {
        var s = "  Neighbor capabilities:\n"
        if let e = fourByteAs { s += "    4 Byte AS: \(e.text)\n" }
        if let r = routeRefresh { s += "    Route refresh: \(Self.refreshText(r))\n" }
        if let e = enhancedRouteRefresh { s += "    Enhanced Route Refresh: \(e.text)\n" }
        for (key, how) in multiprotocolExtensions.sorted(by: { $0.key < $1.key }) {
            guard let e = how.keys.first.flatMap(BGPNeighbor.Exchange.init(rawValue:)) else { continue }
            s += "    Address Family \(BGPNeighbor.familyName(key)): \(e.text)\n"
        }
        if let e = gracefulRestart {
            s += "    Graceful Restart Capability: \(e.text)\n"
            if let t = gracefulRestartRemoteTimerMsecs { s += "      Remote Restart timer is \(t / 1000) seconds\n" }
            if let fams = addressFamiliesByPeer {
                s += "      Address families by peer:\n"
                if fams.preserved.isEmpty { s += "        none\n" }
                for (key, kept) in fams.preserved.sorted(by: { $0.key < $1.key }) {
                    s += "        \(BGPNeighbor.familyName(key))(\(kept ? "preserved" : "not preserved"))\n"
                }
            }
        }
        if let other = unusedCapabilitiesRecv {
            s += "    Received, not used by vxsw: " + other.map { "\($0.name) (\($0.code))" }.joined(separator: ", ") + "\n"
        }
        return s
    }

    /// FRR's text for its route-refresh words: "advertised and received(new)".
    static func refreshText(_ r: String) -> String {
        let kinds = ["OldNew": "(old & new)", "Old": "(old)", "New": "(new)"]
        for (suffix, text) in kinds.sorted(by: { $0.key.count > $1.key.count }) where r.hasSuffix(suffix) {
            return (r.hasPrefix("advertised") ? "advertised and received" : "received") + text
        }
        return r == "received" ? "received(new)" : r
    }
}

extension BGPNeighbor.GracefulRestartInfo {
    func formatted() -> String {
        var s = "  Graceful restart information:\n"
        if !endOfRibSend.isEmpty { s += "    End-of-RIB send: " + families(endOfRibSend) + "\n" }
        if !endOfRibRecv.isEmpty { s += "    End-of-RIB received: " + families(endOfRibRecv) + "\n" }
        s += "    Local GR Mode: \(localGrMode)\n    Remote GR Mode: \(remoteGrMode)\n"
        s += "    R bit: \(BGPNeighbor.trueFalse(rBit))\n    N bit: \(BGPNeighbor.trueFalse(nBit))\n"
        s += "    Timers:\n      Configured Restart Time(sec): \(timers.configuredRestartTimer)\n"
        if let t = timers.receivedRestartTimer { s += "      Received Restart Time(sec): \(t)\n" }
        if let t = timers.restartTimerRemaining { s += "      Restart Time Remaining(sec): \(t)\n" }
        let f = l2VpnEvpn
        s += "    \(AFISAFI.l2vpnEVPN.frrName):\n      F bit: \(BGPNeighbor.trueFalse(f.fBit))\n"
        s += "      End-of-RIB sent: \(BGPNeighbor.yesNo(f.endOfRibStatus.endOfRibSend))\n"
        s += "      End-of-RIB received: \(BGPNeighbor.yesNo(f.endOfRibStatus.endOfRibRecv))\n"
        s += "      Timers:\n        Stale Path Time(sec): \(f.timers.stalePathTimer)\n"
        if let t = f.timers.stalePathTimerRemaining { s += "        Stale Path Remaining(sec): \(t)\n" }
        return s
    }

    private func families(_ set: [String: Bool]) -> String {
        set.filter(\.value).keys.sorted().map(BGPNeighbor.familyName).joined(separator: " ")
    }
}

extension BGPNeighbor.MessageStats {
    func formatted() -> String {
        var s = "  Message statistics:\n" + pad("", 25) + "Sent" + lpad("Rcvd", 11) + "\n"
        for (name, sent, received) in [("Opens:", opensSent, opensRecv), ("Notifications:", notificationsSent, notificationsRecv),
                                       ("Updates:", updatesSent, updatesRecv), ("Keepalives:", keepalivesSent, keepalivesRecv),
                                       ("Route Refresh:", routeRefreshSent, routeRefreshRecv), ("Capability:", capabilitySent, capabilityRecv),
                                       ("Total:", totalSent, totalRecv)] {
            s += pad("    " + name, 19) + lpad(String(sent), 10) + " " + lpad(String(received), 10) + "\n"
        }
        return s
    }
}
