import Foundation
import VXCore

/// What vxsw was told at run time (`vxsw port add`, `vxsw fdb add`) and keeps across a
/// restart, in the state file (`control.state-file`, default /var/lib/vxsw/state.json):
///
///     {
///       "version": 1,
///       "ports": [ { "name": "tap101i0", "vni": 1000, "complete-checksums": true, "io": "auto" } ],
///       "fdb": { "static": [ { "vni": 1000, "mac": "02:00:00:00:00:01", "port": "tap101i0" } ] }
///     }
///
/// Ports and entries have the config file's fields and are read by the same code. The file
/// is rewritten whole and atomically (temp file, fsync, rename) after every change.
public struct RunState: Equatable, Sendable {
    public var ports: [SwitchConfig.Port]
    public var staticEntries: [SwitchConfig.FDB.StaticEntry]

    public static let version = 1

    public init(ports: [SwitchConfig.Port] = [], staticEntries: [SwitchConfig.FDB.StaticEntry] = []) {
        self.ports = ports
        self.staticEntries = staticEntries
    }

    public var isEmpty: Bool { ports.isEmpty && staticEntries.isEmpty }

    /// Records a port, replacing one of the same name.
    public mutating func record(_ port: SwitchConfig.Port) {
        if let i = ports.firstIndex(where: { $0.name == port.name }) { ports[i] = port } else { ports.append(port) }
    }

    /// Records a static entry, replacing one for the same MAC in the same VNI.
    public mutating func record(_ entry: SwitchConfig.FDB.StaticEntry) {
        if let i = staticEntries.firstIndex(where: { $0.vni == entry.vni && $0.mac == entry.mac }) {
            staticEntries[i] = entry
        } else {
            staticEntries.append(entry)
        }
    }

    // MARK: Format

    public var jsonValue: JSONValue {
        [
            "version": JSONValue(Self.version), "ports": .array(ports.map(\.jsonValue)),
            "fdb": ["static": .array(staticEntries.map(\.jsonValue))],
        ]
    }

    /// Reads the file's tree; errors name the field (`ports[0].vni: missing`).
    public init(tree: JSONValue) throws {
        let root = try ConfigReader(lines: [:]).root(tree).mapping(allowed: ["version", "ports", "fdb"])
        let version = try root.require("version").int(in: 0...Int.max)
        guard version == Self.version else {
            throw ConfigError(path: "version", problem: "\(version) is not a state file version this vxsw reads (\(Self.version))")
        }
        ports = try root["ports"]?.list().map(SwitchConfig.readPort) ?? []
        let fdb = try root["fdb"]?.mapping(allowed: ["static"])
        staticEntries = try fdb?["static"]?.list().map(SwitchConfig.readStaticEntry) ?? []
        for (i, port) in ports.enumerated() where ports[..<i].contains(where: { $0.name == port.name }) {
            throw ConfigError(path: "ports[\(i)].name", problem: "port '\(port.name)' is listed twice")
        }
    }

    public init(json: Data) throws {
        let tree: JSONValue
        do { tree = try JSONDecoder().decode(JSONValue.self, from: json) } catch {
            throw ConfigError(message: "not valid JSON (\(Self.reason(error)))")
        }
        try self.init(tree: tree)
    }

    public var json: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(jsonValue)) ?? Data()) + Data("\n".utf8)
    }

    // MARK: The file

    /// Reads the state file; nil when there is none yet. A file that cannot be read or parsed is
    /// an error naming the file, the problem and the way out (vxsw refuses to start on it
    /// rather than forget the VMs' ports).
    public static func load(path: String) throws -> RunState? {
        let data: Data
        do {
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw StateFileError(path: path, problem: "cannot be read (\(reason(error)))")
        }
        do {
            return try RunState(json: data)
        } catch {
            throw StateFileError(path: path, problem: "\(error)")
        }
    }

    /// Writes the state file atomically: a temp file in the same directory, fsync, rename, fsync
    /// of the directory. Missing directories are created 0700.
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw StateFileError(path: path, problem: "cannot create its directory \(dir) (\(Self.reason(error)))", writing: true)
        }
        let temp = "\(dir)/.\(url.lastPathComponent).\(getpid()).tmp"
        func fail(_ what: String) -> StateFileError {
            let problem = "\(what): \(String(cString: strerror(errno)))"
            unlink(temp)
            return StateFileError(path: path, problem: problem, writing: true)
        }
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("cannot create \(temp)") }
        let bytes = json
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { close(fd); throw fail("cannot write \(temp)") }
        guard fsync(fd) == 0 else { close(fd); throw fail("cannot fsync \(temp)") }
        close(fd)
        guard rename(temp, path) == 0 else { throw fail("cannot rename \(temp) to it") }
        let dirFD = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    static func reason(_ error: Error) -> String {
        if let e = error as? DecodingError, case .dataCorrupted(let context) = e {
            return (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
        }
        return (error as NSError).localizedDescription
    }
}

/// The state file cannot be read, parsed or written; says which file and what to do.
public struct StateFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var writing = false

    public var description: String {
        if writing {
            return "state file \(path): \(problem); the change is made but will not survive a vxsw restart"
        }
        return "state file \(path): \(problem). vxsw does not start without the run-time ports it records: "
            + "fix the file, or move it away (the ports and MACs it holds are then forgotten; "
            + "add them again with vxsw port add / vxsw fdb add), or set control.state-file: off"
    }
}
