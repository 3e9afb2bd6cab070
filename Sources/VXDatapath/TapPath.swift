import CVXSW
import Glibc

/// The tap path on one tap port (BPF/lib/tapfast.h): the filter on its packet socket decides,
/// the tc program on its ingress (tcx, a bpf_link) redirects. A VM's frame to another VM's tap
/// on this host then goes from tap to tap inside the kernel, whole, as through the Linux
/// bridge: no copy up into the worker and back down, no wakeup. Everything the filter does
/// not take reaches the socket and the engine as before.
///
/// Attached in that order (tc first), detached in the other: a frame the filter takes always
/// has its redirect waiting. The link goes with the process, like every vxsw program.
public final class TapPath {
    private let socketFD: Int32
    private let link: XDPLink
    private var filtered = true

    /// Attaches both programs of `program` to the tap behind `socket`; throws (nothing left
    /// attached) where the kernel refuses either.
    public init(program: XDPProgram, socket: PacketSocket) throws {
        link = try .tcxIngress(programFD: program.tapForwardFD, ifindex: socket.ifindex, what: "tap path on \(socket.interface)")
        var filter = program.tapFilterFD
        guard setsockopt(socket.fd, SOL_SOCKET, SO_ATTACH_BPF, &filter, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let e = errno
            link.detach()
            throw DatapathError("tap path on \(socket.interface): attach the socket filter (SO_ATTACH_BPF)", errno: e)
        }
        socketFD = socket.fd
    }

    /// Filter off first, then the redirect; call while the socket is still open.
    public func detach() {
        if filtered {
            var unused: Int32 = 0
            _ = setsockopt(socketFD, SOL_SOCKET, SO_DETACH_BPF, &unused, socklen_t(MemoryLayout<Int32>.size))
            filtered = false
        }
        link.detach()
    }

    deinit { link.detach() }
}
