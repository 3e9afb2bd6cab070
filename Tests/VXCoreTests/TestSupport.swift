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
        var ip: [UInt8] = [0x45, 0] + be16(20 + l4.count) + [0x12, 0x34] + (fragment ? [0x20, 0] : [0x40, 0])
        ip += [64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        let c = referenceChecksum(ip)
        ip[10] = UInt8(c >> 8); ip[11] = UInt8(c & 0xFF)
        return ethernet(dst: dst, src: src, type: 0x0800, vlan: vlan) + ip + l4
    }

    static func ipv6(dst: MACAddress = macB, src: MACAddress = macA, proto: UInt8, payload: [UInt8],
                     l4Checksum: UInt16 = 0) -> [UInt8] {
        let l4 = l4Header(proto: proto, payloadCount: payload.count, checksum: l4Checksum) + payload
        var ip: [UInt8] = [0x60, 0, 0, 0] + be16(l4.count) + [proto, 64]
        ip += hex("fd00 0000 0000 0000 0000 0000 0000 0001") + hex("fd00 0000 0000 0000 0000 0000 0000 0002")
        return ethernet(dst: dst, src: src, type: 0x86DD) + ip + l4
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
    let v4 = frame[l3] >> 4 == 4
    var pseudo: [UInt8]
    let l4Start: Int, proto: UInt8, l4Len: Int
    if v4 {
        l4Start = l3 + Int(frame[l3] & 0xF) * 4
        l4Len = be16(frame, l3 + 2) - (l4Start - l3)
        proto = frame[l3 + 9]
        pseudo = Array(frame[(l3 + 12)..<(l3 + 20)]) + [0, proto] + be16(l4Len)
    } else {
        l4Start = l3 + 40
        l4Len = be16(frame, l3 + 4)
        proto = frame[l3 + 6]
        pseudo = Array(frame[(l3 + 8)..<(l3 + 40)]) + [0, 0] + be16(l4Len) + [0, 0, 0, proto]
    }
    return referenceChecksum(pseudo + Array(frame[l4Start..<(l4Start + l4Len)])) == 0
}
