import VXCore
import VXEVPN

/// The routes a `BGPFeeder` sends, pre-encoded with VXEVPN's codec: N type-2 routes (MAC only,
/// `MAC(i)` = 02:00:00:00:00:00 + i + 1) spread round-robin over V VNIs (`firstVNI` ...), one
/// type-3 per VNI, each VNI with RT ASN:VNI, RD NEXTHOP:INDEX (each VTEP its own, as FRR's auto
/// RD), encapsulation VXLAN. Type-2 NLRI of one VNI share an UPDATE, as many as fit 4096 bytes.
/// A churn announces the same MACs from another VTEP (its next hop and RD) with a higher MAC
/// mobility sequence: every MAC moves there, as after a VM migration.
public struct EVPNRouteFeed: Sendable {
    public let routes: Int
    public let vnis: [UInt32]
    public let asn: UInt32

    public init(routes: Int, vniCount: Int, firstVNI: UInt32 = 1000, asn: UInt32) {
        self.routes = routes
        self.vnis = (0..<vniCount).map { firstVNI + UInt32($0) }
        self.asn = asn
    }

    public static func mac(_ i: Int) -> MACAddress { MACAddress(raw: 0x02_00_00_00_00_00 + UInt64(i) + 1) }
    /// The VNI route `i` is in.
    public func vni(of i: Int) -> UInt32 { vnis[i % vnis.count] }
    /// A MAC outside the N routes, in the first VNI: the last route of a stream, so its arrival
    /// says every UPDATE before it was handled.
    public static let markerMAC = MACAddress(raw: 0x02_FF_00_00_00_01)

    func rd(_ vniIndex: Int, _ vtep: IPAddress) -> RouteDistinguisher {
        .ipv4(UInt32(truncatingIfNeeded: vtep.lo), UInt16(truncatingIfNeeded: vniIndex + 1))
    }

    func attributes(vni: UInt32, nextHop: IPAddress, sequence: UInt32, routes: [EVPNRoute]) -> PathAttributes {
        var a = PathAttributes()
        a.origin = .igp
        a.asPath = []
        a.localPref = 100
        a.extendedCommunities = [.routeTarget(.as2(UInt16(truncatingIfNeeded: asn), vni)), .vxlanEncapsulation]
        if sequence > 0 { a.extendedCommunities.append(.macMobility(sticky: false, sequence: sequence)) }
        a.mpReach = MPReachNLRI(nextHop: nextHop, routes: routes)
        return a
    }

    /// Splits `routes` into UPDATEs of at most 4096 bytes made by `make`.
    func pack(_ routes: [EVPNRoute], _ make: ([EVPNRoute]) -> [UInt8]) -> [[UInt8]] {
        guard !routes.isEmpty else { return [] }
        // The size of one NLRI from the difference of two encodings; then as many as fit.
        let one = make([routes[0]]).count
        let perRoute = routes.count > 1 ? make(Array(routes.prefix(2))).count - one : 0
        var fit = perRoute > 0 ? max(1, (BGPMessage.maxLength - one - 2) / perRoute + 1) : routes.count
        var out: [[UInt8]] = []
        var i = 0
        while i < routes.count {
            let slice = Array(routes[i..<min(routes.count, i + fit)])
            let m = make(slice)
            if m.count > BGPMessage.maxLength && fit > 1 { fit -= 1; continue }
            out.append(m)
            i += slice.count
        }
        return out
    }

    func macRoutes(vniIndex: Int, vtep: IPAddress) -> [EVPNRoute] {
        let vni = vnis[vniIndex]
        return stride(from: vniIndex, to: routes, by: vnis.count).map {
            .macIP(EVPNMACIPRoute(rd: rd(vniIndex, vtep), mac: Self.mac($0), label1: vni))
        }
    }

    /// One type-3 per VNI, then the N type-2 routes from `nextHop`.
    public func announce(nextHop: IPAddress, sequence: UInt32 = 0, withIMET: Bool = true) -> [[UInt8]] {
        var out: [[UInt8]] = []
        if withIMET {
            for (j, vni) in vnis.enumerated() {
                let imet = EVPNRoute.imet(EVPNIMETRoute(rd: rd(j, nextHop), originator: nextHop))
                out.append(BGPMessage.update(BGPUpdate(attributes: attributes(vni: vni, nextHop: nextHop, sequence: 0, routes: [imet]))).encode())
            }
        }
        for (j, vni) in vnis.enumerated() {
            out += pack(macRoutes(vniIndex: j, vtep: nextHop)) {
                BGPMessage.update(BGPUpdate(attributes: attributes(vni: vni, nextHop: nextHop, sequence: sequence, routes: $0))).encode()
            }
        }
        return out
    }

    /// The marker route (`markerMAC` in the first VNI) from `nextHop`.
    public func marker(nextHop: IPAddress, sequence: UInt32) -> [UInt8] {
        let r = EVPNRoute.macIP(EVPNMACIPRoute(rd: rd(0, nextHop), mac: Self.markerMAC, label1: vnis[0]))
        return BGPMessage.update(BGPUpdate(attributes: attributes(vni: vnis[0], nextHop: nextHop, sequence: sequence, routes: [r]))).encode()
    }

    /// MP_UNREACH for every type-2 route (and the marker) from each of `vteps`; the type-3 routes stay.
    public func withdrawAll(vteps: [IPAddress]) -> [[UInt8]] {
        var all: [EVPNRoute] = []
        for vtep in vteps {
            for j in vnis.indices { all += macRoutes(vniIndex: j, vtep: vtep) }
            all.append(.macIP(EVPNMACIPRoute(rd: rd(0, vtep), mac: Self.markerMAC, label1: vnis[0])))
        }
        return pack(all) { routes in
            var a = PathAttributes()
            a.mpUnreach = MPUnreachNLRI(routes: routes)
            return BGPMessage.update(BGPUpdate(attributes: a)).encode()
        }
    }
}
