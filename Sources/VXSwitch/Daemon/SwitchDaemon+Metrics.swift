import VXControl
import VXCore
import VXEVPN
import VXTables

/// The Prometheus page: the same snapshot as `vxsw show stats`, as counters with labels.
extension SwitchDaemon {
    public func renderMetrics() -> String {
        let stats = statsView(snapshot())
        var m = PrometheusText()
        for p in stats.ports {
            let l: KeyValuePairs<String, String> = ["port": p.name, "kind": p.kind]
            m.counter("vxsw_port_rx_packets_total", help: "Frames received on a port.", labels: l, p.rxPackets)
            m.counter("vxsw_port_rx_bytes_total", help: "Bytes received on a port.", labels: l, p.rxBytes)
            m.counter("vxsw_port_tx_packets_total", help: "Frames sent on a port.", labels: l, p.txPackets)
            m.counter("vxsw_port_tx_bytes_total", help: "Bytes sent on a port.", labels: l, p.txBytes)
            if let learned = p.learnedMACs {
                m.gauge("vxsw_port_macs", help: "MACs learned on a VM port.", labels: l, Double(learned))
                m.counter("vxsw_port_mac_limit_hits_total", help: "Sources not learned because the port's MAC limit was reached (frames still forwarded).",
                          labels: l, p.macLimitHits ?? 0)
            }
            for (reason, n) in p.drops.sorted(by: { $0.key < $1.key }) {
                m.counter("vxsw_port_drops_total", help: "Frames dropped, by the port they arrived on and reason.",
                          labels: ["port": p.name, "reason": reason], n)
            }
        }
        for v in stats.vnis {
            let l: KeyValuePairs<String, String> = ["vni": String(v.vni)]
            m.counter("vxsw_vni_rx_packets_total", help: "Frames received into a VNI.", labels: l, v.rxPackets)
            m.counter("vxsw_vni_tx_packets_total", help: "Frames delivered from a VNI.", labels: l, v.txPackets)
            m.counter("vxsw_vni_floods_total", help: "BUM frames flooded in a VNI.", labels: l, v.floods)
            m.counter("vxsw_vni_neighbor_suppressed_total", help: "ARP requests and neighbour solicitations answered by the switch.",
                      labels: ["vni": String(v.vni), "protocol": "arp"], v.arpSuppressed)
            m.counter("vxsw_vni_neighbor_suppressed_total", help: "ARP requests and neighbour solicitations answered by the switch.",
                      labels: ["vni": String(v.vni), "protocol": "nd"], v.ndSuppressed)
            m.gauge("vxsw_vni_macs", help: "MACs known in a VNI, by where they are.",
                    labels: ["vni": String(v.vni), "location": "local"], Double(v.localMACs))
            m.gauge("vxsw_vni_macs", help: "MACs known in a VNI, by where they are.",
                    labels: ["vni": String(v.vni), "location": "remote"], Double(v.remoteMACs))
            for (why, n) in [("mac_limit", v.macLimitHits), ("table_full", v.tableFullHits), ("deferred", v.learnsDeferred)] {
                m.counter("vxsw_vni_macs_not_learned_total", help: "Sources not learned in a VNI (frames still forwarded): its MAC limit, a full FDB, or put off while the event stream was full.",
                          labels: ["vni": String(v.vni), "reason": why], n ?? 0)
            }
            for (reason, n) in v.drops.sorted(by: { $0.key < $1.key }) {
                m.counter("vxsw_vni_drops_total", help: "Frames dropped in a VNI, by reason.",
                          labels: ["vni": String(v.vni), "reason": reason], n)
            }
        }
        m.gauge("vxsw_vteps_learned", help: "Remote VTEPs learned from the data plane (vtep.accept: any; at most vtep.max-learned).",
                Double(stats.vteps.filter { $0.learned == true }.count))
        for t in stats.vteps {
            m.counter("vxsw_vtep_tx_packets_total", help: "Frames encapsulated toward a remote VTEP.",
                      labels: ["vtep": t.address], t.txPackets)
            m.gauge("vxsw_vtep_resolved", help: "1 when the VTEP's underlay next hop is known.",
                    labels: ["vtep": t.address], t.nextHop == nil ? 0 : 1)
        }
        for (name, n) in stats.xdp.sorted(by: { $0.key < $1.key }) {
            m.counter("vxsw_xdp_frames_total", help: "Frames seen by the XDP program, by verdict.", labels: ["verdict": name], n)
        }
        for s in stats.sockets {
            m.counter("vxsw_tx_kicks_total", help: "sendto() calls made because need_wakeup asked.", labels: ["port": s.port], s.txKicks)
        }
        // Summed per port (an uplink has a socket per queue): what the kernel dropped before vxsw saw it.
        var kernel: [String: [String: UInt64]] = [:]
        for s in stats.sockets {
            guard let k = s.kernelDrops else { continue }
            for (kind, n) in [("rx_dropped", k.rxDropped), ("rx_ring_full", k.rxRingFull), ("fill_ring_empty", k.fillRingEmpty),
                              ("rx_invalid", k.rxInvalidDescriptors), ("tx_invalid", k.txInvalidDescriptors)] {
                kernel[s.port, default: [:]][kind, default: 0] += n
            }
        }
        for (port, kinds) in kernel.sorted(by: { $0.key < $1.key }) {
            for (kind, n) in kinds.sorted(by: { $0.key < $1.key }) {
                m.counter("vxsw_xsk_kernel_drops_total", help: "Frames the kernel dropped on a port's AF_XDP sockets (XDP_STATISTICS).",
                          labels: ["port": port, "kind": kind], n)
            }
        }
        for t in stats.taps {
            m.counter("vxsw_tap_rx_superframes_total", help: "GSO super-frames received from a guest (segmented by vxsw).", labels: ["port": t.port], t.counters.rxSuperFrames)
            m.counter("vxsw_tap_rx_segments_total", help: "Segments cut from guests' super-frames.", labels: ["port": t.port], t.counters.rxSegments)
            m.counter("vxsw_tap_tx_superframes_total", help: "Coalesced (GRO) super-frames sent to a guest.", labels: ["port": t.port], t.counters.txSuperFrames)
        }
        if let audit = lock.withLock({ lastAudit }) {
            m.gauge("vxsw_consistency_differences", help: "Entries the last consistency audit found differing between the owner's tables, the worker's and the XDP maps.", Double(audit.differences))
            m.gauge("vxsw_consistency_audit_timestamp_seconds", help: "When the last consistency audit ran (Unix time).", audit.at.timeIntervalSince1970)
        }
        addBGPMetrics(&m)
        addFDBMetrics(&m, stats)
        m.gauge("vxsw_free_frames", help: "UMEM frames free for receive and flood copies.", Double(stats.freeFrames))
        m.counter("vxsw_fdb_events_held_back_total", help: "Report rounds a worker kept its FDB events for because the owner's ring was full (none is lost).",
                  stats.fdbEventsHeldBack)
        m.counter("vxsw_server_refused_connections_total", help: "Connections closed at once because the server had its most clients.",
                  labels: ["server": "control"], UInt64(control?.refusedConnections ?? 0))
        m.counter("vxsw_server_refused_connections_total", help: "Connections closed at once because the server had its most clients.",
                  labels: ["server": "metrics"], UInt64(metrics?.refusedConnections ?? 0))
        addProcessMetrics(&m)
        return m.render()
    }

    /// The FDB against its capacity, what the workers learned, aged out and saw move (in all and
    /// per VNI, every configured VNI from the start), and every drop reason (0 until it happens).
    func addFDBMetrics(_ m: inout PrometheusText, _ stats: StatsView) {
        m.gauge("vxsw_fdb_entries", help: "MACs in the FDB (local, remote and static, every VNI).",
                Double(stats.vnis.reduce(0) { $0 + $1.localMACs + $1.remoteMACs }))
        m.gauge("vxsw_fdb_capacity", help: "The FDB's size (fdb.max-entries).", Double(config.fdb.maxEntries))
        let changes = tables.fdbChangeCounts
        let all = changes.values.reduce(into: FDBChangeCounts()) { $0.learned &+= $1.learned; $0.aged &+= $1.aged; $0.moved &+= $1.moved }
        let kinds: [(String, String, KeyPath<FDBChangeCounts, UInt64>)] = [
            ("learned", "Sources learned from frames (local and remote learning).", \.learned),
            ("aged", "Learned MACs aged out.", \.aged),
            ("moved", "Learned MACs that moved to another port or VTEP.", \.moved),
        ]
        for (kind, help, key) in kinds {
            m.counter("vxsw_fdb_macs_\(kind)_total", help: help, all[keyPath: key])
            for vni in config.vnis.map(\.vni) {
                m.counter("vxsw_vni_macs_\(kind)_total", help: help + " Per VNI.", labels: ["vni": String(vni.value)],
                          changes[vni]?[keyPath: key] ?? 0)
            }
        }
        for reason in DropReason.allCases {
            m.counter("vxsw_drops_total", help: "Frames dropped, over all ports, by reason (every reason, 0 until it happens).",
                      labels: ["reason": reason.name], stats.drops[reason.name] ?? 0)
        }
    }

    /// `vxsw_build_info` and the client libraries' `process_*` series.
    func addProcessMetrics(_ m: inout PrometheusText) {
        // "vxsw 0.1.0 (commit abc123)": the version and the commit.
        let words = version.split(separator: " ")
        let commit = version.range(of: "(commit ").map { String(version[$0.upperBound...].prefix { $0 != ")" }) } ?? "unknown"
        m.gauge("vxsw_build_info", help: "1, labelled with the version and the commit vxsw was built from.",
                labels: ["version": words.count > 1 ? String(words[1]) : version, "commit": commit], 1)
        ProcessMetrics.read()?.add(to: &m)
    }

    /// Per configured BGP peer, from the same values as `show bgp neighbors`; every peer from the
    /// start (one not up yet: state `established` 0, counters 0).
    func addBGPMetrics(_ m: inout PrometheusText) {
        guard let speaker = evpn, let neighbors = try? blocking({ try await speaker.neighbors() }) else { return }
        for n in neighbors.neighbors {
            for state in BGPState.allCases {
                m.gauge("vxsw_bgp_session_state", help: "1 for the BGP session's current FSM state, 0 for the others.",
                        labels: ["peer": n.address, "state": state.rawValue.lowercased()], n.bgpState == state ? 1 : 0)
            }
            m.counter("vxsw_bgp_established_transitions_total", help: "Times the BGP session reached Established.",
                      labels: ["peer": n.address], UInt64(n.connectionsEstablished))
            let s = n.messageStats
            for (type, sent, received) in [("open", s.opensSent, s.opensRecv), ("update", s.updatesSent, s.updatesRecv),
                                           ("notification", s.notificationsSent, s.notificationsRecv),
                                           ("keepalive", s.keepalivesSent, s.keepalivesRecv),
                                           ("route_refresh", s.routeRefreshSent, s.routeRefreshRecv)] {
                m.counter("vxsw_bgp_messages_received_total", help: "BGP messages received from a peer, by type.",
                          labels: ["peer": n.address, "type": type], UInt64(received))
                m.counter("vxsw_bgp_messages_sent_total", help: "BGP messages sent to a peer, by type.",
                          labels: ["peer": n.address, "type": type], UInt64(sent))
            }
            let evpn = n.addressFamilyInfo.l2VpnEvpn, family = AFISAFI.l2vpnEVPN
            let l: KeyValuePairs<String, String> = ["peer": n.address, "afi": family.afiName, "safi": family.safiName]
            m.gauge("vxsw_bgp_prefixes_received", help: "Routes of a peer in the Adj-RIB-In.", labels: l, Double(evpn.receivedPrefixCounter))
            m.gauge("vxsw_bgp_prefixes_accepted", help: "Routes of a peer imported into a local VNI (used).", labels: l,
                    Double(evpn.acceptedPrefixCounter))
            m.gauge("vxsw_bgp_prefixes_sent", help: "Routes advertised to a peer (0 while the session is down).", labels: l,
                    Double(evpn.sentPrefixCounter ?? 0))
        }
        // Per local VNI, FRR's `show evpn mac vni N duplicate` as a number (an alert: a MAC flaps).
        let duplicates = (try? blocking({ try await speaker.withRIB { rib in rib.detector.duplicates } })) ?? []
        for vni in config.vnis.map(\.vni) {
            m.gauge("vxsw_evpn_duplicate_macs", help: "MACs found duplicate by dup-addr-detection (until cleared).",
                    labels: ["vni": String(vni.value)], Double(duplicates.filter { $0.vni == vni }.count))
        }
    }

    func startMetrics() throws {
        guard let address = config.control.metrics else { return }
        let server = MetricsServer(address: address) { [weak self] in self?.renderMetrics() ?? "" }
        try server.start()
        metrics = server
        log.info("metrics on http://\(server.address)/metrics")
    }
}
