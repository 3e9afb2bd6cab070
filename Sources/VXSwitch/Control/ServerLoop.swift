import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A listening socket served on a background thread, one connection at a time.
///
/// `stop()` wakes the thread through a pipe, waits for it to finish the connection in hand,
/// and closes the socket. Both `start` and `stop` are idempotent. Used by `ControlServer`
/// and `MetricsServer`.
final class ServerLoop: @unchecked Sendable {
    private let name: String
    private let lock = NSLock()
    private var listenFD: Int32 = -1
    private var wakeFDs: (read: Int32, write: Int32) = (-1, -1)
    private var finished: DispatchSemaphore?

    init(name: String) { self.name = name }

    var isRunning: Bool { lock.withLock { finished != nil } }

    /// Takes ownership of the bound, listening `fd` and serves each accepted connection with
    /// `serve` (which must not close it). Does nothing when already running (closing `fd`).
    func start(listening fd: Int32, serve: @escaping @Sendable (Int32) -> Void) throws {
        try lock.withLock {
            guard finished == nil else {
                close(fd)
                return
            }
            var pipeFDs: [Int32] = [-1, -1]
            guard pipe(&pipeFDs) == 0 else {
                close(fd)
                throw SocketError("pipe")
            }
            for p in pipeFDs { _ = fcntl(p, F_SETFD, FD_CLOEXEC) }
            listenFD = fd
            wakeFDs = (pipeFDs[0], pipeFDs[1])
            let done = DispatchSemaphore(value: 0)
            finished = done
            let wake = pipeFDs[0]
            let thread = Thread {
                ServerLoop.run(listenFD: fd, wakeFD: wake, serve: serve)
                done.signal()
            }
            thread.name = name
            thread.start()
        }
    }

    /// Stops accepting, waits for the thread, closes the sockets. Safe to call when stopped.
    func stop() {
        lock.withLock {
            guard let done = finished else { return }
            var byte: UInt8 = 1
            _ = write(wakeFDs.write, &byte, 1)
            done.wait()
            close(listenFD)
            close(wakeFDs.read)
            close(wakeFDs.write)
            listenFD = -1
            wakeFDs = (-1, -1)
            finished = nil
        }
    }

    private static func run(listenFD: Int32, wakeFD: Int32, serve: (Int32) -> Void) {
        var fds = [
            pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            let n = poll(&fds, 2, -1)
            if n < 0 && errno == EINTR { continue }
            if n < 0 || fds[1].revents != 0 { return }
            guard fds[0].revents & Int16(POLLIN) != 0 else {
                if fds[0].revents != 0 { return }  // POLLERR/POLLNVAL: the socket is gone
                continue
            }
            let connection = accept(listenFD, nil, nil)
            guard connection >= 0 else {
                if errno == EMFILE || errno == ENFILE { usleep(100_000) }  // out of fds: do not spin
                continue  // EINTR, ECONNABORTED: try again
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            serve(connection)
            close(connection)
        }
    }
}
