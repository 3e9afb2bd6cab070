/// An IPv4 or IPv6 prefix: an address with every bit past `length` cleared. IPv4 is kept in
/// its v4-mapped form, as `IPAddress` keeps it; `length` counts within the family (0...32
/// for IPv4, 0...128 for IPv6).
public struct IPPrefix: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let length: UInt8

    /// `address` masked to `length` bits; nil when `length` is too long for its family.
    public init?(_ address: IPAddress, length: Int) {
        guard length >= 0, length <= (address.isIPv4 ? 32 : 128) else { return nil }
        self.address = address.masked(to: UInt8(length))
        self.length = UInt8(length)
    }

    /// Parses "10.1.0.0/24" or "fd00:1::/64" (host bits are cleared).
    public init?(_ text: String) {
        guard let (address, length) = IPPrefix.parseInterface(text) else { return nil }
        self.init(address, length: length)
    }

    /// "ADDRESS/LENGTH" split and parsed, host bits kept (an interface address such as a gateway's).
    public static func parseInterface(_ text: String) -> (IPAddress, Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])), let length = Int(parts[1]),
              length >= 0, length <= (address.isIPv4 ? 32 : 128) else { return nil }
        return (address, length)
    }

    public var isIPv4: Bool { address.isIPv4 }
    /// A host route: /32 or /128.
    public var isHost: Bool { length == (isIPv4 ? 32 : 128) }

    /// Whether `ip` (of the same family) lies in the prefix.
    @inlinable public func contains(_ ip: IPAddress) -> Bool {
        ip.isIPv4 == address.isIPv4 && ip.masked(to: length) == address
    }

    public var description: String { "\(address)/\(length)" }

    public static func < (a: IPPrefix, b: IPPrefix) -> Bool {
        (a.isIPv4 ? 0 : 1, a.address, a.length) < (b.isIPv4 ? 0 : 1, b.address, b.length)
    }
}

extension IPAddress {
    /// The address with every bit past the first `length` of its family cleared (IPv4
    /// keeps its v4-mapped prefix).
    @inlinable public func masked(to length: UInt8) -> IPAddress {
        if isIPv4 {
            let keep: UInt64 = length == 0 ? 0 : (UInt64(0xFFFF_FFFF) << (32 &- UInt64(length))) & 0xFFFF_FFFF
            return IPAddress(hi: 0, lo: lo & (0xFFFF_FFFF_0000_0000 | keep))
        }
        let l = UInt64(length)
        let hiMask: UInt64 = l >= 64 ? .max : (l == 0 ? 0 : UInt64.max << (64 &- l))
        let loMask: UInt64 = l <= 64 ? 0 : (l >= 128 ? .max : UInt64.max << (128 &- l))
        return IPAddress(hi: hi & hiMask, lo: lo & loMask)
    }
}

/// An address on an interface with the length of its connected prefix: an anycast gateway's
/// `10.1.0.1/24`.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let length: UInt8

    public init?(_ address: IPAddress, length: Int) {
        guard IPPrefix(address, length: length) != nil else { return nil }
        self.address = address
        self.length = UInt8(length)
    }

    public init?(_ text: String) {
        guard let (address, length) = IPPrefix.parseInterface(text) else { return nil }
        self.init(address, length: length)
    }

    /// The connected prefix.
    public var prefix: IPPrefix { IPPrefix(address, length: Int(length))! }
    public var description: String { "\(address)/\(length)" }
}

/// As text ("10.1.0.0/24"), in JSON and state files.
extension IPPrefix: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let p = IPPrefix(text) else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a prefix: \(text)") }
        self = p
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
