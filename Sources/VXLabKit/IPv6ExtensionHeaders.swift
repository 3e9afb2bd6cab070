/// IPv6 extension headers (RFC 8200 §4) put into crafted frames, for the tests of how vxsw
/// takes VXLAN over IPv6 with a chain: the engine's (synthetic frames), the XDP program's
/// (BPF_PROG_RUN) and a running switch's (injected in namespaces).
public struct IPv6ExtensionHeader: Sendable {
    public var type: UInt8
    /// The header with its next-header byte still 0: `insertingIPv6Extensions` fills it in.
    public var bytes: [UInt8]

    /// Hop-by-Hop (0) or Destination Options (60), `8 * units` bytes of PadN.
    public static func options(_ type: UInt8, units: Int = 1) -> Self {
        Self(type: type, bytes: [0, UInt8(units - 1), 1, UInt8(8 * units - 4)] + [UInt8](repeating: 0, count: 8 * units - 4))
    }
    public static let hopByHop = options(0)
    public static let destinationOptions = options(60)
    /// A Fragment header (44), `offset` in 8-byte units; offset 0 and M 0 is an atomic fragment (RFC 6946).
    public static func fragment(offset: Int = 0, more: Bool = false) -> Self {
        let field = offset << 3 | (more ? 1 : 0)
        return Self(type: 44, bytes: [0, 0, UInt8(field >> 8 & 0xFF), UInt8(field & 0xFF), 0x12, 0x34, 0x56, 0x78])
    }
    /// A Routing header (43), type 0, no segments left.
    public static let routing = Self(type: 43, bytes: [0, 0, 0, 0, 0, 0, 0, 0])
}

/// The Ethernet + IPv6 frame `frame` with `headers` after its fixed header (bytes 14..<54):
/// the next-header bytes and the payload length follow. Transport checksums stay right, as
/// extension headers are not part of the pseudo-header.
public func insertingIPv6Extensions(_ frame: [UInt8], _ headers: [IPv6ExtensionHeader]) -> [UInt8] {
    var chain: [UInt8] = []
    var next = frame[20]
    for h in headers.reversed() {
        chain = [next] + h.bytes.dropFirst() + chain
        next = h.type
    }
    var f = Array(frame[..<54]) + chain + Array(frame[54...])
    f[20] = next
    let payload = (Int(frame[18]) << 8 | Int(frame[19])) + chain.count
    f[18] = UInt8(payload >> 8 & 0xFF); f[19] = UInt8(payload & 0xFF)
    return f
}
