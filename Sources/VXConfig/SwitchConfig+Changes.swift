import VXCore

/// Run-time changes (`vxsw port add`, `fdb add`, ...): each returns the changed config, validated
/// as a whole by the same rules as the file, so the daemon applies only what a file could say.
extension SwitchConfig {
    public func adding(_ port: Port) throws -> SwitchConfig {
        var changed = self
        changed.ports.append(port)
        try changed.validate()
        return changed
    }

    /// Removes the port `name`; a static FDB entry pointing at it is an error (remove that first).
    public func removingPort(named name: String) throws -> SwitchConfig {
        guard port(named: name) != nil else { throw ConfigError(path: "ports", problem: "no port named '\(name)'") }
        if let i = fdb.staticEntries.firstIndex(where: { $0.target == .port(name) }) {
            let e = fdb.staticEntries[i]
            throw ConfigError(
                path: "fdb.static[\(i)]", problem: "static entry \(e.mac) in VNI \(e.vni) uses port '\(name)'")
        }
        var changed = self
        changed.ports.removeAll { $0.name == name }
        try changed.validate()
        return changed
    }

    public func adding(_ entry: FDB.StaticEntry) throws -> SwitchConfig {
        var changed = self
        changed.fdb.staticEntries.append(entry)
        try changed.validate()
        return changed
    }

    public func removingStaticEntry(vni: VNI, mac: MACAddress) throws -> SwitchConfig {
        guard fdb.staticEntries.contains(where: { $0.vni == vni && $0.mac == mac }) else {
            throw ConfigError(path: "fdb.static", problem: "no static entry for \(mac) in VNI \(vni)")
        }
        var changed = self
        changed.fdb.staticEntries.removeAll { $0.vni == vni && $0.mac == mac }
        return changed
    }
}
