// What vxsw knows about drivers without asking them. Everything here is
// "by driver knowledge" (mainline Linux 6.x), never measured on this host,
// and the report says so.

public enum Support: String, Codable, Sendable {
    case yes, no, unknown
}

public struct XDPSupport: Codable, Equatable, Sendable {
    /// Native (driver-mode) XDP; generic (SKB) XDP works on every device.
    public var native: Support
    /// AF_XDP zero-copy (XDP_ZEROCOPY bind).
    public var zeroCopy: Support
    /// Always "by driver knowledge" plus any caveat.
    public var basis: String
}

public enum DriverKnowledge {
    static let nativeXDP: Set<String> = [
        "veth", "virtio_net", "tun", "ixgbe", "ixgbevf", "i40e", "ice", "igb", "igc", "idpf",
        "mlx4_en", "mlx5_core", "bnxt_en", "qede", "nfp", "ena", "sfc", "gve", "hv_netvsc",
        "stmmac", "mvneta", "mvpp2", "dpaa2-eth", "enetc", "fec", "ionic", "rvu_nicpf", "nicvf", "tsnep",
    ]
    static let zeroCopy: Set<String> = [
        "ixgbe", "i40e", "ice", "igb", "igc", "idpf", "mlx5_core", "stmmac", "gve", "rvu_nicpf", "enetc", "tsnep",
    ]
    static let caveats: [String: String] = [
        "virtio_net": "native XDP needs a multiqueue virtio device with at least as many queue pairs as CPUs for XDP_TX/redirect; zero-copy AF_XDP only from kernel 6.11",
        "veth": "native XDP needs NAPI on the receiving veth (GRO on, or an XDP program on it); never zero-copy",
        "ixgbe": "native XDP needs LRO (RSC) off and MTU ≤ 3K without multi-buffer",
        "mlx5_core": "native XDP needs LRO and hw-GRO off",
        "bnxt_en": "native XDP needs hw-GRO/LRO off",
    ]

    public static func xdp(driver: String?, kernelRelease: String? = nil) -> XDPSupport {
        guard let d = driver else {
            return XDPSupport(native: .unknown, zeroCopy: .unknown, basis: "cannot tell: driver unknown")
        }
        var basis = "by driver knowledge (\(d))"
        if let c = caveats[d] { basis += ": " + c }
        var zc: Support = zeroCopy.contains(d) ? .yes : (nativeXDP.contains(d) ? .no : .unknown)
        if d == "virtio_net" {
            zc = kernelAtLeast(kernelRelease, 6, 11).map { $0 ? .yes : .no } ?? .unknown
        }
        return XDPSupport(native: nativeXDP.contains(d) ? .yes : .unknown, zeroCopy: zc, basis: basis)
    }

    static func kernelAtLeast(_ release: String?, _ major: Int, _ minor: Int) -> Bool? {
        guard let r = release else { return nil }
        let parts = r.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else { return nil }
        return (parts[0], parts[1]) >= (major, minor)
    }
}
