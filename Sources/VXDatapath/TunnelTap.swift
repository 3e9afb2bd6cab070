import CVXSW
import Glibc
import VXCore

/// The way out for VXLAN super-frames: a tap vxsw writes whole encapsulated GSO packets
/// into, and a tc program (BPF/tunnel_tx.c, tcx ingress) that sends each one out of the
/// uplink as it is.
///
/// Why: a guest's TSO super-frame (up to 64 KB) to a remote VTEP would otherwise be cut
/// into ~45 segments in software and each encapsulated and sent through AF_XDP, which
/// cannot carry GSO metadata. The Linux bridge + kernel vxlan hand the uplink one GSO
/// packet, and the NIC (tunnel TSO, `tx-udp_tnl-segmentation`) or the kernel's GSO at the
/// last moment cuts it. A tap whose writes carry a UDP-tunnel GSO virtio-net header
/// (kernel 6.17+, `TUN_F_UDP_TUNNEL_GSO`) is the one door through which a user process
/// can hand the kernel such a packet; AF_PACKET's vnet header has no tunnel variant.
///
/// The tap has no address and IPv6 off, so the kernel sends nothing into it; it, its tcx
/// link and the program go away with the fd (the process ending included): nothing is left.
public final class TunnelTap {
    public let name: String
    public let ifindex: Int32
    /// Written by the workers (each `writev` is one packet; the kernel serialises them).
    public let fd: Int32
    private let object: BPFObject
    private let link: XDPLink

    /// Creates the tap and points its program at the uplink `uplinkIfindex`. Throws where
    /// the kernel lacks what it needs (the caller then segments super-frames, as before).
    public init(uplinkIfindex: Int32) throws {
        var raw = [CChar](repeating: 0, count: 16)
        var stage: Int32 = 0
        let fd = cvxsw_tunnel_tap_open("vxgso%d", &raw, &stage)
        guard fd >= 0 else {
            let step = ["open /dev/net/tun", "create the tap", "set its 24-byte vnet header", "enable UDP-tunnel GSO (TUNSETOFFLOAD)"]
            throw DatapathError("tunnel tap: \(step[max(0, min(3, Int(stage) - 1))])", result: fd,
                                hint: stage == 4 ? "UDP-tunnel GSO on a tap needs Linux 6.17 or later" : nil)
        }
        let name = String(cString: raw)
        do {
            // No IPv6 (no link-local address, no router solicitations into the uplink).
            try? "1\n".write(toFile: "/proc/sys/net/ipv6/conf/\(name)/disable_ipv6", atomically: false, encoding: .utf8)
            let index = Int32(bitPattern: if_nametoindex(name))
            guard index > 0 else { throw DatapathError("tunnel tap \(name): ifindex", errno: errno) }
            let object = try BPFObject("tunnel_tx", image: BPFObjects.tunnel_tx)
            var key: UInt32 = 0, target = UInt32(bitPattern: uplinkIfindex)
            let err = bpf_map_update_elem(try object.mapFD("tunnel_tx_target"), &key, &target, 0)
            guard err == 0 else { throw DatapathError("tunnel tap \(name): set its target", errno: errno) }
            let link = try XDPLink.tcxIngress(programFD: try object.programFD("tunnel_tx"), ifindex: index, what: "tunnel tap \(name)")
            let up = cvxsw_link_set_up(name)
            guard up == 0 else { link.detach(); throw DatapathError("tunnel tap \(name): set up", result: up) }
            self.object = object
            self.link = link
            self.name = name
            self.ifindex = index
            self.fd = fd
        } catch {
            close(fd)
            throw error
        }
    }

    deinit {
        link.detach()
        close(fd)
    }
}

/// What a worker counted of the super-frames it sent whole through the tunnel tap.
public struct TunnelCounters: Sendable, Codable, Equatable {
    /// Encapsulated super-frames written to the tunnel tap, and the wire packets they stand for.
    public var superFrames: UInt64 = 0
    public var segments: UInt64 = 0
    /// Writes the tap refused (each is also a counted drop on the uplink).
    public var refused: UInt64 = 0
    public init() {}

    public mutating func add(_ o: TunnelCounters) {
        superFrames &+= o.superFrames; segments &+= o.segments; refused &+= o.refused
    }
}

/// A worker's way into the tunnel tap: its fd (-1: none, super-frames are segmented), room
/// for one packet's headers (`VirtioTunnelHeader` + outer headers), and its counters.
@usableFromInline struct TunnelPort {
    @usableFromInline var fd: Int32 = -1
    /// The uplink's port, where the tap's refusals are counted.
    @usableFromInline var uplink: UInt16 = 0
    @usableFromInline let headers: UnsafeMutableRawPointer
    @usableFromInline var counters = TunnelCounters()
    @usableFromInline static var headerRoom: Int { 128 }

    init() { headers = .allocate(byteCount: Self.headerRoom, alignment: 16) }
    func deallocate() { headers.deallocate() }
}
