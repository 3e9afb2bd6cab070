import Logging

/// The daemon's logger: swift-log under the label "vxsw", with `VXSWLogHandler`'s format (so
/// the same lines whether or not `VXSWLogging.bootstrap` ran, e.g. in the lab or a benchmark).
public struct DaemonLog: Sendable {
    private var logger: Logger

    /// `level` for this logger; `verbose` is `level: .debug` (FDB events and other details).
    public init(verbose: Bool = false, level: Logger.Level = .info) {
        let chosen: Logger.Level = verbose ? min(level, .debug) : level
        logger = Logger(label: "vxsw") { label in VXSWLogHandler(label: label, level: chosen) }
    }

    public var level: Logger.Level { logger.logLevel }

    public func info(_ message: String) { logger.info("\(message)") }
    public func notice(_ message: String) { logger.notice("\(message)") }
    public func warning(_ message: String) { logger.warning("\(message)") }
    public func error(_ message: String) { logger.error("\(message)") }
    /// The message is only built when debug is on: EVPN logs a line per installed MAC, and
    /// formatting it when debug is off was a cost per route for nothing.
    public func debug(_ message: @autoclosure () -> String) { logger.debug("\(message())") }
}
