import CVXSW
import Glibc

/// One AF_XDP socket bound to (interface, queue) on the shared UMEM, with its four rings.
/// The ring structs are heap-allocated because libxdp keeps their addresses.
public final class XSKSocket {
    public let interface: String
    public let queue: Int
    public let fd: Int32
    let handle: OpaquePointer
    public let rx: UnsafeMutablePointer<xsk_ring_cons>
    public let tx: UnsafeMutablePointer<xsk_ring_prod>
    public let fill: UnsafeMutablePointer<xsk_ring_prod>
    public let comp: UnsafeMutablePointer<xsk_ring_cons>
    private let ownsFillComp: Bool
    /// True when the socket has SO_BUSY_POLL set: the worker then calls `recvfrom` on an empty
    /// rx ring, which is what lets the kernel busy-poll the device's NAPI from the worker's CPU.
    public let busyPolls: Bool

    /// Creates and binds the socket. The first socket on a UMEM takes the UMEM's own
    /// fill/completion rings and fixes the bind mode (copy + need_wakeup) for all others.
    public init(umem: UMEM, interface: String, queue: Int, ringSize: Int, busyPoll: XSKBusyPoll? = nil) throws {
        self.interface = interface
        self.queue = queue
        rx = .allocate(capacity: 1); rx.initialize(to: xsk_ring_cons())
        tx = .allocate(capacity: 1); tx.initialize(to: xsk_ring_prod())
        if umem.firstRingsTaken {
            fill = .allocate(capacity: 1); fill.initialize(to: xsk_ring_prod())
            comp = .allocate(capacity: 1); comp.initialize(to: xsk_ring_cons())
            ownsFillComp = true
        } else {
            fill = umem.firstFill
            comp = umem.firstComp
            ownsFillComp = false
        }
        var cfg = xsk_socket_config()
        cfg.rx_size = UInt32(ringSize)
        cfg.tx_size = UInt32(ringSize)
        // We load our own program (one object for all ports) and manage the XSK map ourselves.
        cfg.libxdp_flags = UInt32(XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD)
        // Copy mode works on every driver (veth has no zero-copy); need_wakeup saves syscalls.
        cfg.bind_flags = UInt16(XDP_USE_NEED_WAKEUP | XDP_COPY)
        var xsk: OpaquePointer?
        let err = xsk_socket__create_shared(&xsk, interface, UInt32(queue), umem.handle, rx, tx, fill, comp, &cfg)
        guard err == 0, let xsk else {
            rx.deallocate(); tx.deallocate()
            if ownsFillComp { fill.deallocate(); comp.deallocate() }
            throw DatapathError("create AF_XDP socket on \(interface) queue \(queue)", result: err)
        }
        umem.firstRingsTaken = true
        handle = xsk
        fd = xsk_socket__fd(xsk)
        busyPolls = busyPoll != nil
        if let busyPoll {
            do { try busyPoll.apply(fd: fd) } catch {
                // deinit does not run for a half-made object: undo here.
                xsk_socket__delete(xsk)
                rx.deallocate(); tx.deallocate()
                if ownsFillComp { fill.deallocate(); comp.deallocate() }
                throw error
            }
        }
    }

    deinit {
        xsk_socket__delete(handle)
        rx.deallocate()
        tx.deallocate()
        if ownsFillComp { fill.deallocate(); comp.deallocate() }
    }
}

/// AF_XDP busy polling (kernel 5.11+): the socket options a socket gets so that its
/// `recvfrom`/`sendto`/`poll` run the device's NAPI in the calling thread for up to
/// `timeoutMicroseconds`, `budget` frames per round, and (with `prefer`) ask the kernel to
/// leave that NAPI to busy polling instead of softirq processing.
public struct XSKBusyPoll: Sendable, Equatable {
    /// SO_BUSY_POLL: microseconds one call may spin on the NAPI.
    public var timeoutMicroseconds: Int32
    /// SO_BUSY_POLL_BUDGET: frames per NAPI poll (kernel limit 65535).
    public var budget: Int32
    /// SO_PREFER_BUSY_POLL.
    public var prefer: Bool

    public init(timeoutMicroseconds: Int32 = 20, budget: Int32 = 64, prefer: Bool = true) {
        self.timeoutMicroseconds = timeoutMicroseconds
        self.budget = budget
        self.prefer = prefer
    }

    // <asm-generic/socket.h>; Glibc does not export the newer two on every libc.
    static let soBusyPoll: Int32 = 46
    static let soPreferBusyPoll: Int32 = 69
    static let soBusyPollBudget: Int32 = 70

    func apply(fd: Int32) throws {
        // Prefer first: the kernel reads it when SO_BUSY_POLL starts a busy loop.
        for (name, option, value) in [("SO_PREFER_BUSY_POLL", Self.soPreferBusyPoll, prefer ? 1 : 0),
                                      ("SO_BUSY_POLL", Self.soBusyPoll, timeoutMicroseconds),
                                      ("SO_BUSY_POLL_BUDGET", Self.soBusyPollBudget, budget)] {
            var v = value
            guard setsockopt(fd, SOL_SOCKET, option, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                throw DatapathError("setsockopt \(name)=\(value) on AF_XDP socket", errno: errno,
                                    hint: "busy polling needs kernel 5.11+; values above the net.core sysctls need CAP_NET_ADMIN")
            }
        }
    }
}
