import CLinuxKernel   // SOCK_STREAM: tools/package's static-stdlib release build finds it only here, not through Glibc
import Foundation
import Glibc

// The unix stream sockets qemu serves (its serial console, QMP): connect, write, read with a deadline.

/// What `fd` has to read, waiting for it until `deadline`: nil when nothing came by then.
/// Throws when the peer closed (`closed` says what that likely means) or poll/read fail.
func readSome(_ fd: Int32, before deadline: Date, what: String, closed: String) throws -> ArraySlice<UInt8>? {
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let left = deadline.timeIntervalSinceNow
        guard left > 0 else { return nil }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(min(left, 0.5) * 1000)) >= 0 || errno == EINTR else {
            throw LabKitError("\(what) poll: \(String(cString: strerror(errno)))")
        }
        guard poller.revents != 0 else { continue }
        let count = read(fd, &chunk, chunk.count)
        guard count > 0 else { throw LabKitError("\(what) closed (\(closed))") }
        return chunk[..<count]
    }
}

/// A connected unix stream socket, or nil (errno says why).
func connectUnixSocket(_ path: String) -> Int32? {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
        }
    }
    if connected { return fd }
    let saved = errno
    close(fd)
    errno = saved
    return nil
}

/// Writes all of `bytes` to `fd`.
func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws {
    var rest = bytes[...]
    while !rest.isEmpty {
        let sent = rest.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard sent > 0 else { throw LabKitError("\(what) write: \(String(cString: strerror(errno)))") }
        rest = rest.dropFirst(sent)
    }
}
