/// The IPv6 extension headers in front of the upper-layer header (RFC 8200 §4), as far as a
/// tunnel endpoint takes them: Hop-by-Hop Options (only first), Destination Options, and a
/// Fragment header that is an atomic fragment (offset 0, M = 0: RFC 6946 §4, processed as if
/// it were not there). Options are skipped by their length, not read (Pad1/PadN is all a
/// sender puts there). At most `maxExtensionHeaders` are walked, the bound the XDP program has too.
///
///     next header (1)  hdr ext len (1, 8-byte units not counting the first 8)  ...
///     Fragment: next header (1)  reserved (1)  offset << 3 | res | M (2)  identification (4)
public enum IPv6Extensions {
    public static let hopByHop: UInt8 = 0
    public static let routing: UInt8 = 43
    public static let fragment: UInt8 = 44
    public static let encapsulatingSecurity: UInt8 = 50
    public static let authentication: UInt8 = 51
    public static let destinationOptions: UInt8 = 60
    public static let fragmentHeaderLength = 8
    /// How many extension headers are walked before the chain counts as one vxsw does not take.
    public static let maxExtensionHeaders = 4

    /// What follows the fixed header.
    public enum Chain: Equatable, Sendable {
        /// The upper-layer header `next` starts `offset` bytes after the start of the fixed header.
        case upper(next: UInt8, offset: Int)
        /// A real fragment (offset or M set): not reassembled.
        case fragment
        /// Malformed or not taken: a header running past `end`, Hop-by-Hop not first, a second
        /// Fragment header, more than `maxExtensionHeaders`, or a Routing, AH, ESP, Mobility,
        /// HIP, Shim6 or experimental (253, 254) header.
        case unsupported
    }

    /// Whether `next` is one of the IANA "IPv6 Extension Header Types" (RFC 7045).
    @inlinable public static func isExtension(_ next: UInt8) -> Bool {
        switch next {
        case hopByHop, routing, fragment, encapsulatingSecurity, authentication, destinationOptions,
             135, 139, 140, 253, 254: return true
        default: return false
        }
    }

    /// Walks the chain of the IPv6 packet at `p`, whose first `end` bytes (40 + payload length,
    /// at most what the frame holds) may be read.
    @inlinable public static func walk(_ p: UnsafeRawPointer, end: Int) -> Chain {
        var next = IPv6.nextHeader(p), offset = IPv6.headerLength, count = 0, fragments = 0
        while isExtension(next) {
            guard count < maxExtensionHeaders else { return .unsupported }
            let length: Int
            switch next {
            case hopByHop where count == 0, destinationOptions:
                guard offset &+ 2 <= end else { return .unsupported }
                length = (Int(p.load(fromByteOffset: offset &+ 1, as: UInt8.self)) &+ 1) &* 8
            case fragment where fragments == 0:
                guard offset &+ fragmentHeaderLength <= end else { return .unsupported }
                guard p.loadBE16(offset &+ 2) & 0xFFF9 == 0 else { return .fragment }
                length = fragmentHeaderLength
                fragments = 1
            default:
                return .unsupported
            }
            guard offset &+ length <= end else { return .unsupported }
            next = p.load(fromByteOffset: offset, as: UInt8.self)
            offset &+= length
            count &+= 1
        }
        return .upper(next: next, offset: offset)
    }
}
