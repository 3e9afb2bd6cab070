import Yams

/// A YAML document as a `JSONValue`, with the line of every field path.
///
/// Plain scalars are typed by a strict subset of YAML 1.2's core schema (decimal and 0x integers,
/// `true`/`false`, `null`/`~`, decimal floats); everything else is a string. YAML 1.1 surprises
/// therefore do not happen: `metrics: off` is the string "off", and an unquoted MAC such as
/// `12:34:56:00:00:01` is not read as a base-60 number.
struct YAMLTree {
    var value: JSONValue = .null
    var lines: [String: Int] = [:]

    init(yaml: String) throws {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml, .basic)
        } catch let error as YamlError {
            throw ConfigError(message: "YAML syntax: \(error)")
        }
        guard let root else { throw ConfigError(message: "the configuration is empty") }
        value = try convert(root, path: "")
    }

    private mutating func convert(_ node: Node, path: String) throws -> JSONValue {
        if let line = node.mark?.line { lines[path] = line }
        switch node {
        case .scalar(let scalar):
            return scalar.style == .plain ? Self.plainScalar(scalar.string) : .string(scalar.string)
        case .sequence(let sequence):
            return .array(try sequence.enumerated().map { try convert($0.element, path: "\(path)[\($0.offset)]") })
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let key) = keyNode else {
                    throw ConfigError(path: path, problem: "mapping keys must be plain words", line: keyNode.mark?.line)
                }
                let child = ConfigReader.join(path, key.string)
                guard object[key.string] == nil else {
                    throw ConfigError(path: child, problem: "appears twice", line: keyNode.mark?.line)
                }
                object[key.string] = try convert(valueNode, path: child)
                if let line = keyNode.mark?.line { lines[child] = line }
            }
            return .object(object)
        case .alias:
            throw ConfigError(path: path, problem: "YAML aliases are not supported", line: node.mark?.line)
        }
    }

    static func plainScalar(_ text: String) -> JSONValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        if !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let i = Int64(text) {
            return .int(i)
        }
        if digits.hasPrefix("0x"), let i = Int64(digits.dropFirst(2), radix: 16) {
            return .int(text.hasPrefix("-") ? -i : i)
        }
        if digits.first?.isNumber == true, digits.allSatisfy({ $0.isNumber || "eE.+-".contains($0) }),
            let d = Double(text)
        {
            return .double(d)
        }
        return .string(text)
    }
}
