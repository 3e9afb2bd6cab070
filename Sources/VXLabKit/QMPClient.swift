import Foundation
import Glibc

/// One connection to a qemu's QMP monitor (`-qmp unix:PATH,server=on,wait=off`): reads the
/// greeting, enters command mode, then runs commands one at a time. Events that arrive in
/// between are skipped. Closed by `close()` or deinit.
final class QMPClient {
    private let fd: Int32
    private var buffer: [UInt8] = []
    let what: String

    init(path: String, what: String) throws {
        self.what = what
        guard let fd = connectUnixSocket(path) else {
            throw LabKitError("\(what): cannot connect to QMP at \(path): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        do {
            _ = try readMessage(deadline: Date().addingTimeInterval(10)) { $0["QMP"] != nil }
            _ = try execute("qmp_capabilities")
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    deinit { Glibc.close(fd) }

    /// Runs `command` and returns its `return` value; throws with qemu's error text.
    @discardableResult
    func execute(_ command: String, _ arguments: [String: Any]? = nil, timeout: Double = 10) throws -> Any {
        var message: [String: Any] = ["execute": command]
        if let arguments { message["arguments"] = arguments }
        try writeAll(fd, Array(try JSONSerialization.data(withJSONObject: message)) + [UInt8(ascii: "\n")], what: "\(what): QMP")
        let reply = try readMessage(deadline: Date().addingTimeInterval(timeout)) { $0["return"] != nil || $0["error"] != nil }
        if let error = reply["error"] as? [String: Any] {
            throw LabKitError("\(what): QMP \(command): \(error["desc"] as? String ?? "\(error)")")
        }
        return reply["return"]!
    }

    /// Reads JSON lines until one satisfies `wanted`; skips the rest (events).
    private func readMessage(deadline: Date, _ wanted: ([String: Any]) -> Bool) throws -> [String: Any] {
        while true {
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any], wanted(object) { return object }
            }
            guard let chunk = try readSome(fd, before: deadline, what: "\(what): QMP", closed: "qemu exited?") else {
                throw LabKitError("\(what): no QMP reply in time")
            }
            buffer += chunk
        }
    }
}
