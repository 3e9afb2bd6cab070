import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The CLI side of the control socket.
public enum ControlClient {
    /// Sends `request` to the daemon at `path` and waits up to `timeout` seconds for the answer.
    /// Throws `SocketError` when the daemon cannot be reached or does not answer in time.
    public static func send(
        _ request: ControlRequest, path: String = "/run/vxsw/vxsw.sock", timeout: TimeInterval = 5
    ) throws -> ControlResponse {
        let deadline = Date(timeIntervalSinceNow: timeout)
        let fd = try connect(path: path)
        defer { close(fd) }
        var line = try JSONEncoder().encode(request)
        line.append(UInt8(ascii: "\n"))
        // A daemon over its connection cap answers "vxsw is busy" at once and closes: our request
        // may then meet a closed socket (EPIPE) while that answer waits to be read.
        var sendError: SocketError?
        do { try POSIXSocket.sendAll(fd, Array(line), until: deadline) } catch let e as SocketError where e.errno == EPIPE || e.errno == ECONNRESET {
            sendError = e
        }
        let reply: [UInt8]
        do {
            reply = try POSIXSocket.receive(fd, limit: 64 << 20, until: deadline) { $0.last == UInt8(ascii: "\n") }
        } catch {
            throw sendError ?? error
        }
        do {
            return try JSONDecoder().decode(ControlResponse.self, from: Data(reply))
        } catch {
            throw SocketError("control socket", errno: EPROTO, detail: "\(path) answered something that is not a response")
        }
    }

    /// A connected socket to `path`.
    static func connect(path: String) throws -> Int32 {
        var address = try POSIXSocket.unixAddress(path)
        let fd = socket(AF_UNIX, POSIXSocket.stream, 0)
        guard fd >= 0 else { throw SocketError("socket") }
        let result = POSIXSocket.withSockaddr(&address) { Glibc.connect(fd, $0, $1) }
        guard result == 0 else {
            let error = SocketError("cannot connect to", detail: "\(path) (is vxsw running?)")
            close(fd)
            throw error
        }
        return fd
    }
}
