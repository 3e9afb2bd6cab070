import CVXSW
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A listening socket served on background threads: one accept thread and one thread per
/// connection, at most `maxConnections` at a time. Used by `ControlServer` and `MetricsServer`.
///
/// Threads rather than SwiftNIO: the handlers block (waiting for a worker to apply a change,
/// EVPN calls waited on with a semaphore), so NIO would need a thread pool for them anyway; with one short request per
/// connection, a capped thread per connection over the existing `POSIXSocket` helpers is the
/// smallest code that keeps a slow or idle client from delaying another.
///
/// A connection over the cap gets `busyReply` (if the socket takes it at once) and is closed
/// at once, and counted in `refusedConnections`.
///
/// `stop()` makes the stop pipe readable: the accept thread ends and every connection waiting
/// on its client (`POSIXSocket` waits given `Connection.stop`) gives up at once; `stop()` then
/// waits for every thread (a handler already running finishes) and closes the sockets.
/// Both `start` and `stop` are idempotent.
final class ServerLoop: @unchecked Sendable {
    /// An accepted socket, and the fd that becomes readable when the loop stops.
    struct Connection {
        let fd: Int32
        let stop: Int32
    }

    private let name: String
    private let logger: Logger
    /// Serializes `start` and `stop`.
    private let lifecycle = NSLock()
    private var listenFD: Int32 = -1
    private var wakeFDs: (read: Int32, write: Int32) = (-1, -1)
    /// The running `Run`'s group (nil when stopped).
    private var threads: DispatchGroup?
    /// Guards the counters below (taken by the accept and connection threads).
    private let lock = NSLock()
    private var running = false
    private var active = 0
    private var refused = 0
    private var lastRefusalLog = Date.distantPast

    init(name: String, logger: Logger) {
        self.name = name
        self.logger = logger
    }

    var isRunning: Bool { lock.withLock { running } }
    /// Connections closed unserved because `maxConnections` were being served (since creation).
    var refusedConnections: Int { lock.withLock { refused } }

    /// Takes ownership of the bound, listening `fd` and serves each accepted connection with
    /// `serve` on its own thread (`serve` must not close the fd nor call `stop()`). Does
    /// nothing when already running (closing `fd`).
    func start(
        listening fd: Int32, maxConnections: Int, busyReply: [UInt8] = [],
        serve: @escaping @Sendable (Connection) -> Void
    ) throws {
        try lifecycle.withLock {
            guard threads == nil else {
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
            let run = Run(listenFD: fd, wakeFD: pipeFDs[0], group: DispatchGroup(), limit: maxConnections,
                          busyReply: busyReply, serve: serve)
            threads = run.group
            lock.withLock { running = true }
            run.group.enter()
            // Named through pthread: Foundation's `Thread.name` does not reach the kernel on
            // Linux, and `top -H` (and the tests) should see these threads.
            Thread {
                cvxsw_set_thread_name(self.name)
                self.acceptLoop(run)
                run.group.leave()
            }.start()
        }
    }

    /// Stops accepting, ends waiting connections, waits for every thread, closes the sockets.
    /// Safe to call when stopped.
    func stop() {
        lifecycle.withLock {
            guard let group = threads else { return }
            var byte: UInt8 = 1
            _ = write(wakeFDs.write, &byte, 1)  // never read: stays readable for every waiter
            group.wait()
            close(listenFD)
            close(wakeFDs.read)
            close(wakeFDs.write)
            listenFD = -1
            wakeFDs = (-1, -1)
            threads = nil
            lock.withLock { running = false }
        }
    }

    /// What the threads of one `start` share.
    private struct Run: Sendable {
        let listenFD: Int32
        let wakeFD: Int32
        /// Entered by the accept thread and by every connection thread; `stop` waits on it.
        let group: DispatchGroup
        let limit: Int
        let busyReply: [UInt8]
        let serve: @Sendable (Connection) -> Void
    }

    private func acceptLoop(_ run: Run) {
        var fds = [
            pollfd(fd: run.listenFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: run.wakeFD, events: Int16(POLLIN), revents: 0),
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
            let connection = accept(run.listenFD, nil, nil)
            guard connection >= 0 else {
                if errno == EMFILE || errno == ENFILE { usleep(100_000) }  // out of fds: do not spin
                continue  // EINTR, ECONNABORTED: try again
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            if admit(limit: run.limit) {
                serve(connection, run)
            } else {
                // Never blocks the accept thread: what the socket buffer takes at once, or nothing.
                _ = run.busyReply.withUnsafeBytes {
                    send(connection, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                }
                close(connection)
            }
        }
    }

    /// Serves an admitted connection on a thread of its own, then closes it.
    private func serve(_ connection: Int32, _ run: Run) {
        run.group.enter()
        Thread {
            cvxsw_set_thread_name("\(self.name)-c")
            run.serve(Connection(fd: connection, stop: run.wakeFD))
            close(connection)
            self.lock.withLock { self.active -= 1 }
            run.group.leave()
        }.start()
    }

    /// Counts the connection in, or counts it refused (logging at most every 10 s).
    private func admit(limit: Int) -> Bool {
        let (ok, total, log) = lock.withLock { () -> (Bool, Int, Bool) in
            if active < limit {
                active += 1
                return (true, 0, false)
            }
            refused += 1
            let log = Date().timeIntervalSince(lastRefusalLog) >= 10
            if log { lastRefusalLog = Date() }
            return (false, refused, log)
        }
        if log { logger.warning("\(name): \(limit) connections busy; refused one (\(total) refused so far)") }
        return ok
    }
}
