import VXCore

/// Something that follows the owner's copy entry by entry rather than update by update: the
/// XDP fast-path maps. Told, under the owner's lock, which FDB entries changed (keys
/// `bd << 48 | MAC`, as in `FDBEntry.key`) and whether anything else did (a port, VNI, VTEP,
/// next hop or flood list: `structural`). It reads the entries back later (`read`), so a
/// burst of changes to one MAC costs one look. Keep it short: note the keys and return.
public protocol TableObserver: AnyObject {
    func entriesChanged(_ keys: [UInt64], structural: Bool)
}

extension TableUpdate {
    /// The one FDB entry this update changes, nil when it changes something else.
    var fdbEntry: (vni: VNI, mac: MACAddress)? {
        switch self {
        case .addStaticPort(let v, let m, _), .addStaticVTEP(let v, let m, _), .removeStatic(let v, let m),
             .installEVPN(let v, let m, _, _), .withdrawEVPN(let v, let m):
            return (v, m)
        default:
            return nil
        }
    }

    /// Changes nothing the fast path mirrors (neighbours for ARP/ND suppression, last-seen).
    var leavesFastPathAlone: Bool {
        switch self {
        case .installNeighbor, .withdrawNeighbor, .refreshLearned, .setAgeLimit: return true
        // Routing (gateways, VRFs, routes, learned hosts) is structural: the fast path routes
        // the host addresses they resolve (`SwitchPipeline.fastHostRoutes`), derived again.
        default: return false
        }
    }
}
