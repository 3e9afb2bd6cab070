import Glibc

/// An error from the kernel or a library, with the operation that failed and errno's text,
/// e.g. "attach XDP to ul0: Operation not supported (errno 95)".
public struct DatapathError: Error, CustomStringConvertible {
    public let operation: String
    public let errno: Int32
    public let hint: String?

    public init(_ operation: String, errno: Int32, hint: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.hint = hint
    }

    /// For library calls returning -errno.
    public init(_ operation: String, result: Int32, hint: String? = nil) {
        self.init(operation, errno: -result, hint: hint)
    }

    public var description: String {
        let text = String(cString: strerror(errno))
        return "\(operation): \(text) (errno \(errno))" + (hint.map { ". \($0)" } ?? "")
    }
}
