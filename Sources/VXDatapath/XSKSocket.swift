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

    /// Creates and binds the socket. The first socket on a UMEM takes the UMEM's own
    /// fill/completion rings and fixes the bind mode (copy + need_wakeup) for all others.
    public init(umem: UMEM, interface: String, queue: Int, ringSize: Int) throws {
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
    }

    deinit {
        xsk_socket__delete(handle)
        rx.deallocate()
        tx.deallocate()
        if ownsFillComp { fill.deallocate(); comp.deallocate() }
    }
}
