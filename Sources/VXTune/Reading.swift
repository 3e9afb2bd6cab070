// A value read from the host, or why it could not be read. Every inspection
// result is a `Reading`, so the rules can say "cannot tell" instead of guessing.

/// Why a reading failed. The description is what the report prints.
public enum ReadError: Error, Equatable, Codable, CustomStringConvertible, Sendable {
    /// The file or directory does not exist (e.g. no cpufreq in a VM).
    case missing(String)
    /// The driver or kernel does not implement the request (EOPNOTSUPP / EINVAL from ethtool).
    case unsupported(String)
    /// Any other failure: operation and errno name.
    case failed(String, String)

    public var description: String {
        switch self {
        case .missing(let what): return "\(what) does not exist"
        case .unsupported(let what): return "\(what) is not supported by this driver/kernel"
        case .failed(let what, let err): return "\(what) failed: \(err)"
        }
    }
}

/// A value, or the reason it is not known.
public enum Reading<Value> {
    case value(Value)
    case unknown(ReadError)

    public init(_ result: Result<Value, ReadError>) {
        switch result {
        case .success(let v): self = .value(v)
        case .failure(let e): self = .unknown(e)
        }
    }

    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }

    public var error: ReadError? {
        if case .unknown(let e) = self { return e }
        return nil
    }

    public func map<T>(_ f: (Value) -> T) -> Reading<T> {
        switch self {
        case .value(let v): return .value(f(v))
        case .unknown(let e): return .unknown(e)
        }
    }

    public func flatMap<T>(_ f: (Value) -> Reading<T>) -> Reading<T> {
        switch self {
        case .value(let v): return f(v)
        case .unknown(let e): return .unknown(e)
        }
    }
}

extension Reading: Equatable where Value: Equatable {}
extension Reading: Sendable where Value: Sendable {}

// JSON: {"value": …} or {"unknown": "reason"}.
extension Reading: Codable where Value: Codable {
    private enum Keys: String, CodingKey { case value, unknown }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        if let v = try c.decodeIfPresent(Value.self, forKey: .value) {
            self = .value(v)
        } else {
            self = .unknown(.failed("reading", try c.decode(String.self, forKey: .unknown)))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .value(let v): try c.encode(v, forKey: .value)
        case .unknown(let e): try c.encode(e.description, forKey: .unknown)
        }
    }
}
