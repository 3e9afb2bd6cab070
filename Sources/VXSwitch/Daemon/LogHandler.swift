import Foundation
import Logging

/// vxsw's one logging path (swift-log): a line per message on stderr. Under journald (systemd
/// sets `JOURNAL_STREAM`) each line starts with its syslog priority (`<3>` error … `<7>` debug,
/// sd-daemon(3)), so `journalctl -p warning -u vxsw` filters by level and the journal adds the
/// time; on a terminal a line carries its own time and level instead.
public struct VXSWLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let journal: Bool

    public init(label: String, level: Logger.Level = .info,
                journal: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil) {
        self.label = label
        logLevel = level
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        FileHandle.standardError.write(Data(line(event.level, "\(event.message)", metadata: event.metadata).utf8))
    }

    /// The text written for one message (the handler's and the message's metadata as key=value).
    func line(_ level: Logger.Level, _ message: String, metadata extra: Logger.Metadata?) -> String {
        var all = metadata
        if let extra { all.merge(extra) { $1 } }
        let tail = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        if journal { return "<\(Self.priority(level))>\(label): \(message)\(tail)\n" }
        return "\(Self.utcTimestamp()) \(label) \(level): \(message)\(tail)\n"
    }

    /// "2026-12-03T10:23:43Z", as ISO8601DateFormatter writes it, without making one per line
    /// (~0.1 ms each in a `perf` profile of `vxsw bench-evpn`, where 1,000 VNIs join a flood list).
    static func utcTimestamp(_ seconds: Int = time(nil)) -> String {
        var t = time_t(seconds), tm = tm()
        gmtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))Z"
    }

    /// A report line of a command (`vxsw run --check`'s findings), not a log message: as it is
    /// on a terminal, with its syslog priority first under journald, so the unit's
    /// `ExecStartPre=` check files its warnings as warnings (a bare line would be filed as info).
    public static func reportLine(_ level: Logger.Level, _ text: String,
                                  journal: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil) -> String {
        journal ? "<\(priority(level))>\(text)\n" : "\(text)\n"
    }

    /// syslog(3) priority of a level.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }
}

/// Sets every swift-log logger of the process (the daemon's, EVPN's, the servers') to
/// `VXSWLogHandler` at `level`. Once per process (swift-log allows one bootstrap); later calls
/// do nothing.
public enum VXSWLogging {
    private static let once = NSLock()
    nonisolated(unsafe) private static var done = false

    public static func bootstrap(level: Logger.Level) {
        once.withLock {
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in VXSWLogHandler(label: label, level: level) }
        }
    }
}
