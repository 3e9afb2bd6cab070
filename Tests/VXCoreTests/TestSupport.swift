import XCTest
@testable import VXCore

/// Straightforward RFC 1071 reference: sum big-endian byte pairs in a UInt32, fold, invert.
func referenceChecksum(_ bytes: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var i = 0
    while i < bytes.count {
        let hi = UInt32(bytes[i]) << 8
        let lo = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
        sum += hi | lo
        i += 2
    }
    while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
    return ~UInt16(sum)
}

func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
func be16(_ b: [UInt8], _ at: Int) -> Int { Int(b[at]) << 8 | Int(b[at + 1]) }

func hex(_ s: String) -> [UInt8] {
    let digits = s.filter { $0.isHexDigit }
    var out: [UInt8] = []
    var it = digits.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}

func withBytes<R>(_ bytes: inout [UInt8], _ body: (UnsafeMutableRawPointer, Int) -> R) -> R {
    bytes.withUnsafeMutableBytes { body($0.baseAddress!, $0.count) }
}

let macA = MACAddress(0x02, 0, 0, 0, 0, 0x0A)
let macB = MACAddress(0x02, 0, 0, 0, 0, 0x0B)
let macC = MACAddress(0x02, 0, 0, 0, 0, 0x0C)
let macD = MACAddress(0x02, 0, 0, 0, 0, 0x0D)

/// Frame builders for inner (tenant) frames.
enum Build {
    static func ethernet(dst: MACAddress, src: MACAddress, type: Int, vlan: Int? = nil) -> [UInt8] {
        var b = dst.bytes + src.bytes
        if let vlan { b += be16(0x8100) + be16(vlan) }
        return b + be16(type)
    }

    /// Ethernet + IPv4 + L4 (proto 6 or 17) with `payload`; L4 checksum left as `l4Checksum`.
    static func ipv4(dst: MACAddress = macB, src: MACAddress = macA, vlan: Int? = nil, proto: UInt8,
                     payload: [UInt8], l4Checksum: UInt16 = 0, fragment: Bool = false) -> [UInt8] {
        let l4 = l4Header(proto: proto, payloadCount: payload.count, checksum: l4Checksum) + payload
        return ethernet(dst: dst, src: src, type: 0x0800, vlan: vlan)
            + ipv4Header(proto: proto, l4Count: l4.count, fragment: fragment) + l4
    }

    /// IPv4 header 10.0.0.1 → 10.0.0.2 with a valid header checksum.
    static func ipv4Header(proto: UInt8, l4Count: Int, id: Int = 0x1234, tos: UInt8 = 0, ttl: UInt8 = 64,
                           fragment: Bool = false, options: [UInt8] = []) -> [UInt8] {
        let ihl = 20 + options.count
        var ip: [UInt8] = [0x40 | UInt8(ihl / 4), tos] + be16(ihl + l4Count) + be16(id) + (fragment ? [0x20, 0] : [0x40, 0])
        ip += [ttl, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2] + options
        let c = referenceChecksum(ip)
        ip[10] = UInt8(c >> 8); ip[11] = UInt8(c & 0xFF)
        return ip
    }

    /// IPv6 header fd00::1 → fd00::2.
    static func ipv6Header(proto: UInt8, l4Count: Int, trafficClass: UInt8 = 0, flowLabel: Int = 0,
                           hopLimit: UInt8 = 64) -> [UInt8] {
        let word = 6 << 28 | Int(trafficClass) << 20 | flowLabel & 0xFFFFF
        return be16(word >> 16) + be16(word & 0xFFFF) + be16(l4Count) + [proto, hopLimit]
            + hex("fd00 0000 0000 0000 0000 0000 0000 0001") + hex("fd00 0000 0000 0000 0000 0000 0000 0002")
    }

    static func ipv6(dst: MACAddress = macB, src: MACAddress = macA, proto: UInt8, payload: [UInt8],
                     l4Checksum: UInt16 = 0) -> [UInt8] {
        let l4 = l4Header(proto: proto, payloadCount: payload.count, checksum: l4Checksum) + payload
        return ethernet(dst: dst, src: src, type: 0x86DD) + ipv6Header(proto: proto, l4Count: l4.count) + l4
    }

    static func l4Header(proto: UInt8, payloadCount: Int, checksum: UInt16) -> [UInt8] {
        if proto == 17 { return be16(1234) + be16(80) + be16(8 + payloadCount) + be16(Int(checksum)) }
        // TCP: ports, seq, ack, offset 5, flags ACK, window, checksum, urgent.
        return be16(1234) + be16(80) + [0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x10] + be16(65535) + be16(Int(checksum)) + [0, 0]
    }

    /// A minimal Ethernet frame with an arbitrary EtherType and `count` total bytes.
    static func raw(dst: MACAddress, src: MACAddress, count: Int = 64) -> [UInt8] {
        ethernet(dst: dst, src: src, type: 0x88B5) + [UInt8](repeating: 0xEE, count: count - 14)
    }
}

/// Verifies an L4 checksum the slow way: pseudo-header + segment with the reference sum.
func referenceL4Valid(_ frame: [UInt8], l3: Int = 14) -> Bool {
    let (pseudo, l4Start, l4Len) = referencePseudoHeader(frame, l3: l3)
    return referenceChecksum(pseudo + Array(frame[l4Start..<(l4Start + l4Len)])) == 0
}

/// The pseudo-header bytes, L4 start and L4 length of the IPv4/IPv6 packet at `l3`.
func referencePseudoHeader(_ frame: [UInt8], l3: Int) -> (pseudo: [UInt8], l4Start: Int, l4Length: Int) {
    if frame[l3] >> 4 == 4 {
        let l4Start = l3 + Int(frame[l3] & 0xF) * 4
        let l4Len = be16(frame, l3 + 2) - (l4Start - l3)
        return (Array(frame[(l3 + 12)..<(l3 + 20)]) + [0, frame[l3 + 9]] + be16(l4Len), l4Start, l4Len)
    }
    let l4Len = be16(frame, l3 + 4)
    return (Array(frame[(l3 + 8)..<(l3 + 40)]) + [0, 0] + be16(l4Len) + [0, 0, 0, frame[l3 + 6]], l3 + 40, l4Len)
}

/// Writes the correct L4 checksum (field at `field` in the L4 header) into `frame`.
func referenceFillL4Checksum(_ frame: inout [UInt8], l3: Int, field: Int) {
    let (pseudo, l4Start, l4Len) = referencePseudoHeader(frame, l3: l3)
    frame[l4Start + field] = 0; frame[l4Start + field + 1] = 0
    let c = referenceChecksum(pseudo + Array(frame[l4Start..<(l4Start + l4Len)]))
    frame[l4Start + field] = UInt8(c >> 8); frame[l4Start + field + 1] = UInt8(c & 0xFF)
}

/// TCP and UDP frames with every field settable (GSO super-frames, GRO segments).
struct TCPFrame {
    var v6 = false
    var dst = macB, src = macA
    var vlan: Int? = nil
    var srcPort = 1234, dstPort = 80
    var seq: UInt32 = 1000, ack: UInt32 = 2
    var flags: UInt8 = 0x10 // ACK
    var window = 65535
    /// TCP options (a multiple of 4 bytes), e.g. `TCPFrame.timestamps(1, 2)`.
    var options: [UInt8] = []
    var id = 0x1234, tos: UInt8 = 0, ttl: UInt8 = 64, fragment = false
    var ipOptions: [UInt8] = []
    var trafficClass: UInt8 = 0, flowLabel = 0
    /// A valid L4 checksum when true, else 0.
    var validChecksum = true
    var payload: [UInt8] = []

    var l3: Int { vlan == nil ? 14 : 18 }

    /// NOP, NOP, timestamps (kind 8, length 10).
    static func timestamps(_ value: UInt32, _ echo: UInt32) -> [UInt8] {
        [1, 1, 8, 10] + be16(Int(value >> 16)) + be16(Int(value & 0xFFFF)) + be16(Int(echo >> 16)) + be16(Int(echo & 0xFFFF))
    }

    /// `count` payload bytes that differ at every offset within 64 KB.
    static func pattern(_ count: Int, seed: Int = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &+ seed) &* 31 ^ ($0 >> 8)) }
    }

    func tcp() -> [UInt8] {
        let doff = (20 + options.count) / 4
        let header = be16(srcPort) + be16(dstPort) + be16(Int(seq >> 16)) + be16(Int(seq & 0xFFFF))
            + be16(Int(ack >> 16)) + be16(Int(ack & 0xFFFF)) + [UInt8(doff << 4), flags] + be16(window) + [0, 0, 0, 0]
        return frame(proto: 6, l4: header + options + payload, checksumField: 16)
    }

    func udp() -> [UInt8] {
        frame(proto: 17, l4: be16(srcPort) + be16(dstPort) + be16(8 + payload.count) + [0, 0] + payload, checksumField: 6)
    }

    private func frame(proto: UInt8, l4: [UInt8], checksumField: Int) -> [UInt8] {
        let ip = v6 ? Build.ipv6Header(proto: proto, l4Count: l4.count, trafficClass: trafficClass, flowLabel: flowLabel, hopLimit: ttl)
                    : Build.ipv4Header(proto: proto, l4Count: l4.count, id: id, tos: tos, ttl: ttl, fragment: fragment, options: ipOptions)
        var f = Build.ethernet(dst: dst, src: src, type: v6 ? 0x86DD : 0x0800, vlan: vlan) + ip + l4
        if validChecksum { referenceFillL4Checksum(&f, l3: l3, field: checksumField) }
        return f
    }
}
