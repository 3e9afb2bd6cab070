import Foundation

/// Timestamped lines on stderr: the daemon runs under systemd or a terminal, both keep them.
public struct DaemonLog: Sendable {
    public var verbose: Bool
    public init(verbose: Bool = false) { self.verbose = verbose }

    public func info(_ message: String) { write("info", message) }
    public func warning(_ message: String) { write("warning", message) }
    public func error(_ message: String) { write("error", message) }
    public func debug(_ message: String) { if verbose { write("debug", message) } }

    private func write(_ level: String, _ message: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        FileHandle.standardError.write(Data("\(stamp) vxsw \(level): \(message)\n".utf8))
    }
}
