import VXCore

/// Reads typed fields out of a config tree (a `JSONValue`), tracking the field path so that every
/// error names the field, and rejecting keys the format does not define.
///
///     let vtep = try root.require("vtep").mapping(allowed: ["ipv4", "ipv6", "udp-port"])
///     let port = try vtep["udp-port"]?.int(in: 1...65535) ?? 4789
struct ConfigReader {
    /// Field path → YAML line, filled when the tree came from YAML.
    let lines: [String: Int]

    func error(_ path: String, _ problem: String) -> ConfigError {
        ConfigError(path: path, problem: problem, line: lines[path])
    }

    func root(_ value: JSONValue) -> Field { Field(reader: self, path: "", value: value) }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The allowed key closest to a misspelt one, if it is close enough to be a likely typo.
    static func nearest(_ key: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(key, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, key.count / 3) else { return nil }
        return best
    }

    /// Levenshtein distance.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var diagonal = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let above = row[j]
                row[j] = Swift.min(above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1))
                diagonal = above
            }
        }
        return row[b.count]
    }
}

/// A mapping whose keys have been checked: its fields by key.
struct Mapping {
    let reader: ConfigReader
    let path: String
    let members: [String: JSONValue]

    /// The field `key`, or nil when absent or null.
    subscript(key: String) -> Field? {
        guard let v = members[key], v != .null else { return nil }
        return Field(reader: reader, path: ConfigReader.join(path, key), value: v)
    }

    func require(_ key: String) throws -> Field {
        guard let field = self[key] else { throw reader.error(ConfigReader.join(path, key), "missing") }
        return field
    }
}

/// One value in the tree, with its path.
struct Field {
    let reader: ConfigReader
    let path: String
    let value: JSONValue

    func error(_ problem: String) -> ConfigError { reader.error(path, problem) }

    // MARK: Structure

    /// This value as a mapping, after checking that it has no keys outside `allowed`.
    func mapping(allowed: [String]) throws -> Mapping {
        guard case .object(let members) = value else { throw error("expected a mapping, got \(value.kindName)") }
        for key in members.keys.sorted() where !allowed.contains(key) {
            var message = "unknown field '\(key)' at \(path.isEmpty ? "the top level" : path)"
            if let near = ConfigReader.nearest(key, in: allowed) { message += " (did you mean '\(near)'?)" }
            throw ConfigError(message: message, line: reader.lines[ConfigReader.join(path, key)])
        }
        return Mapping(reader: reader, path: path, members: members)
    }

    /// This value as a mapping with arbitrary keys (`trunk: {100: 1000}`), in key order.
    func entries() throws -> [(key: String, field: Field)] {
        guard case .object(let members) = value else { throw error("expected a mapping, got \(value.kindName)") }
        return members.keys.sorted().map { key in
            (key, Field(reader: reader, path: ConfigReader.join(path, key), value: members[key]!))
        }
    }

    func list() throws -> [Field] {
        guard case .array(let items) = value else { throw error("expected a list, got \(value.kindName)") }
        return items.enumerated().map { Field(reader: reader, path: "\(path)[\($0.offset)]", value: $0.element) }
    }

    // MARK: Scalars

    func string() throws -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        default: throw error("expected a string, got \(value.kindName)")
        }
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw error("expected true or false, got \(value.kindName)") }
        return b
    }

    func int<T: FixedWidthInteger>(in range: ClosedRange<T>) throws -> T {
        let number: Int64
        switch value {
        case .int(let i): number = i
        case .string(let s) where Int64(s) != nil: number = Int64(s)!
        default: throw error("expected a number, got \(value.kindName)")
        }
        guard number >= Int64(range.lowerBound), number <= Int64(range.upperBound) else {
            throw error("\(number) is out of range (\(range.lowerBound)..\(range.upperBound))")
        }
        return T(number)
    }

    /// One of a fixed set of words (`poll: busy | adaptive | interrupt`).
    func word<T: RawRepresentable & CaseIterable>(_ type: T.Type = T.self) throws -> T where T.RawValue == String {
        let text = try string()
        guard let v = T(rawValue: text) else {
            throw error("'\(text)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }

    func vni() throws -> VNI { VNI(unchecked: try int(in: 1...VNI.max)) }

    func mac() throws -> MACAddress {
        let text = try string()
        guard let mac = MACAddress(text) else { throw error("'\(text)' is not a MAC address") }
        return mac
    }

    enum Family { case any, v4, v6 }

    /// "ADDRESS/LENGTH" with the host bits kept (a gateway's address and its subnet).
    func interfaceAddress() throws -> InterfaceAddress {
        let text = try string()
        guard let a = InterfaceAddress(text) else {
            throw error("'\(text)' is not ADDRESS/LENGTH (10.1.0.1/24, fd00:1::1/64)")
        }
        return a
    }

    func ip(_ family: Family = .any) throws -> IPAddress {
        let text = try string()
        guard let ip = IPAddress(text) else { throw error("'\(text)' is not an IP address") }
        switch family {
        case .v4 where !ip.isIPv4: throw error("'\(text)' is not an IPv4 address")
        case .v6 where ip.isIPv4: throw error("'\(text)' is not an IPv6 address")
        default: return ip
        }
    }
}
