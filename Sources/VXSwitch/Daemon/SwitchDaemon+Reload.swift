import Foundation
import VXConfig
import VXCore

/// `vxsw reload` and SIGHUP: the config file read again and what changed applied while the
/// switch forwards (`SwitchConfig.reloadPlan`): VNIs, flood lists, ports, static MACs, MAC
/// limits, the aging time, VTEP admission (`vtep.accept`, `vtep.max-learned`), tenant VRFs
/// and gateways, the `bgp:` section (a graceful speaker restart). Everything else
/// is refused with its field named, and nothing is changed then. Ports added at run time
/// (hooks, the state file) are not the file's and stay.
extension SwitchDaemon {
    /// SIGHUP's reload, serialized with the control socket's changes.
    public func reloadFromSignal() throws {
        _ = try controlOps.withLock { try reload() }
    }

    @discardableResult
    func reload() throws -> [String] {
        guard let path = configPath else { throw SwitchError("reload: this switch was not started from a config file") }
        let new: SwitchConfig
        do { new = try SwitchConfig.load(path: path) } catch { throw SwitchError("\(path): \(error)") }
        let host = new.checkHost(HostFacts.live())
        guard host.errors.isEmpty else { throw SwitchError("\(path): " + host.errors.map(\.description).joined(separator: "; ")) }
        let old = config
        let plan: ReloadPlan
        do { plan = try old.reloadPlan(to: new) } catch { throw SwitchError("\(path): \(error)") }
        // A VNI may go only with its ports: a run-time port still in it keeps it.
        let attached = lock.withLock { portConfigs }
        for vni in plan.vnisToRemove {
            if let (_, port) = attached.first(where: { $0.value.vnis.contains(vni) && !plan.portsToRemove.contains($0.value.name) }) {
                throw SwitchError("\(path): vnis: VNI \(vni) still has port \(port.name) (vxsw port del \(port.name) first)")
            }
        }
        guard !plan.isEmpty else { return [] }

        let learnWithoutBGP = new.bgp == nil
        // Routing first loses what goes (gateways, then VRFs), so an L3 VNI that becomes an L2
        // VNI, or the reverse, is free when it is set again.
        if !plan.gatewaysToClear.isEmpty { tables.apply(plan.gatewaysToClear.map { .setGateway($0, nil) }, wait: true) }
        if !plan.vrfsToRemove.isEmpty { tables.apply(plan.vrfsToRemove.map { .removeVRF($0) }, wait: true) }
        for v in plan.vnisToSet {
            guard tables.apply(v.tableUpdate(learnRemote: learnWithoutBGP, in: new), wait: true) else {
                throw SwitchError("\(path): vnis: more VNIs than the switch table holds")
            }
        }
        tables.apply(plan.floodToAdd.map { .addFlood($0.vni, $0.vtep, .static) }
                     + plan.floodToRemove.map { .removeFlood($0.vni, $0.vtep, origin: .static) }, wait: true)
        for entry in plan.staticsToRemove { tables.apply(.removeStatic(entry.vni, entry.mac), wait: true) }
        for name in plan.portsToRemove { try removePort(named: name) }
        replaceConfig(new)
        var problems: [String] = []
        for port in plan.portsToAdd {
            do { try addOrAwait(port) } catch { problems.append("port \(port.name): \(error)") }
        }
        for entry in plan.staticsToAdd {
            do { try addStatic(entry) } catch { problems.append("\(error)") }
        }
        if !plan.vnisToRemove.isEmpty { tables.apply(plan.vnisToRemove.map { .removeVNI($0) }, wait: true) }
        if let aging = plan.agingTime { tables.apply(.setAgeLimit(aging == 0 ? .max : UInt32(aging)), wait: true) }
        if let admission = plan.vtepAdmission { tables.apply(.setVTEPAdmission(admission), wait: true) }
        for vrf in plan.vrfsToSet where !tables.apply(.addVRF(vrf.l3VNI, routerMAC: new.routerMAC(of: vrf)), wait: true) {
            problems.append("VRF \(vrf.name): L3 VNI \(vrf.l3VNI) could not be set (more VRFs or VNIs than the switch table holds?)")
        }
        for v in plan.gatewaysToSet {
            guard let g = v.gateway, let vrf = new.vrf(of: v.vni),
                  tables.apply(.setGateway(v.vni, Gateway(vrf: vrf.l3VNI, mac: g.mac, ipv4: g.ipv4, ipv6: g.ipv6)), wait: true)
            else { problems.append("VNI \(v.vni): its gateway could not be set"); continue }
        }
        evpnFeed?.connectedSubnets = Self.connectedSubnets(new)
        evpn?.setLocalVNIs(Set(new.vnis.map(\.vni)))
        if plan.restartBGP {
            do { try restartEVPN() } catch { problems.append("bgp: \(error)") }
        }
        let summary = plan.summary + problems.map { "not applied: \($0)" }
        log.info("reloaded \(path): " + summary.joined(separator: "; "))
        return summary
    }
}
