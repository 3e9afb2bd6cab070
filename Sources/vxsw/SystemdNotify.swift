import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram of
/// `KEY=VALUE` lines per message to the AF_UNIX socket named by `$NOTIFY_SOCKET`
/// (a path, or an abstract name written with a leading '@'). Outside systemd there is
/// no `$NOTIFY_SOCKET` and every call does nothing.
struct SystemdNotifier: Sendable {
    /// Where messages go; nil when not run by systemd (or by a unit that is not Type=notify).
    let socketPath: String?
    /// Half of `$WATCHDOG_USEC` when the unit sets `WatchdogSec=` (and `$WATCHDOG_PID`, if
    /// set, is this process): how often systemd wants `WATCHDOG=1`.
    let watchdogInterval: TimeInterval?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.hasPrefix("/") || $0.hasPrefix("@") ? $0 : nil }
        socketPath = path
        let forUs = environment["WATCHDOG_PID"].map { $0 == String(getpid()) } ?? true
        if path != nil, forUs, let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 {
            watchdogInterval = TimeInterval(usec) / 2_000_000
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends `state` (e.g. "READY=1\nSTATUS=running"). Returns false when it could not be
    /// sent; a daemon keeps running either way, as with sd_notify.
    @discardableResult
    func notify(_ state: String) -> Bool {
        guard let socketPath, var address = Self.address(socketPath) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address.sockaddr) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL), $0, address.length)
            }
        }
        return sent == bytes.count
    }

    /// The socket address for `path`: an abstract name ('@' becomes the leading NUL, no
    /// terminating NUL counted) or a filesystem path (NUL-terminated). Nil if too long.
    static func address(_ path: String) -> (sockaddr: sockaddr_un, length: socklen_t)? {
        var name = Array(path.utf8)
        let abstract = name.first == UInt8(ascii: "@")
        if abstract { name[0] = 0 } else { name.append(0) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard name.count <= MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        return (address, socklen_t(offset + name.count))
    }
}
