/// One VNI's object in FRR's JSON (`show evpn vni|mac|arp-cache …`), whose `vni all` form is
/// an object keyed by the VNI's number.
public protocol FRRVNIObject: Codable, Sendable {
    var vni: UInt32 { get set }
}

/// FRR's `… vni all` JSON: `{"1000": {…}, "2000": {…}}`. Decoded in VNI order; the number
/// comes from the key (some of FRR's objects do not carry it).
public struct FRRKeyedByVNI<Object: FRRVNIObject>: Codable, Sendable {
    public var objects: [Object]
    public init(_ objects: [Object]) { self.objects = objects }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: FRRJSONKey.self)
        for o in objects { try c.encode(o, forKey: FRRJSONKey(String(o.vni))) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: FRRJSONKey.self)
        objects = try c.allKeys.compactMap { k -> Object? in
            guard let vni = UInt32(k.stringValue) else { return nil }
            var o = try c.decode(Object.self, forKey: k)
            o.vni = vni
            return o
        }.sorted { $0.vni < $1.vni }
    }
}

extension EVPNMACTable: FRRVNIObject {}
extension EVPNVNIInfo: FRRVNIObject {}
extension EVPNARPCache: FRRVNIObject {}

/// `show evpn mac vni all`.
public typealias EVPNMACTables = FRRKeyedByVNI<EVPNMACTable>
/// `show evpn vni`.
public typealias EVPNVNIList = FRRKeyedByVNI<EVPNVNIInfo>
/// `show evpn arp-cache vni all`.
public typealias EVPNARPCaches = FRRKeyedByVNI<EVPNARPCache>

extension FRRKeyedByVNI where Object == EVPNMACTable {
    /// FRR's `show evpn mac vni all`: each VNI's table under its own heading.
    public func formatted() -> String {
        objects.map { t in "\nVNI \(t.vni) #MACs (local and remote) \(t.macs.count)\n\n" + t.rows() }.joined(separator: "\n")
    }
}

extension FRRKeyedByVNI where Object == EVPNARPCache {
    /// FRR's `show evpn arp-cache vni all`: each VNI's neighbours under its own heading.
    public func formatted() -> String {
        objects.map { t in "\nVNI \(t.vni) #ARP (IPv4 and IPv6, local and remote) \(t.neighbors.count)\n\n" + t.rows() }.joined(separator: "\n")
    }
}
