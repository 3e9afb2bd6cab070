import VXConfig
import VXCore

/// Tenant VRFs and anycast gateways from the config into the tables, and `show ip route vrf`.
/// Routes come from the gateways' subnets (connected) and the hosts they learn; the EVPN
/// phase adds type-2 host routes and type-5 prefixes through the same `TableUpdate`s.
extension SwitchDaemon {
    /// The updates that create the config's VRFs and put their L2 VNIs' gateways in place
    /// (after the VNIs exist).
    static func routingUpdates(_ config: SwitchConfig) -> [TableUpdate] {
        var updates = config.vrfs.map { TableUpdate.addVRF($0.l3VNI, routerMAC: config.routerMAC(of: $0)) }
        for v in config.vnis {
            guard let g = v.gateway, let vrf = config.vrf(of: v.vni) else { continue }
            updates.append(.setGateway(v.vni, Gateway(vrf: vrf.l3VNI, mac: g.mac, ipv4: g.ipv4, ipv6: g.ipv6)))
        }
        return updates
    }

    func installRouting() throws {
        let updates = Self.routingUpdates(config)
        for (update, ok) in zip(updates, tables.apply(updates)) where !ok {
            throw ConfigError(path: "vrfs", problem: "could not apply \(update) (more VRFs or VNIs than the switch table holds?)")
        }
    }

    /// `show ip route vrf NAME` / `show ipv6 route vrf NAME`.
    func routeTable(vrf wanted: String, ipv6: Bool) throws -> RouteTableView {
        guard let vrf = config.vrf(named: wanted) else {
            let names = config.vrfs.map(\.name)
            throw SwitchError("no VRF named '\(wanted)'" + (names.isEmpty ? " (no vrfs configured)" : "; VRFs: \(names.joined(separator: ", "))"))
        }
        let rows = tables.read { $0.routeRows(vrf: vrf.l3VNI) }.filter { $0.prefix.isIPv4 != ipv6 }
        return RouteTableView(
            vrf: vrf.name, l3VNI: vrf.l3VNI.value, routerMAC: config.routerMAC(of: vrf).description,
            routes: rows.map { r in
                RouteView(prefix: r.prefix.description, type: r.source.rawValue, vni: r.vni?.value, mac: r.mac?.description,
                          vtep: r.vtep?.description, port: r.port.map { name(of: $0) })
            })
    }
}
