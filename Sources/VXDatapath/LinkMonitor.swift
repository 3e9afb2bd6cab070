import CLinuxKernel
import Glibc

/// Link events from rtnetlink (`RTMGRP_LINK`): an interface appeared (or changed) or went
/// away. The daemon uses them to follow VM ports through the life of their VMs: qemu
/// deletes a tap when the VM stops or crashes and creates one of the same name when it starts.
public final class LinkMonitor {
    public enum Event: Equatable, Sendable {
        /// RTM_NEWLINK: a new interface, or a change to one (e.g. up/down).
        case present(name: String, ifindex: Int32)
        /// RTM_DELLINK: the interface is gone.
        case removed(name: String, ifindex: Int32)
    }

    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 65536)

    /// Subscribes in the calling thread's network namespace. `next` waits at most
    /// `timeoutMilliseconds` for events.
    public init(timeoutMilliseconds: Int = 200) throws {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
        guard fd >= 0 else { throw DatapathError("open rtnetlink socket for link events", errno: errno) }
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        address.nl_groups = UInt32(RTMGRP_LINK)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
        }
        guard bound == 0 else {
            let e = errno
            close(fd)
            throw DatapathError("subscribe to rtnetlink link events", errno: e)
        }
        var tv = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var size: Int32 = 1 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// The events of one read, in order; empty after the timeout. When the kernel dropped
    /// events (ENOBUFS: too many at once) `overflowed` is true: the caller should re-read
    /// which interfaces exist.
    public func next() -> (events: [Event], overflowed: Bool) {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { return ([], errno == ENOBUFS) }
        var events: [Event] = []
        var at = 0
        let header = MemoryLayout<nlmsghdr>.size, info = MemoryLayout<ifinfomsg>.size
        while at + header <= n {
            let (length, type) = buffer.withUnsafeBytes {
                (Int($0.loadUnaligned(fromByteOffset: at, as: UInt32.self)), $0.loadUnaligned(fromByteOffset: at + 4, as: UInt16.self))
            }
            guard length >= header, at + length <= n else { break }
            if (type == UInt16(RTM_NEWLINK) || type == UInt16(RTM_DELLINK)) && length >= header + info {
                let payload = Array(buffer[(at + header)..<(at + length)])
                let ifindex = payload.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: Int32.self) }
                var name: String?
                forEachNetlinkAttribute(payload, offset: info) { attr, value in
                    if attr == UInt16(IFLA_IFNAME) { name = String(decoding: value.prefix { $0 != 0 }, as: UTF8.self) }
                }
                if let name {
                    events.append(type == UInt16(RTM_NEWLINK) ? .present(name: name, ifindex: ifindex)
                                                              : .removed(name: name, ifindex: ifindex))
                }
            }
            at += Int(clk_nlmsg_align(UInt32(length)))
        }
        return (events, false)
    }
}
