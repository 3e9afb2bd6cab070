import Foundation

/// Output of a finished command.
public struct CommandResult: Sendable {
    public let status: Int32
    public let output: String
    public let error: String
    public var succeeded: Bool { status == 0 }
}

public struct CommandError: Error, CustomStringConvertible {
    public let command: [String]
    public let result: CommandResult
    public var description: String {
        "`\(command.joined(separator: " "))` exited \(result.status): \(result.error.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
}

/// Runs a program to completion (no shell), capturing its output.
@discardableResult
public func run(_ arguments: [String], check: Bool = true, environment: [String: String]? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read before waiting so a chatty child never blocks on a full pipe.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let result = CommandResult(status: process.terminationStatus,
                               output: String(decoding: outData, as: UTF8.self),
                               error: String(decoding: errData, as: UTF8.self))
    if check && !result.succeeded { throw CommandError(command: arguments, result: result) }
    return result
}

/// A long-running child we started. It is ended by PID — SIGTERM, then SIGKILL after a
/// grace period — when `stop()` is called or this object goes away. Never by name.
public final class ChildProcess: @unchecked Sendable {
    public let arguments: [String]
    public let logPath: String
    private let process: Process

    public init(_ arguments: [String], logPath: String, environment: [String: String]? = nil) throws {
        self.arguments = arguments
        self.logPath = logPath
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        Self.register(self)
    }

    /// Every child still running, so a Ctrl-C / SIGTERM stops them all (`stopAll`), also one
    /// whose owner has not filed it yet (a rig being torn down while a daemon starts); once
    /// termination began, a child that starts is stopped at once.
    private static let registry = NSLock()
    /// Weak: a child whose owner lets go is still stopped by its `deinit`, as before.
    private struct Entry { weak var child: ChildProcess? }
    nonisolated(unsafe) private static var live: [ObjectIdentifier: Entry] = [:]
    nonisolated(unsafe) private static var terminating = false

    private static func register(_ c: ChildProcess) {
        let late = registry.withLock { () -> Bool in
            if !terminating { live[ObjectIdentifier(c)] = Entry(child: c) }
            return terminating
        }
        if late { c.stop(grace: 2) }
    }

    /// Termination did not end the process (its signal handlers returned): children may start again.
    static func resumeStarting() { registry.withLock { terminating = false } }

    /// Termination began: stops every child started so far (SIGTERM to all, then SIGKILL after
    /// `grace` to those left), and any started from now on as soon as it starts.
    public static func stopAll(grace: Double = 5) {
        let children = registry.withLock { () -> [ChildProcess] in
            terminating = true
            return live.values.compactMap(\.child)
        }
        for c in children where c.process.isRunning { kill(c.process.processIdentifier, SIGTERM) }
        for c in children { c.stop(grace: grace) }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM, wait up to `grace` seconds, then SIGKILL. Returns the exit status.
    @discardableResult
    public func stop(grace: Double = 5) -> Int32 {
        defer { _ = Self.registry.withLock { Self.live.removeValue(forKey: ObjectIdentifier(self)) } }
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(grace)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { stop(grace: 2) }
}

/// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
public func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

/// True when running as root (the namespace tests need it).
public var isRoot: Bool { geteuid() == 0 }
