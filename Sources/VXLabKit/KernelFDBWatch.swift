import CLinuxKernel
import Foundation

/// A namespace's kernel FDB entries that point at a VTEP (vxlan devices' `dst` entries, the
/// all-zero flood entries left out), followed from rtnetlink's neighbour notifications
/// (`RTNLGRP_NEIGH`, AF_BRIDGE) on a thread of its own: how a benchmark sees the moment a
/// routing daemon's N-th entry is in the kernel without dumping the table. A dump is no
/// observer at that scale: `bridge fdb show` of 100k entries on one vxlan device took 1.1–1.4 s
/// of kernel time per read on a 2-vCPU VM, taken from the daemon being measured.
///
/// Start it before the entries come (it sees changes, not what was there). If the kernel drops
/// notifications (ENOBUFS: the socket's buffer, 256 MiB, filled) `overflowed` turns true and
/// the counts are no longer exact: the caller falls back to a dump.
public final class KernelFDBWatch: @unchecked Sendable {
    private let lock = NSLock()
    /// (ifindex, MAC) → VTEP address, of the entries with a `dst`.
    private var entries: [UInt64: [UInt8]] = [:]
    private var perVTEP: [[UInt8]: Int] = [:]
    private var changedAt = Date()
    private var lost = false
    private var stopping = false
    private let fd: Int32
    private let finished = DispatchSemaphore(value: 0)

    /// Subscribes inside `namespace` (the socket stays bound to it) and starts reading.
    public init(in namespace: NetworkNamespace) throws {
        fd = try namespace.enter { () throws -> Int32 in
            let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
            guard fd >= 0 else { throw KernelFDBWatchError("open an rtnetlink socket", errno) }
            var address = sockaddr_nl()
            address.nl_family = sa_family_t(AF_NETLINK)
            address.nl_groups = UInt32(RTMGRP_NEIGH)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
            }
            guard bound == 0 else { let e = errno; close(fd); throw KernelFDBWatchError("subscribe to neighbour events", e) }
            // 100k entries arrive in about a second; a daemon that installs faster than this
            // thread reads must not make the kernel drop them (FORCE: past rmem_max, as root).
            var size: Int32 = 256 << 20
            if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            var tv = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            return fd
        }
        Thread.detachNewThread { [self] in read() }
    }

    /// Stops reading and closes the socket. Call it: the reading thread keeps the watch alive.
    public func stop() {
        lock.withLock { stopping = true }
        finished.wait()
        close(fd)
    }

    /// Entries with a VTEP, and when that number last changed.
    public var count: (entries: Int, changedAt: Date) { lock.withLock { (entries.count, changedAt) } }

    /// Entries whose VTEP is `vtep` (an IPv4 or IPv6 address as text).
    public func entries(to vtep: String) -> Int {
        guard let bytes = Self.addressBytes(vtep) else { return 0 }
        return lock.withLock { perVTEP[bytes] ?? 0 }
    }

    /// True once the kernel dropped notifications: the counts may be wrong.
    public var overflowed: Bool { lock.withLock { lost } }

    private func read() {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while !lock.withLock({ stopping }) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == ENOBUFS { lock.withLock { lost = true } }
                continue
            }
            buffer.withUnsafeBytes { parse($0, length: n) }
        }
        finished.signal()
    }

    /// One read's messages: RTM_NEWNEIGH / RTM_DELNEIGH of AF_BRIDGE with a MAC and a `dst`.
    private func parse(_ raw: UnsafeRawBufferPointer, length n: Int) {
        let header = MemoryLayout<nlmsghdr>.size, nd = MemoryLayout<ndmsg>.size
        var changes: [(key: UInt64, dst: [UInt8], new: Bool)] = []
        var at = 0
        while at + header <= n {
            let length = Int(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))
            let type = raw.loadUnaligned(fromByteOffset: at + 4, as: UInt16.self)
            guard length >= header, at + length <= n else { break }
            defer { at += Int(clk_nlmsg_align(UInt32(length))) }
            guard type == UInt16(RTM_NEWNEIGH) || type == UInt16(RTM_DELNEIGH), length >= header + nd else { continue }
            let body = at + header
            guard raw[body] == UInt8(AF_BRIDGE) else { continue }
            let ifindex = UInt64(UInt32(bitPattern: raw.loadUnaligned(fromByteOffset: body + 4, as: Int32.self)))
            var mac: UInt64?, dst: [UInt8]?
            var attr = body + Int(clk_nlmsg_align(UInt32(nd)))
            while attr + 4 <= at + length {
                let len = Int(raw.loadUnaligned(fromByteOffset: attr, as: UInt16.self))
                let kind = raw.loadUnaligned(fromByteOffset: attr + 2, as: UInt16.self) & 0x3FFF
                guard len >= 4, attr + len <= at + length else { break }
                let value = UnsafeRawBufferPointer(rebasing: raw[(attr + 4)..<(attr + len)])
                if kind == UInt16(NDA_LLADDR), value.count == 6 { mac = value.reduce(0) { $0 << 8 | UInt64($1) } }
                if kind == UInt16(NDA_DST), value.count == 4 || value.count == 16 { dst = Array(value) }
                attr += Int(clk_rta_align(UInt32(len)))
            }
            // Only vxlan's own entries carry a `dst`; the bridge's copy of one (extern_learn
            // master, same MAC and port) has none and must not count as its removal.
            guard let mac, mac != 0, let dst else { continue }
            changes.append((ifindex << 48 | mac, dst, type == UInt16(RTM_NEWNEIGH)))
        }
        guard !changes.isEmpty else { return }
        lock.withLock {
            for c in changes {
                if c.new {
                    if let old = entries.updateValue(c.dst, forKey: c.key) { perVTEP[old, default: 1] -= 1 }
                    perVTEP[c.dst, default: 0] += 1
                } else if entries[c.key] == c.dst {
                    // A deletion of the remote the entry has (not of one it was moved away from).
                    entries[c.key] = nil
                    perVTEP[c.dst, default: 1] -= 1
                }
            }
            changedAt = Date()
        }
    }

    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

public struct KernelFDBWatchError: Error, CustomStringConvertible {
    public let description: String
    init(_ what: String, _ code: Int32) { description = "kernel FDB watch: cannot \(what): \(String(cString: strerror(code)))" }
}
