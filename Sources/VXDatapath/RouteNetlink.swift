import CLinuxKernel
import Glibc
import VXCore

/// A minimal rtnetlink client: route lookup and neighbour (ARP/ND) lookup and trigger,
/// enough to find the underlay next-hop MAC for a remote VTEP without sending traffic.
public final class RouteNetlink {
    private let fd: Int32
    private var sequence: UInt32 = 1

    public init() throws {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
        guard fd >= 0 else { throw DatapathError("open rtnetlink socket", errno: errno) }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// The interface and gateway the kernel would use to reach `destination`.
    public func route(to destination: IPAddress) throws -> (ifindex: Int32, gateway: IPAddress?) {
        var body = [UInt8](repeating: 0, count: MemoryLayout<rtmsg>.size)
        let family = destination.isIPv4 ? UInt8(AF_INET) : UInt8(AF_INET6)
        body[0] = family                                   // rtm_family
        body[1] = destination.isIPv4 ? 32 : 128            // rtm_dst_len
        appendAttribute(&body, type: UInt16(RTA_DST.rawValue), destination.bytes)
        let replies = try transact(type: UInt16(RTM_GETROUTE), flags: UInt16(NLM_F_REQUEST), body: body)
        for reply in replies where reply.type == UInt16(RTM_NEWROUTE) {
            var ifindex: Int32 = 0
            var gateway: IPAddress?
            forEachNetlinkAttribute(reply.payload, offset: MemoryLayout<rtmsg>.size) { type, value in
                if type == UInt16(RTA_OIF.rawValue), value.count >= 4 {
                    ifindex = value.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
                } else if type == UInt16(RTA_GATEWAY.rawValue) {
                    gateway = IPAddress(bytes: value)
                }
            }
            return (ifindex, gateway)
        }
        throw DatapathError("route to \(destination)", errno: ENETUNREACH)
    }

    /// The neighbour's MAC if the kernel has a usable entry for it on `ifindex`.
    public func neighbor(_ address: IPAddress, ifindex: Int32) throws -> MACAddress? {
        let replies: [Message]
        do {
            replies = try transact(type: UInt16(RTM_GETNEIGH), flags: UInt16(NLM_F_REQUEST),
                                   body: neighborBody(address, ifindex: ifindex, state: 0, flags: 0))
        } catch let e as DatapathError where e.errno == ENOENT {
            return nil
        }
        for reply in replies where reply.type == UInt16(RTM_NEWNEIGH) && reply.payload.count >= MemoryLayout<ndmsg>.size {
            let state = reply.payload.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt16.self) }
            let usable = UInt16(NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)
            guard state & usable != 0 else { return nil }
            var mac: MACAddress?
            forEachNetlinkAttribute(reply.payload, offset: MemoryLayout<ndmsg>.size) { type, value in
                if type == UInt16(NDA_LLADDR), value.count == 6 {
                    mac = value.withUnsafeBytes { MACAddress(loadingFrom: $0.baseAddress!) }
                }
            }
            return mac
        }
        return nil
    }

    /// Asks the kernel to resolve `address` on `ifindex` (ARP or ND) as if it were used,
    /// creating the entry if needed (NTF_USE). vxsw itself sends nothing.
    public func triggerResolution(_ address: IPAddress, ifindex: Int32) throws {
        _ = try transact(type: UInt16(RTM_NEWNEIGH),
                         flags: UInt16(NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK),
                         body: neighborBody(address, ifindex: ifindex, state: UInt16(NUD_NONE), flags: UInt8(NTF_USE)))
    }

    // MARK: - Messages

    struct Message { var type: UInt16; var payload: [UInt8] }

    private func neighborBody(_ address: IPAddress, ifindex: Int32, state: UInt16, flags: UInt8) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: MemoryLayout<ndmsg>.size)
        body[0] = address.isIPv4 ? UInt8(AF_INET) : UInt8(AF_INET6)   // ndm_family
        withUnsafeBytes(of: ifindex) { body.replaceSubrange(4..<8, with: $0) } // ndm_ifindex
        withUnsafeBytes(of: state) { body.replaceSubrange(8..<10, with: $0) }  // ndm_state
        body[10] = flags                                                        // ndm_flags
        appendAttribute(&body, type: UInt16(NDA_DST), address.bytes)
        return body
    }

    private func appendAttribute(_ buffer: inout [UInt8], type: UInt16, _ value: [UInt8]) {
        let length = UInt16(4 + value.count)
        withUnsafeBytes(of: length) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: type) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: value)
        while buffer.count % 4 != 0 { buffer.append(0) }
    }

    private func transact(type: UInt16, flags: UInt16, body: [UInt8]) throws -> [Message] {
        sequence &+= 1
        let seq = sequence
        var header = nlmsghdr()
        header.nlmsg_len = UInt32(MemoryLayout<nlmsghdr>.size + body.count)
        header.nlmsg_type = type
        header.nlmsg_flags = flags
        header.nlmsg_seq = seq
        var request = withUnsafeBytes(of: &header) { Array($0) }
        request.append(contentsOf: body)
        var kernel = sockaddr_nl()
        kernel.nl_family = sa_family_t(AF_NETLINK)
        let sent = request.withUnsafeBytes { buf in
            withUnsafePointer(to: &kernel) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buf.baseAddress, buf.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
        guard sent == request.count else { throw DatapathError("rtnetlink send", errno: errno) }

        var messages: [Message] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw DatapathError("rtnetlink receive", errno: errno) }
            var at = 0
            while at + MemoryLayout<nlmsghdr>.size <= n {
                let h = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: nlmsghdr.self) }
                let length = Int(h.nlmsg_len)
                guard length >= MemoryLayout<nlmsghdr>.size, at + length <= n else { break }
                if h.nlmsg_seq == seq {
                    let payload = Array(buffer[(at + MemoryLayout<nlmsghdr>.size)..<(at + length)])
                    if h.nlmsg_type == UInt16(NLMSG_ERROR) {
                        let code = payload.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
                        if code != 0 { throw DatapathError("rtnetlink request", errno: -code) }
                        return messages // an ACK
                    }
                    if h.nlmsg_type == UInt16(NLMSG_DONE) { return messages }
                    messages.append(Message(type: h.nlmsg_type, payload: payload))
                    if h.nlmsg_flags & UInt16(NLM_F_MULTI) == 0 { return messages }
                }
                at += Int(clk_nlmsg_align(UInt32(length)))
            }
        }
    }
}

extension IPAddress {
    /// From 4 or 16 network-order bytes.
    init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4: self = bytes.withUnsafeBytes { IPAddress(loadingV4From: $0.baseAddress!) }
        case 16: self = bytes.withUnsafeBytes { IPAddress(loadingV6From: $0.baseAddress!) }
        default: return nil
        }
    }
}

/// Calls `body` with each rtnetlink attribute (type, value) of `payload` after its fixed
/// header of `offset` bytes; stops at the first malformed one.
func forEachNetlinkAttribute(_ payload: [UInt8], offset: Int, _ body: (UInt16, [UInt8]) -> Void) {
    var at = Int(clk_nlmsg_align(UInt32(offset)))
    while at + 4 <= payload.count {
        let (length, type) = payload.withUnsafeBytes {
            (Int($0.loadUnaligned(fromByteOffset: at, as: UInt16.self)), $0.loadUnaligned(fromByteOffset: at + 2, as: UInt16.self))
        }
        guard length >= 4, at + length <= payload.count else { return }
        body(type & 0x3FFF, Array(payload[(at + 4)..<(at + length)]))
        at += Int(clk_rta_align(UInt32(length)))
    }
}
