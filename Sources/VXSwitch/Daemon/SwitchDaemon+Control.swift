import Foundation
import VXConfig
import VXControl
import VXCore

/// Answers control-socket requests (`vxsw show|port|fdb ...`), on a thread per connection
/// (several at once); every change to the tables goes through the owner (`tables.apply`).
extension SwitchDaemon {
    func handle(_ request: ControlRequest) -> ControlResponse {
        if case .show = request { return answer(request) }
        if case .ping = request { return answer(request) }
        if case .version = request { return answer(request) }
        return controlOps.withLock { answer(request) }
    }

    private func answer(_ request: ControlRequest) -> ControlResponse {
        do {
            switch request {
            case .ping:
                return .success("pong")
            case .version:
                return .success(JSONValue.string(version))
            case .show(let what):
                return .success(try show(what))
            case .portAdd(let port):
                let (id, new) = try addPort(port)
                if isRunTime(port) { try recordState { $0.record(port) } }
                return .success(JSONValue.string(new ? "attached \(port.name) as port \(id)"
                                                     : "\(port.name) is already attached as port \(id) with these settings"))
            case .portDel(let name):
                let removed = try removePort(named: name)
                var forgotten = false
                try recordState { state in
                    forgotten = state.ports.contains { $0.name == name }
                    state.ports.removeAll { $0.name == name }
                    // Detaching flushed its static MACs; they are not brought back by a restart either.
                    state.staticEntries.removeAll { $0.target == .port(name) }
                }
                if !removed && forgotten { return .success(JSONValue.string("\(name) is not attached; removed it from the state file")) }
                return .success(JSONValue.string(removed ? "detached \(name)" : "\(name) is not attached (nothing to do)"))
            case .fdbAdd(let entry):
                try addStatic(entry)
                if !config.fdb.staticEntries.contains(entry) { try recordState { $0.record(entry) } }
                return .success(JSONValue.string("added \(entry.mac) in VNI \(entry.vni)"))
            case .bgpRestart:
                try restartEVPN()
                return .success(JSONValue.string("BGP control plane restarted; forwarding kept"))
            case .reload:
                let changes = try reload()
                return .success(JSONValue.string(changes.isEmpty ? "reloaded: nothing changed" : "reloaded:\n  " + changes.joined(separator: "\n  ")))
            case .bgpClear(let ip):
                try clearBGP(ip)
                return .success(JSONValue.string("BGP sessions reset"))
            case .evpnDupClear(let vni, let mac):
                return .success(JSONValue.string(try clearDuplicates(vni: vni, mac: mac)))
            case .fdbDel(let vni, let mac):
                let removed = tables.apply(.removeStatic(vni, mac), wait: true)
                var forgotten = false
                try recordState { state in
                    forgotten = state.staticEntries.contains { $0.vni == vni && $0.mac == mac }
                    state.staticEntries.removeAll { $0.vni == vni && $0.mac == mac }
                }
                guard removed || forgotten else { throw SwitchError("no static entry for \(mac) in VNI \(vni)") }
                return .success(JSONValue.string("removed \(mac) from VNI \(vni)"))
            }
        } catch {
            return .failure("\(error)")
        }
    }

    private func show(_ what: ControlRequest.Show) throws -> JSONValue {
        if let answer = try showEVPN(what) { return answer }
        switch what {
        case .ports:
            return try JSONValue(encoding: portViews(snapshot()))
        case .mac(let vni, let page?):
            return try JSONValue(encoding: macPage(vni: vni, page: page))
        case .macCount(let vni):
            return try JSONValue(encoding: macCount(vni: vni))
        case .macTotal:
            return try JSONValue(encoding: MACTotal(total: tables.read { $0.fdb.count }))
        case .mac(let vni, nil), .evpnMAC(let vni, _):
            return try JSONValue(encoding: MACTable(entries: macViews(snapshot(vni: vni, rows: true))))
        case .vni(let vni), .evpnVNI(let vni):
            return try JSONValue(encoding: vniViews(snapshot(), only: vni))
        case .stats:
            return try JSONValue(encoding: statsView(snapshot()))
        case .config:
            return try JSONValue(encoding: config)
        case .consistency:
            return try JSONValue(encoding: auditConsistency())
        case .state:
            guard let path = config.control.stateFile else { return ["file": "off"] }
            guard case .object(var o) = lock.withLock({ runState.jsonValue }) else { return .null }
            o["file"] = .string(path)
            return .object(o)
        case .ipRoute(let vrf, let ipv6):
            return try JSONValue(encoding: routeTable(vrf: vrf, ipv6: ipv6))
        case .bgpSummary, .bgpEVPNSummary, .bgpNeighbors, .bgpRoutes, .evpnARPCache:
            throw SwitchError("BGP is not configured on this switch (no `bgp:` section)")
        }
    }
}

/// The version string `vxsw version` and the control socket report.
public let vxswVersion = "vxsw 0.1.0"
