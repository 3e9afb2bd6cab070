import VXCore

/// MAC limits: how many MACs a VNI and a VM port may have learned, so that one VM flooding
/// random source MACs (or one busy VNI) cannot take the whole FDB from the others.
///
/// - `fdb.vni-mac-limit` (default `auto` = a quarter of `fdb.max-entries`, 32,768 at the default
///   131,072): each VNI without its own `mac-limit`;
/// - `fdb.port-mac-limit` (default `auto` = an eighth of `fdb.max-entries`, 16,384): each VM
///   port without its own `mac-limit`, all its VNIs together (locally learned MACs);
/// - `vnis[i].mac-limit`, `ports[i].mac-limit`: that VNI's or port's own; `0` or `off` = none.
///
/// Four full VNIs or eight full ports are needed to fill the table, so a single VM, or a single
/// tenant, leaves room for everyone else; legitimate VMs need one MAC each (a container or
/// nested-virtualisation host some hundreds), far below either. Static and EVPN entries never
/// count. A source beyond a limit is not learned (counted in `macLimitHits` of the VNI or the
/// port: `vxsw show vni`, `show ports`, metrics); its frames are still forwarded, as a bridge does.
extension SwitchConfig {
    /// The most MACs `vni` may learn, nil: unlimited.
    public func macLimit(of vni: VNIConfig) -> Int? {
        Self.effective(vni.macLimit ?? fdb.defaultVNIMACLimit)
    }

    /// The most MACs `port` may learn, nil: unlimited.
    public func macLimit(of port: Port) -> Int? {
        Self.effective(port.macLimit ?? fdb.defaultPortMACLimit)
    }

    static func effective(_ limit: Int) -> Int? { limit == 0 ? nil : limit }

    /// The largest MAC limit a field takes (`fdb.max-entries`' own maximum).
    static let macLimitRange = 0...16_777_216

    /// `auto` (nil: the default), `off` (0: none) or a number of MACs.
    static func readMACLimit(_ field: Field?) throws -> Int? {
        guard let field else { return nil }
        switch field.value {
        case .string("auto"): return nil
        case .string("off"), .bool(false): return 0
        default: return try field.int(in: macLimitRange)
        }
    }

    /// A limit as the file would hold it.
    static func macLimitJSON(_ limit: Int?) -> JSONValue {
        guard let limit else { return "auto" }
        return limit == 0 ? "off" : JSONValue(limit)
    }
}

extension SwitchConfig.FDB {
    /// `vni-mac-limit`: set, or `auto` (a quarter of `max-entries`).
    public var defaultVNIMACLimit: Int { vniMACLimit ?? maxEntries / 4 }
    /// `port-mac-limit`: set, or `auto` (an eighth of `max-entries`).
    public var defaultPortMACLimit: Int { portMACLimit ?? maxEntries / 8 }
}
