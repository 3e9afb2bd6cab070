import Foundation
import VXConfig
import VXCore

/// The keys and nesting of a `show … json` answer, without its values: one path a leaf, the
/// keys that name entries (a VNI, a MAC, an address, a route distinguisher, a prefix) written
/// as `<vni>`, `<mac>`, `<ip>`, `<rd>`, `<prefix>`, arrays as `[]`, each leaf with its kind:
/// `<vni>.macs.<mac>.intf=string`, `<rd>.<prefix>.paths[][].nexthops[].ip=string`.
enum FRRShape {
    static func paths(_ v: JSONValue, _ prefix: String = "") -> Set<String> {
        switch v {
        case .object(let o):
            if o.isEmpty { return [prefix + "={}"] }
            var out: Set<String> = []
            for (k, value) in o { out.formUnion(paths(value, (prefix.isEmpty ? "" : prefix + ".") + entry(k))) }
            return out
        case .array(let a):
            if a.isEmpty { return [prefix + "[]"] }
            return a.reduce(into: Set<String>()) { $0.formUnion(paths($1, prefix + "[]")) }
        case .string: return [prefix + "=string"]
        case .int, .double: return [prefix + "=number"]
        case .bool: return [prefix + "=bool"]
        case .null: return [prefix + "=null"]
        }
    }

    /// What a key stands for when it names an entry; the key itself otherwise.
    static func entry(_ k: String) -> String {
        if !k.isEmpty, k.allSatisfy(\.isNumber) { return "<vni>" }
        if MACAddress(k) != nil, k.count == 17 { return "<mac>" }
        if k.hasPrefix("[") { return "<prefix>" }
        if IPAddress(k) != nil { return "<ip>" }
        if k.split(separator: ":").count == 2, k.split(separator: ":").last?.allSatisfy(\.isNumber) == true { return "<rd>" }
        return k
    }

    /// A captured FRR 8.4.4 answer (`Tests/Fixtures/frr-8.4.4/NAME.json`).
    static func fixture(_ name: String) throws -> JSONValue {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/frr-8.4.4")
        return try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: dir.appendingPathComponent(name + ".json")))
    }

    /// FRR's paths vxsw lacks and vxsw's that FRR lacks, each less what is documented
    /// (`omitted`: FRR's keys vxsw leaves out; `extra`: vxsw's own keys), as path suffixes.
    static func differences(frr: JSONValue, vxsw: JSONValue, omitted: [String] = [], extra: [String] = []) -> (missing: [String], added: [String]) {
        let f = paths(frr), x = paths(vxsw)
        func documented(_ p: String, _ list: [String]) -> Bool {
            let keys = p.split(separator: ".").map { $0.split(separator: "=").first.map { String($0).replacingOccurrences(of: "[]", with: "") } ?? "" }
            return keys.contains { list.contains($0) }
        }
        return (f.subtracting(x).filter { !documented($0, omitted) }.sorted(), x.subtracting(f).filter { !documented($0, extra) }.sorted())
    }
}

/// The documented differences per command (README of `Sources/VXEVPN/Show`).
enum FRRShapeRules {
    static let macOmitted: [String] = []
    static let macExtra = ["neighbors", "stickyMac"]
    static let vniExtra = ["rd", "importRts", "exportRts", "numLocalMacs", "numRemoteMacs"]
    static let vniDetailOmitted = ["ifindex", "sviInterface", "sviIfindex"]
    static let summaryOmitted = ["ribMemory", "peerMemory", "hostname"]
    static let summaryExtra = ["lastError", "gracefulRestartStale"]
    static let routeOmitted = ["selectionReason", "metric", "hostname"]
    static let routeExtra = ["label", "pmsi", "stale"]
}
