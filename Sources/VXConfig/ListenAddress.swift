import VXCore

/// A local TCP listening address: `127.0.0.1:9469`, `[::1]:9469`, `0.0.0.0:0` (port 0 = any).
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: IPAddress
    public var port: UInt16

    public init(host: IPAddress, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `IPv4:PORT` or `[IPv6]:PORT`.
    public init?(_ text: String) {
        let hostText: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            hostText = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard hostText.contains(":") else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !hostText.contains(":") else { return nil } // IPv6 needs brackets
        }
        guard let host = IPAddress(String(hostText)), let port = UInt16(portText) else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.isIPv4 ? "\(host):\(port)" : "[\(host)]:\(port)" }
}
