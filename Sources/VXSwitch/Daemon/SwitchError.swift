/// A run-time request the switch cannot carry out (unknown port, VNI not configured, ...).
public struct SwitchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
