import VXControl
import VXConfig
import VXCore
import VXEVPN

/// `show bgp …` and `show evpn …` as FRR 8.4 answers them (`Show/README.md`: the JSON rule):
/// from the speaker with a `bgp:` section; `show evpn vni|mac` without one from the switch's own
/// tables, in the same shapes. A VNI that is not configured is an error, naming it.
extension SwitchDaemon {
    func showEVPN(_ what: ControlRequest.Show) throws -> JSONValue? {
        guard let speaker = evpn else { return try showEVPNFromTables(what) }
        switch what {
        case .bgpSummary:
            return try JSONValue(encoding: BGPSummaryByFamily(blocking { try await speaker.summary() }))
        case .bgpEVPNSummary:
            return try JSONValue(encoding: blocking { try await speaker.summary() })
        case .bgpNeighbors(let address):
            return try JSONValue(encoding: blocking { try await speaker.neighbors(address) })
        case .bgpRoutes(let type, let vni):
            if let vni { try requireVNI(vni, l3: false) }
            let code = type?.code
            return try JSONValue(encoding: blocking { try await speaker.evpnRoutes(routeType: code, vni: vni) })
        case .evpnVNI(let vni):
            if let vni { try requireVNI(vni, l3: true) }
            let rows = try blocking { try await speaker.vnis(vni) }
            if vni != nil, let one = rows.first { return try JSONValue(encoding: EVPNVNIDetail(one)) }
            return try JSONValue(encoding: EVPNVNIList(rows))
        case .evpnMAC(let vni, let duplicate):
            if let vni { try requireVNI(vni, l3: false) }
            let vnis = vni.map { [$0] } ?? config.vnis.map(\.vni)
            var tables = try blocking { () -> [EVPNMACTable] in
                var tables: [EVPNMACTable] = []
                for v in vnis { tables.append(try await speaker.macs(vni: v, duplicatesOnly: duplicate)) }
                return tables
            }
            // FRR's `intf`: the port a local MAC is behind, from the FDB.
            for i in tables.indices {
                let ports = localPorts(VNI(unchecked: tables[i].vni))
                for j in tables[i].macs.indices where tables[i].macs[j].type == "local" {
                    tables[i].macs[j].intf = ports[tables[i].macs[j].mac]
                }
            }
            return try macTablesJSON(tables, one: vni != nil)
        case .evpnARPCache(let vni?):
            try requireVNI(vni, l3: false)
            return try JSONValue(encoding: blocking { try await speaker.arpCache(vni: vni) })
        case .evpnARPCache(nil):
            let vnis = config.vnis.map(\.vni)
            return try JSONValue(encoding: EVPNARPCaches(blocking { () -> [EVPNARPCache] in
                var caches: [EVPNARPCache] = []
                for v in vnis { caches.append(try await speaker.arpCache(vni: v)) }
                return caches
            }))
        default:
            return nil
        }
    }

    /// Without BGP: `show evpn vni|mac` from the switch's tables (no RD, route targets or sequence
    /// numbers: the FDB's), the shapes the speaker's answers have.
    private func showEVPNFromTables(_ what: ControlRequest.Show) throws -> JSONValue? {
        switch what {
        case .evpnVNI(let vni):
            if let vni { try requireVNI(vni, l3: false) }
            let rows = vniViews(snapshot(), only: vni).map { v in
                EVPNVNIInfo(vni: v.vni, rd: "", importRTs: [], exportRTs: [], localMACs: v.localMACs, remoteMACs: v.remoteMACs,
                            arps: v.neighbors, remoteVTEPs: v.floodList, localVTEP: localVTEPText)
            }
            if vni != nil, let one = rows.first { return try JSONValue(encoding: EVPNVNIDetail(one)) }
            return try JSONValue(encoding: EVPNVNIList(rows))
        case .evpnMAC(let vni, let duplicate):
            if let vni { try requireVNI(vni, l3: false) }
            let views = macViews(snapshot(vni: vni, rows: true))
            let vnis = vni.map { [$0.value] } ?? config.vnis.map(\.vni.value)
            let tables = vnis.map { v in
                EVPNMACTable(vni: v, macs: duplicate ? [] : views.filter { $0.vni == v }.map { m in
                    let local = m.port != nil
                    return EVPNMACTable.Entry(mac: m.mac, type: local ? "local" : "remote", vtep: local ? nil : m.vtep, ip: nil, ips: [],
                                              localSequence: local ? m.sequence : 0, remoteSequence: local ? 0 : m.sequence,
                                              sticky: m.sticky, detectionCount: 0, isDuplicate: false, intf: m.port)
                })
            }
            return try macTablesJSON(tables, one: vni != nil)
        default:
            return nil
        }
    }

    /// One VNI's table (`vni N`), or FRR's object keyed by VNI (`vni all`).
    private func macTablesJSON(_ tables: [EVPNMACTable], one: Bool) throws -> JSONValue {
        if one, let t = tables.first { return try JSONValue(encoding: t) }
        return try JSONValue(encoding: EVPNMACTables(tables))
    }

    /// MAC (text) → port name, for the VNI's MACs behind a port.
    private func localPorts(_ vni: VNI) -> [String: String] {
        var ports: [String: String] = [:]
        for m in macViews(snapshot(vni: vni, rows: true)) { if let p = m.port { ports[m.mac] = p } }
        return ports
    }

    private var localVTEPText: String { (config.vtep.ipv4 ?? config.vtep.ipv6)?.description ?? "" }

    /// FRR's "% VNI N does not exist" (as an error: `{"error": …}` under `--json`).
    private func requireVNI(_ vni: VNI, l3: Bool) throws {
        if config.vnis.contains(where: { $0.vni == vni }) || (l3 && config.vrfs.contains { $0.l3VNI == vni }) { return }
        throw SwitchError("VNI \(vni) does not exist")
    }
}
