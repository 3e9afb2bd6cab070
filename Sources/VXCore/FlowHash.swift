/// Inner-flow hash for the outer UDP source port: the MAC pair, and when present the IP
/// addresses, protocol and TCP/UDP ports, so one flow keeps one underlay ECMP path.
public enum FlowHash {
    @inlinable @inline(__always)
    static func mix(_ h: UInt64, _ x: UInt64) -> UInt64 {
        let m = (h ^ x) &* 0x9E37_79B9_7F4A_7C15
        return m ^ (m >> 29)
    }

    /// Hash of the inner frame at `p` (at least an Ethernet header long).
    @inlinable public static func hash(_ p: UnsafeRawPointer, length: Int) -> UInt32 {
        var h = mix(0x243F_6A88_85A3_08D3, p.loadUnaligned(as: UInt64.self))
        h = mix(h, UInt64(p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        guard let (l3, type) = Ethernet.l3(p, length: length) else { return fin(h) }
        let ip = p + l3, present = length &- l3
        var proto: UInt8 = 0, l4 = 0
        if type == Ethernet.typeIPv4, present >= IPv4.headerLength {
            h = mix(h, ip.loadUnaligned(fromByteOffset: 12, as: UInt64.self))
            proto = IPv4.protocolNumber(ip)
            l4 = IPv4.isFragment(ip) ? 0 : IPv4.ihlBytes(ip)
        } else if type == Ethernet.typeIPv6, present >= IPv6.headerLength {
            for off in stride(from: 8, to: 40, by: 8) { h = mix(h, ip.loadUnaligned(fromByteOffset: off, as: UInt64.self)) }
            proto = IPv6.nextHeader(ip)
            l4 = IPv6.headerLength
        } else {
            return fin(h)
        }
        h = mix(h, UInt64(proto))
        if (proto == IPv4.protocolTCP || proto == IPv4.protocolUDP), l4 >= IPv4.headerLength, present >= l4 &+ 4 {
            h = mix(h, UInt64(ip.loadUnaligned(fromByteOffset: l4, as: UInt32.self)))
        }
        return fin(h)
    }

    @inlinable @inline(__always)
    static func fin(_ h: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: h >> 32 ^ h) }

    /// Maps a hash into `range` without a division (multiply-shift, as Linux does).
    @inlinable public static func sourcePort(_ hash: UInt32, in range: ClosedRange<UInt16>) -> UInt16 {
        let span = UInt64(range.upperBound) &- UInt64(range.lowerBound) &+ 1
        return range.lowerBound &+ UInt16(truncatingIfNeeded: (UInt64(hash) &* span) >> 32)
    }
}
