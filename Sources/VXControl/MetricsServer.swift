import Foundation
import Logging
import VXConfig
import VXCore
#if canImport(Glibc)
import Glibc
#endif

/// Serves `GET /metrics` in Prometheus text format on a local TCP address.
///
/// A deliberately small HTTP/1.1 server: one request per connection (`Connection: close`),
/// GET and HEAD, 404 for other paths, 405 for other methods. Connections are served
/// concurrently (`ServerLoop`, at most `maxConnections`; more get a 503), so an idle client
/// never delays a scrape. `render` is called once per scrape, one scrape at a time.
///
///     let metrics = try MetricsServer(address: "127.0.0.1:9469") { stats.prometheusText() }
///     try metrics.start()
public final class MetricsServer: @unchecked Sendable {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public let address: ListenAddress
    /// How long a client may take to send its request head.
    public var readTimeout: TimeInterval = 5
    /// Connections served at once; more get a 503 and are closed.
    public var maxConnections = 64

    private let render: @Sendable () -> String
    /// Renders one at a time: a render copies rows out of the owner's copy of the tables (under
    /// its lock, which control changes wait for), and any local user can open connections;
    /// concurrent scrapes must not multiply that load.
    private let renders = NSLock()
    private let loop: ServerLoop
    private let logger = Logger(label: "vxsw.metrics")
    private let lock = NSLock()
    private var bound: UInt16?

    public init(address: ListenAddress, render: @escaping @Sendable () -> String) {
        self.address = address
        self.render = render
        loop = ServerLoop(name: "vxsw-metrics", logger: logger)
    }

    /// `address` is `IPv4:PORT` or `[IPv6]:PORT`; port 0 picks a free one (see `boundPort`).
    public convenience init(address: String, render: @escaping @Sendable () -> String) throws {
        guard let parsed = ListenAddress(address) else {
            throw SocketError("metrics address", errno: EINVAL, detail: "'\(address)' is not ADDRESS:PORT or [IPv6]:PORT")
        }
        self.init(address: parsed, render: render)
    }

    /// The port actually listened on (the ephemeral one when `address` has port 0); nil when stopped.
    public var boundPort: UInt16? { lock.withLock { bound } }

    public var isRunning: Bool { loop.isRunning }
    /// Connections refused because `maxConnections` were being served.
    public var refusedConnections: Int { loop.refusedConnections }

    private static let busy = http(status: "503 Service Unavailable", type: "text/plain", body: "busy\n", includeBody: true)

    /// Binds and starts serving. Does nothing when already running.
    public func start() throws {
        guard !loop.isRunning else { return }
        let (fd, port) = try Self.listen(on: address)
        let timeout = readTimeout
        try loop.start(listening: fd, maxConnections: maxConnections, busyReply: Self.busy) {
            [render, renders, logger] connection in
            MetricsServer.serve(connection, timeout: timeout, render: { renders.withLock(render) }, logger: logger)
        }
        lock.withLock { bound = port }
    }

    /// Stops serving and closes the socket. Does nothing when stopped.
    public func stop() {
        loop.stop()
        lock.withLock { bound = nil }
    }

    deinit { stop() }

    // MARK: Socket

    private static func listen(on address: ListenAddress) throws -> (Int32, UInt16) {
        let v4 = address.host.isIPv4
        let fd = socket(v4 ? AF_INET : AF_INET6, POSIXSocket.stream, 0)
        guard fd >= 0 else { throw SocketError("socket") }
        POSIXSocket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        var result: Int32
        if v4 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = address.port.bigEndian
            sin.sin_addr.s_addr = address.host.v4.bigEndian
            result = POSIXSocket.withSockaddr(&sin) { bind(fd, $0, $1) }
        } else {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = address.port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: address.host.bytes) }
            result = POSIXSocket.withSockaddr(&sin6) { bind(fd, $0, $1) }
        }
        if result == 0 { result = Glibc.listen(fd, 16) }
        guard result == 0 else {
            let error = SocketError("listen on", detail: address.description)
            close(fd)
            throw error
        }
        // Both families keep the port at the same offset (sin_port / sin6_port).
        var local = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: local.sin6_port))
    }

    // MARK: HTTP

    /// Reads one request head and answers it; gives up waiting on the client when the server stops.
    static func serve(_ connection: ServerLoop.Connection, timeout: TimeInterval, render: () -> String, logger: Logger) {
        let fd = connection.fd, stop = connection.stop
        let deadline = Date(timeIntervalSinceNow: timeout)
        let head: [UInt8]
        do {
            head = try POSIXSocket.receive(fd, limit: 16 << 10, until: deadline, cancel: stop) { Self.endOfHead(in: $0) != nil }
        } catch {
            logger.debug("metrics request not read: \(error)")
            return
        }
        let reply = response(toHead: head, render: render)
        do {
            try POSIXSocket.sendAll(fd, reply, until: Date(timeIntervalSinceNow: timeout), cancel: stop)
        } catch {
            logger.debug("metrics response not sent: \(error)")
        }
    }

    /// The index just past "\r\n\r\n" (or "\n\n"), if the head is complete.
    static func endOfHead(in bytes: [UInt8]) -> Int? {
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        var i = 0
        while i < bytes.count {
            if bytes[i] == lf {
                if i + 1 < bytes.count && bytes[i + 1] == lf { return i + 2 }
                if i + 2 < bytes.count && bytes[i + 1] == cr && bytes[i + 2] == lf { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// The whole HTTP response to a request head.
    static func response(toHead head: [UInt8], render: () -> String) -> [UInt8] {
        let requestLine = String(decoding: head.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            return http(status: "400 Bad Request", type: "text/plain", body: "bad request\n", includeBody: true)
        }
        let method = parts[0], target = parts[1].split(separator: "?", maxSplits: 1)[0]
        guard method == "GET" || method == "HEAD" else {
            return http(status: "405 Method Not Allowed", type: "text/plain", body: "only GET\n", includeBody: true,
                        extra: "Allow: GET, HEAD\r\n")
        }
        guard target == "/metrics" else {
            return http(status: "404 Not Found", type: "text/plain", body: "not found; try /metrics\n", includeBody: method == "GET")
        }
        return http(status: "200 OK", type: contentType, body: render(), includeBody: method == "GET")
    }

    private static func http(status: String, type: String, body: String, includeBody: Bool, extra: String = "") -> [UInt8] {
        let bytes = Array(body.utf8)
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\n"
            + "Connection: close\r\n\(extra)\r\n"
        return Array(head.utf8) + (includeBody ? bytes : [])
    }
}
