import CVXSW
import Glibc
import VXCore

/// How the XDP program is attached: native (driver) or generic (SKB) mode.
public enum XDPAttachMode: String, Sendable, Codable {
    case native, generic, auto

    var flags: UInt32 {
        switch self {
        case .native: return UInt32(XDP_FLAGS_DRV_MODE)
        case .generic: return UInt32(XDP_FLAGS_SKB_MODE)
        case .auto: return 0 // not passed to the kernel: `XDPProgram.attach` tries native, then generic
        }
    }
}

/// Role of a port as the XDP program sees it (BPF/lib/maps.h `enum vxsw_port_role`).
public enum XDPPortRole: UInt32, Sendable {
    case access = 1
    case uplink = 2
}

/// The loaded `vxsw_xdp` object: the `vxsw_port` program and its maps. Attachments are
/// bpf_links — a link fd closed, or the process gone, detaches the program.
public final class XDPProgram {
    public static let maxPorts = 256
    public static let maxQueues = 64

    private let object: BPFObject
    public let programFD: Int32
    public let xsksFD: Int32
    public let portsFD: Int32
    public let configFD: Int32
    public let statsFD: Int32
    /// The tap path's two programs (BPF/lib/tapfast.h, `TapPath`).
    public let tapFilterFD: Int32
    public let tapForwardFD: Int32
    /// The uplink's tc program that hands GRO-merged overlay frames to taps (BPF/lib/tapgro.h, `UplinkTapDelivery`).
    public let uplinkToTapFD: Int32

    /// Loads the program compiled into this binary (BPF/vxsw_xdp.c).
    public init(image bytes: [UInt8] = BPFObjects.vxsw_xdp, verbose: Bool = false) throws {
        object = try BPFObject("vxsw_xdp", image: bytes, verbose: verbose,
                               hint: "vxsw needs root (CAP_BPF, CAP_NET_ADMIN) and a kernel with XDP sockets")
        programFD = try object.programFD("vxsw_port")
        xsksFD = try object.mapFD("xsks")
        portsFD = try object.mapFD("ports")
        configFD = try object.mapFD("config")
        statsFD = try object.mapFD("stats")
        tapFilterFD = try object.programFD("vxsw_tap_filter")
        tapForwardFD = try object.programFD("vxsw_tap_forward")
        uplinkToTapFD = try object.programFD("vxsw_uplink_to_tap")
    }

    /// A map of the program by name (the fast path's maps, for one).
    public func mapFD(_ name: String) throws -> Int32 { try object.mapFD(name) }

    /// Size and member offsets of a struct as the compiled program has it (its BTF).
    public func structLayout(_ name: String) -> (size: Int, offsets: [String: Int])? { object.structLayout(name) }

    /// Attaches the program to `ifindex`; the returned link detaches it when closed and says
    /// which mode it got. `auto` tries native and, when the driver refuses it (a macvlan has no
    /// native XDP), generic: one attach call, so the caller binds its sockets once.
    public func attach(ifindex: Int32, mode: XDPAttachMode) throws -> XDPLink {
        guard mode == .auto else { return try attachOnce(ifindex: ifindex, mode: mode) }
        do {
            return try attachOnce(ifindex: ifindex, mode: .native)
        } catch let native as DatapathError {
            do { return try attachOnce(ifindex: ifindex, mode: .generic) } catch let generic as DatapathError {
                throw DatapathError("attach XDP (auto: native, then generic) to ifindex \(ifindex)", errno: generic.errno,
                                    hint: "native: \(native); generic: \(generic)")
            }
        }
    }

    private func attachOnce(ifindex: Int32, mode: XDPAttachMode) throws -> XDPLink {
        let fd = cvxsw_xdp_link_create(programFD, ifindex, mode.flags)
        guard fd >= 0 else {
            throw DatapathError("attach XDP (\(mode.rawValue) mode) to ifindex \(ifindex)", result: fd,
                                hint: fd == -EBUSY ? "another XDP program is attached to this interface"
                                    : fd == -EOPNOTSUPP && mode == .native ? "the driver has no native XDP (attach: auto or generic)" : nil)
        }
        return XDPLink(fd: fd, mode: mode)
    }

    /// Sets the local VTEP addresses and the VXLAN UDP port the uplink steers to the switch.
    public func setConfig(vtep4: IPAddress?, vtep6: IPAddress?, udpPort: UInt16) throws {
        var value = [UInt8](repeating: 0, count: 24) // struct vxsw_config
        if let v4 = vtep4 { value.replaceSubrange(0..<4, with: v4.bytes); value[22] = 1 }
        if let v6 = vtep6 { value.replaceSubrange(4..<20, with: v6.bytes); value[23] = 1 }
        value[20] = UInt8(udpPort >> 8)   // network order
        value[21] = UInt8(udpPort & 0xFF)
        var key: UInt32 = 0
        let err = value.withUnsafeBytes { bpf_map_update_elem(configFD, &key, $0.baseAddress, 0) }
        guard err == 0 else { throw DatapathError("write XDP config map", errno: errno) }
    }

    /// Registers an interface: its frames go to sockets `slot * maxQueues + queue` of `xsks`.
    public func setPort(ifindex: Int32, slot: Int, role: XDPPortRole) throws {
        var key = UInt32(bitPattern: ifindex)
        var value: (UInt32, UInt32) = (UInt32(slot), role.rawValue)
        guard bpf_map_update_elem(portsFD, &key, &value, 0) == 0 else {
            throw DatapathError("write XDP ports map", errno: errno)
        }
    }

    public func removePort(ifindex: Int32) {
        var key = UInt32(bitPattern: ifindex)
        _ = bpf_map_delete_elem(portsFD, &key)
    }

    public func setSocket(slot: Int, queue: Int, fd: Int32) throws {
        var key = UInt32(slot * XDPProgram.maxQueues + queue)
        var value = fd
        guard bpf_map_update_elem(xsksFD, &key, &value, 0) == 0 else {
            throw DatapathError("write XSK map", errno: errno)
        }
    }

    public func removeSocket(slot: Int, queue: Int) {
        var key = UInt32(slot * XDPProgram.maxQueues + queue)
        _ = bpf_map_delete_elem(xsksFD, &key)
    }

    /// The program's own counters (BPF/lib/maps.h `enum vxsw_stat`), summed over CPUs.
    public func statistics() -> [String: UInt64] {
        let names = ["access_to_switch", "vxlan_to_switch", "uplink_pass", "unknown_port_pass", "queue_out_of_range",
                     "fast_encap", "fast_decap", "fast_local", "fast_routed", "fast_tap", "fast_tap_encap", "fast_tap_lost",
                     "fast_decap_tap_ack", "fast_decap_tap"]
        var out: [String: UInt64] = [:]
        for (i, name) in names.enumerated() {
            var sum: UInt64 = 0
            if cvxsw_percpu_u64_sum(statsFD, UInt32(i), &sum) == 0 { out[name] = sum }
        }
        return out
    }
}

/// An XDP attachment. Closing it detaches the program; so does the process exiting,
/// which is why vxsw never leaves a program behind after a crash.
public final class XDPLink {
    public private(set) var fd: Int32
    /// The mode it was attached in: native or generic (never auto); nil for a tc link.
    public let mode: XDPAttachMode?
    init(fd: Int32, mode: XDPAttachMode? = nil) { self.fd = fd; self.mode = mode }

    /// Attaches tc program `programFD` to `ifindex`'s tcx ingress; `what` names it in the error.
    static func tcxIngress(programFD: Int32, ifindex: Int32, what: String) throws -> XDPLink {
        let fd = cvxsw_tcx_ingress_link_create(programFD, ifindex)
        guard fd >= 0 else {
            throw DatapathError("\(what): attach tc program (tcx)", result: fd, hint: "tcx needs Linux 6.6 or later")
        }
        return XDPLink(fd: fd)
    }
    public func detach() {
        if fd >= 0 { close(fd); fd = -1 }
    }
    deinit { detach() }
}
