import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's control socket: a Unix stream socket, one JSON request line per connection,
/// answered with one JSON `ControlResponse` line, each connection on its own thread.
///
/// Root-only: the directory is created 0700 when missing, the socket is chmod 0600 and a peer
/// must run as root or as our own user (SO_PEERCRED). A stale socket file left by a crash is
/// replaced; a live one (another vxsw answering) is an error. `stop()` removes the file.
///
/// Connections are served concurrently (`ServerLoop`), at most `maxConnections` at once: the
/// handler may run on several threads at a time and must not call `stop()` (stop waits for it).
///
///     let server = ControlServer(path: config.control.socket) { request in
///         switch request { case .ping: return .success("pong") ... }
///     }
///     try server.start()
public final class ControlServer: @unchecked Sendable {
    public let path: String
    /// How long a client may take to send its request line.
    public var readTimeout: TimeInterval = 5
    /// Longest request line accepted.
    public var maxRequestBytes = 1 << 20
    /// Connections served at once; more are answered "busy" and closed.
    public var maxConnections = 64

    private let handler: @Sendable (ControlRequest) -> ControlResponse
    private let loop: ServerLoop
    private let logger = Logger(label: "vxsw.control")

    public init(path: String, handler: @escaping @Sendable (ControlRequest) -> ControlResponse) {
        self.path = path
        self.handler = handler
        loop = ServerLoop(name: "vxsw-control", logger: logger)
    }

    public var isRunning: Bool { loop.isRunning }
    /// Connections refused because `maxConnections` were being served.
    public var refusedConnections: Int { loop.refusedConnections }

    /// Creates the socket and starts serving. Does nothing when already running.
    public func start() throws {
        guard !loop.isRunning else { return }
        try makeDirectory()
        try removeStaleSocket()
        var address = try POSIXSocket.unixAddress(path)
        let fd = socket(AF_UNIX, POSIXSocket.stream, 0)
        guard fd >= 0 else { throw SocketError("socket") }
        let bound = POSIXSocket.withSockaddr(&address) { bind(fd, $0, $1) }
        guard bound == 0, chmod(path, 0o600) == 0, listen(fd, 16) == 0 else {
            let error = SocketError("listen on", detail: path)
            close(fd)
            if bound == 0 { unlink(path) }
            throw error
        }
        let timeout = readTimeout, limit = maxRequestBytes
        do {
            let busy = try Self.line(.failure("vxsw is busy: \(maxConnections) control connections open; try again"))
            try loop.start(listening: fd, maxConnections: maxConnections, busyReply: busy) { [handler, logger] connection in
                ControlServer.serve(connection, timeout: timeout, limit: limit, handler: handler, logger: logger)
            }
        } catch {
            unlink(path)
            throw error
        }
    }

    /// Stops serving and removes the socket file. Does nothing when stopped.
    public func stop() {
        guard loop.isRunning else { return }
        loop.stop()
        unlink(path)
    }

    deinit { stop() }

    // MARK: Serving

    /// Reads one request line, answers it; every failure becomes an error response. Gives up
    /// waiting on the client when the server stops.
    static func serve(
        _ connection: ServerLoop.Connection, timeout: TimeInterval, limit: Int,
        handler: (ControlRequest) -> ControlResponse, logger: Logger
    ) {
        let fd = connection.fd, stop = connection.stop
        let deadline = Date(timeIntervalSinceNow: timeout)
        let response: ControlResponse
        if let uid = POSIXSocket.peerUID(fd), uid != 0, uid != geteuid() {
            response = .failure("permission denied: the control socket is for root")
        } else {
            do {
                let bytes = try POSIXSocket.receive(fd, limit: limit, until: deadline, cancel: stop) { $0.contains(UInt8(ascii: "\n")) }
                response = answer(line: bytes.prefix { $0 != UInt8(ascii: "\n") }, handler: handler)
            } catch let error as SocketError where error.errno == ECANCELED {
                response = .failure("vxsw is stopping")
            } catch {
                logger.debug("control request not read: \(error)")
                response = .failure("request not read: \(error)")
            }
        }
        do {
            try POSIXSocket.sendAll(fd, try line(response), until: Date(timeIntervalSinceNow: timeout), cancel: stop)
        } catch {
            logger.debug("control response not sent: \(error)")
        }
    }

    /// `response` as the one JSON line the client reads.
    static func line(_ response: ControlResponse) throws -> [UInt8] {
        Array(try JSONEncoder().encode(response)) + [UInt8(ascii: "\n")]
    }

    /// Decodes a request line and runs the handler.
    static func answer(line: some Collection<UInt8>, handler: (ControlRequest) -> ControlResponse) -> ControlResponse {
        let request: ControlRequest
        do {
            request = try JSONDecoder().decode(ControlRequest.self, from: Data(line))
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.last?.stringValue == "command" {
            return .failure(context.debugDescription)  // valid JSON, not a valid command
        } catch {
            return .failure("malformed request: expected one line of JSON {\"command\": ..., \"args\": [...]}")
        }
        return handler(request)
    }

    // MARK: Files

    private func makeDirectory() throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else { return }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SocketError("create directory", errno: EACCES, detail: "\(directory) (\(error.localizedDescription))")
        }
    }

    /// Removes a socket file nobody answers on; refuses to touch a live socket or a non-socket.
    private func removeStaleSocket() throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw SocketError("control socket", errno: EEXIST, detail: "\(path) exists and is not a socket")
        }
        if let probe = try? ControlClient.connect(path: path) {
            close(probe)
            throw SocketError("control socket", errno: EADDRINUSE, detail: "\(path): another vxsw is running")
        }
        unlink(path)
    }
}
