import VXCore

/// PMSI Tunnel attribute (RFC 6514 §5). vxsw uses ingress replication (type 6): the tunnel
/// identifier is the originating VTEP address and, for VXLAN (RFC 8365 §5.1.3), the label
/// field carries the 24-bit VNI.
public struct PMSITunnel: Hashable, Sendable, CustomStringConvertible {
    public var flags: UInt8
    public var tunnelType: UInt8
    public var label: UInt32
    public var tunnelID: [UInt8]

    public static let ingressReplication: UInt8 = 6

    public init(flags: UInt8 = 0, tunnelType: UInt8, label: UInt32, tunnelID: [UInt8]) {
        self.flags = flags; self.tunnelType = tunnelType; self.label = label & 0xFF_FFFF; self.tunnelID = tunnelID
    }
    public static func ingressReplication(vni: VNI, vtep: IPAddress) -> PMSITunnel {
        PMSITunnel(tunnelType: ingressReplication, label: vni.value, tunnelID: vtep.bytes)
    }

    /// The replication endpoint for ingress replication; nil for other tunnel types or a bad length.
    public var ingressReplicationEndpoint: IPAddress? {
        guard tunnelType == PMSITunnel.ingressReplication else { return nil }
        var r = ByteReader(tunnelID)
        return r.ip(length: tunnelID.count)
    }

    public var description: String {
        let id = ingressReplicationEndpoint.map { "\($0)" } ?? hexString(tunnelID)
        return tunnelType == PMSITunnel.ingressReplication ? "IR label \(label) endpoint \(id)" : "type \(tunnelType) label \(label) id \(id)"
    }

    func encode(into out: inout [UInt8]) {
        out.put8(flags); out.put8(tunnelType); out.put24(label); out.append(contentsOf: tunnelID)
    }
    static func decode(_ r: inout ByteReader) -> PMSITunnel? {
        guard let flags = r.u8(), let type = r.u8(), let label = r.u24(), let id = r.take(r.remaining) else { return nil }
        let p = PMSITunnel(flags: flags, tunnelType: type, label: label, tunnelID: id)
        // An ingress-replication endpoint must be a whole IPv4 or IPv6 address.
        if type == ingressReplication && p.ingressReplicationEndpoint == nil { return nil }
        return p
    }
}
