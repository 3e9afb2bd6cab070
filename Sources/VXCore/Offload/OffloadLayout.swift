/// Why a super-frame (or a frame with a virtio_net_hdr) was refused. Each is a counted drop
/// for the caller; nothing past `length` is ever read.
public enum SegmentationError: UInt8, Error, CaseIterable, Sendable {
    case truncated              // the headers run past the end of the frame
    case badHeaderLength        // virtio hdr_len past the end of the frame
    case notGSO                 // gso_type NONE: nothing to segment (see `Segmenter.completeChecksum`)
    case unsupportedGSOType     // unknown gso_type, or the ECN bit on a UDP type
    case ufoUnsupported         // gso_type UDP (UFO, IP fragments): refused, as modern Linux does
    case gsoSizeZero            // gso_size 0
    case notIP                  // neither IPv4 nor IPv6 after at most one 802.1Q tag
    case badIPHeader            // IP version, IHL or total/payload length inconsistent with the frame
    case fragment               // IPv4 fragment
    case ipv6ExtensionHeader    // IPv6 next header is an extension header (not parsed)
    case notTCP                 // gso TCPv4/TCPv6 but the packet is not TCP (or the wrong IP family)
    case notUDP                 // gso UDP_L4 but the packet is not UDP
    case badL4Header            // TCP data offset < 5 or past the IP end; UDP length ≠ IP payload

    public var name: String {
        switch self {
        case .truncated: return "truncated"
        case .badHeaderLength: return "bad_header_length"
        case .notGSO: return "not_gso"
        case .unsupportedGSOType: return "unsupported_gso_type"
        case .ufoUnsupported: return "ufo_unsupported"
        case .gsoSizeZero: return "gso_size_zero"
        case .notIP: return "not_ip"
        case .badIPHeader: return "bad_ip_header"
        case .fragment: return "fragment"
        case .ipv6ExtensionHeader: return "ipv6_extension_header"
        case .notTCP: return "not_tcp"
        case .notUDP: return "not_udp"
        case .badL4Header: return "bad_l4_header"
        }
    }
}

/// Offsets of a TCP or UDP packet over IPv4/IPv6 in an Ethernet frame (at most one 802.1Q
/// tag, no IPv6 extension headers), all from the start of the frame:
///
///     0 eth [tag]   l3 ip (options)   l4 tcp/udp (options)   payload ...   end (IP end)
public struct OffloadLayout: Equatable, Sendable {
    public var l3: Int
    public var l4: Int
    /// First byte after the L4 header: L2 + L3 + L4 header length.
    public var payload: Int
    /// End of the IP packet (Ethernet padding after it is ignored).
    public var end: Int
    public var isIPv4: Bool
    public var isTCP: Bool

    @inlinable public var ipHeaderLength: Int { l4 &- l3 }
    @inlinable public var l4Length: Int { end &- l4 }
    @inlinable public var payloadLength: Int { end &- payload }

    @inlinable
    public init(l3: Int, l4: Int, payload: Int, end: Int, isIPv4: Bool, isTCP: Bool) {
        self.l3 = l3; self.l4 = l4; self.payload = payload; self.end = end; self.isIPv4 = isIPv4; self.isTCP = isTCP
    }

    /// Parses the frame at `p`; every field read is inside `length`.
    @inlinable
    public static func parse(_ p: UnsafeRawPointer, length: Int) throws(SegmentationError) -> OffloadLayout {
        guard let (l3, type) = Ethernet.l3(p, length: length) else { throw .truncated }
        let ip = p + l3
        let present = length &- l3
        let l4: Int, end: Int, proto: UInt8, v4: Bool
        switch type {
        case Ethernet.typeIPv4:
            guard present >= IPv4.headerLength else { throw .truncated }
            let ihl = IPv4.ihlBytes(ip), total = IPv4.totalLength(ip)
            guard IPv4.version(ip) == 4, ihl >= IPv4.headerLength, total >= ihl else { throw .badIPHeader }
            guard total <= present else { throw .truncated }
            guard !IPv4.isFragment(ip) else { throw .fragment }
            l4 = l3 &+ ihl; end = l3 &+ total; proto = IPv4.protocolNumber(ip); v4 = true
        case Ethernet.typeIPv6:
            guard present >= IPv6.headerLength else { throw .truncated }
            guard IPv6.version(ip) == 6 else { throw .badIPHeader }
            let payload = IPv6.payloadLength(ip)
            guard payload <= present &- IPv6.headerLength else { throw .truncated }
            l4 = l3 &+ IPv6.headerLength; end = l4 &+ payload; proto = IPv6.nextHeader(ip); v4 = false
        default:
            throw .notIP
        }
        let seg = p + l4
        switch proto {
        case IPv4.protocolTCP:
            guard end &- l4 >= 20 else { throw .truncated }
            let doff = Int(seg.load(fromByteOffset: 12, as: UInt8.self) >> 4) << 2
            guard doff >= 20, doff <= end &- l4 else { throw .badL4Header }
            return OffloadLayout(l3: l3, l4: l4, payload: l4 &+ doff, end: end, isIPv4: v4, isTCP: true)
        case IPv4.protocolUDP:
            guard end &- l4 >= UDP.headerLength else { throw .truncated }
            guard UDP.length(seg) == end &- l4 else { throw .badL4Header }
            return OffloadLayout(l3: l3, l4: l4, payload: l4 &+ UDP.headerLength, end: end, isIPv4: v4, isTCP: false)
        case 0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254:
            // hop-by-hop, routing, fragment, ESP, AH, destination options, mobility, HIP, shim6, experiments
            if !v4 { throw .ipv6ExtensionHeader }
            throw .notTCP
        default:
            throw .notTCP
        }
    }

    /// Pseudo-header sum for the L4 segment of the packet at `frame` with this layout, for
    /// an L4 length of `l4Length` bytes.
    @inlinable
    public func pseudoHeader(_ frame: UnsafeRawPointer, l4Length: Int) -> UInt16 {
        let proto = isTCP ? IPv4.protocolTCP : IPv4.protocolUDP
        return isIPv4 ? Checksum.pseudoHeaderV4(frame + l3, protocol: proto, length: l4Length)
                      : Checksum.pseudoHeaderV6(frame + l3, protocol: proto, length: l4Length)
    }

    /// Offset of the L4 checksum field in the L4 header.
    @inlinable public var checksumField: Int { isTCP ? 16 : 6 }
}
