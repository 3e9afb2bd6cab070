import CLinuxKernel
import Glibc

/// An AF_PACKET socket on one interface that carries the virtio-net header
/// (`PACKET_VNET_HDR`): how vxsw talks to a VM's tap.
///
/// Why not AF_XDP on a tap: qemu opens its tap with `IFF_VNET_HDR` and offers TSO, so the
/// guest writes TCP super-frames up to 64 KB. XDP sees them without their GSO metadata
/// (segment size, checksum offsets) and AF_XDP cannot hold them in a 4 KB frame
/// (`xdp_redirect_err -28`). A packet socket with `PACKET_VNET_HDR` receives each one whole
/// with its `virtio_net_hdr`, and toward the guest it takes a large frame with a header
/// that tells the tap (and so the guest's virtio-net) it is a GSO packet: the guest gets
/// 64 KB frames as the Linux bridge hands it, not 40 times as many 1500-byte ones.
public final class PacketSocket {
    public let interface: String
    public let ifindex: Int32
    public let fd: Int32

    /// Bytes of kernel buffer per direction: a few dozen 64 KB super-frames, so a burst
    /// from a guest is not dropped while the worker is busy with the previous one.
    public static let bufferBytes: Int32 = 8 << 20

    public init(interface: String, ifindex: Int32) throws {
        self.interface = interface
        self.ifindex = ifindex
        let protocolAll = UInt16(ETH_P_ALL).bigEndian
        let s = socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                       Int32(protocolAll))
        guard s >= 0 else { throw DatapathError("open packet socket on \(interface)", errno: errno) }
        fd = s
        do {
            try option(PACKET_VNET_HDR, 1, "PACKET_VNET_HDR")
            // Our own transmissions would otherwise come back as receptions.
            try option(PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING")
            try socketOption(SO_RCVBUFFORCE, Self.bufferBytes, "SO_RCVBUFFORCE")
            try socketOption(SO_SNDBUFFORCE, Self.bufferBytes, "SO_SNDBUFFORCE")
            var sll = sockaddr_ll()
            sll.sll_family = UInt16(AF_PACKET)
            sll.sll_protocol = protocolAll
            sll.sll_ifindex = ifindex
            let rc = withUnsafePointer(to: &sll) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_ll>.size)) }
            }
            guard rc == 0 else { throw DatapathError("bind packet socket to \(interface)", errno: errno) }
        } catch {
            close(s)
            throw error
        }
    }

    deinit { close(fd) }

    private func option(_ name: Int32, _ value: Int32, _ label: String) throws {
        var v = value
        guard setsockopt(fd, SOL_PACKET, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw DatapathError("\(label) on \(interface)", errno: errno)
        }
    }

    private func socketOption(_ name: Int32, _ value: Int32, _ label: String) throws {
        var v = value
        guard setsockopt(fd, SOL_SOCKET, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw DatapathError("\(label) on \(interface)", errno: errno)
        }
    }

    /// Frames the kernel dropped because this socket's receive buffer was full, since the
    /// last call (`PACKET_STATISTICS` resets on read).
    public static func takeKernelDrops(fd: Int32) -> UInt64 {
        var stats = tpacket_stats()
        var len = socklen_t(MemoryLayout<tpacket_stats>.size)
        guard getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &stats, &len) == 0 else { return 0 }
        return UInt64(stats.tp_drops)
    }
}
