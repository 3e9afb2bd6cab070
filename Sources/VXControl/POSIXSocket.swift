import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed socket operation: which one, on what, and errno's text.
public struct SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    public var detail: String

    public init(_ operation: String, errno: Int32 = Glibc.errno, detail: String = "") {
        self.operation = operation
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        let reason = errno == 0 ? "" : ": " + String(cString: strerror(errno))
        return detail.isEmpty ? "\(operation)\(reason)" : "\(operation) \(detail)\(reason)"
    }
}

/// Small wrappers over the POSIX socket calls the control and metrics servers share.
enum POSIXSocket {
    static let stream = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)

    /// A `sockaddr_un` for `path`, which must fit `sun_path` with its NUL.
    static func unixAddress(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else {
            throw SocketError("socket path", errno: ENAMETOOLONG, detail: path)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// Calls `body` with `address` as a `sockaddr` pointer and its length.
    static func withSockaddr<A, R>(_ address: inout A, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        try withUnsafePointer(to: &address) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<A>.size)) }
        }
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Milliseconds left until `deadline` (at least 0).
    static func millisecondsLeft(_ deadline: Date) -> Int32 {
        Int32(clamping: max(0, Int(deadline.timeIntervalSinceNow * 1000)))
    }

    /// Waits until `fd` is readable (or writable) before `deadline`; false on timeout. Throws
    /// ECANCELED when `cancel` (a fd, -1 for none) becomes readable first: a stopping server.
    static func wait(_ fd: Int32, for events: Int32, until deadline: Date, cancel: Int32 = -1) throws -> Bool {
        var p = [pollfd(fd: fd, events: Int16(events), revents: 0), pollfd(fd: cancel, events: Int16(POLLIN), revents: 0)]
        while true {
            let n = poll(&p, 2, millisecondsLeft(deadline))  // poll skips a negative fd
            if n > 0 && p[0].revents != 0 { return true }
            if n > 0 { throw SocketError("wait", errno: ECANCELED) }
            if n == 0 { return false }
            if errno != EINTR { throw SocketError("poll") }
        }
    }

    /// Reads until `isComplete` says the bytes so far are a whole message, the peer closes, or
    /// `limit` bytes arrive. Throws on timeout, error, or `cancel` (see `wait`).
    static func receive(
        _ fd: Int32, limit: Int, until deadline: Date, cancel: Int32 = -1, isComplete: ([UInt8]) -> Bool
    ) throws -> [UInt8] {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !isComplete(data) {
            guard data.count < limit else { throw SocketError("receive", errno: EMSGSIZE, detail: "over \(limit) bytes") }
            guard try wait(fd, for: Int32(POLLIN), until: deadline, cancel: cancel) else {
                throw SocketError("receive", errno: ETIMEDOUT)
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                data.append(contentsOf: chunk[..<n])
            } else if n == 0 {
                break
            } else if errno != EINTR && errno != EAGAIN {
                throw SocketError("receive")
            }
        }
        return data
    }

    /// Writes all of `bytes` before `deadline` (no SIGPIPE when the peer has gone); stops
    /// waiting when `cancel` is readable (see `wait`).
    static func sendAll(_ fd: Int32, _ bytes: [UInt8], until deadline: Date, cancel: Int32 = -1) throws {
        var offset = 0
        while offset < bytes.count {
            guard try wait(fd, for: Int32(POLLOUT), until: deadline, cancel: cancel) else { throw SocketError("send", errno: ETIMEDOUT) }
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n >= 0 {
                offset += n
            } else if errno != EINTR && errno != EAGAIN {
                throw SocketError("send")
            }
        }
    }

    /// The uid of the process at the other end of a Unix socket (SO_PEERCRED).
    static func peerUID(_ fd: Int32) -> uid_t? {
        var cred: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: cred))
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) == 0 else { return nil }
        return cred.uid
    }
}
