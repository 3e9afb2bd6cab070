/// A configuration problem, naming the field it is about:
/// `vnis[1].vni: 16777216 is out of range (1..16777215)`.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field path (`vnis[1].vni`), or "" for the whole document.
    public var path: String
    /// What is wrong with it.
    public var problem: String
    /// The YAML line, when known.
    public var line: Int?

    public init(path: String, problem: String, line: Int? = nil) {
        self.path = path
        self.problem = problem
        self.line = line
    }

    /// A problem that is not about one field (unknown keys, syntax): printed as is.
    public init(message: String, line: Int? = nil) {
        self.init(path: "", problem: message, line: line)
    }

    public var description: String {
        let text = path.isEmpty ? problem : "\(path): \(problem)"
        return line.map { "\(text) (line \($0))" } ?? text
    }
}
