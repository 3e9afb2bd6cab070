import VXDatapath
/// Template frames for the generator (BPF/trafficgen.c varies them per run) and the rig's
/// fixed addresses. Pure: tested without root.
///
/// A frame "size" is the Ethernet frame as counted on a wire, FCS included (64 B = the
/// minimum frame, 14.88 Mpps at 10G); on a veth there is no FCS, so the bytes sent are size - 4.
public enum BenchAddresses {
    public static let vmMAC: [UInt8] = [0x02, 0x76, 0x6d, 0x00, 0x00, 0x01]       // vm0 in "vm"
    public static let remoteVMMAC: [UInt8] = [0x02, 0x76, 0x6d, 0x00, 0x00, 0x02] // eth0 in "vm2"
    public static let dutUplinkMAC: [UInt8] = [0x02, 0x68, 0x76, 0x00, 0x00, 0x01]
    public static let hv2UplinkMAC: [UInt8] = [0x02, 0x68, 0x76, 0x00, 0x00, 0x02]
    /// Generated source MACs: bytes 3..5 are set by the generator (1...macs).
    public static let generatorMAC: [UInt8] = [0x02, 0x62, 0x67, 0x00, 0x00, 0x01]
    public static let dutVTEP: [UInt8] = [198, 18, 0, 1]
    public static let hv2VTEP: [UInt8] = [198, 18, 0, 2]
    public static let vmIP: [UInt8] = [198, 19, 10, 1]
    public static let remoteVMIP: [UInt8] = [198, 19, 10, 2]
    /// Generated inner source addresses: 198.19.10.100, byte 2 raised by flow >> 15.
    public static let generatorIP: [UInt8] = [198, 19, 10, 100]
    public static let vni: UInt32 = 1000
    /// UDP destination of generated inner frames (discard); the sink counts it as class `bench`.
    public static let benchPort: UInt16 = 9

    public static func text(mac: [UInt8]) -> String { mac.map { hex2($0) }.joined(separator: ":") }
    public static func text(ip: [UInt8]) -> String { ip.map(String.init).joined(separator: ".") }
    static func hex2(_ b: UInt8) -> String { let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }
}

/// Direction of a measurement through the switch.
public enum BenchDirection: String, Sendable, Codable, CaseIterable {
    /// VM port -> underlay: plain frames into the access port, VXLAN counted on the far uplink veth.
    case encap
    /// Underlay -> VM port: VXLAN into the uplink, plain frames counted on the VM's veth.
    case decap
}

public enum BenchFrames {
    public static let vxlanOverhead = 50 // outer eth 14 + ipv4 20 + udp 8 + vxlan 8

    /// eth | ipv4 | udp(dport 9) | zero payload, `size - 4` bytes (size counts the FCS).
    public static func plain(size: Int, src: [UInt8], dst: [UInt8], srcIP: [UInt8], dstIP: [UInt8]) -> [UInt8] {
        let length = max(size - 4, 42)
        var f = [UInt8](repeating: 0, count: length)
        f.replaceSubrange(0..<6, with: dst)
        f.replaceSubrange(6..<12, with: src)
        f[12] = 0x08; f[13] = 0x00
        ipv4(&f, at: 14, total: length - 14, protocol: 17, src: srcIP, dst: dstIP)
        udp(&f, at: 34, length: length - 34, sport: 1024, dport: BenchAddresses.benchPort)
        return f
    }

    /// outer eth | ipv4 | udp 4789 | vxlan(vni) | `inner`.
    public static func vxlan(inner: [UInt8], src: [UInt8], dst: [UInt8], srcIP: [UInt8], dstIP: [UInt8], vni: UInt32) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: vxlanOverhead)
        f.replaceSubrange(0..<6, with: dst)
        f.replaceSubrange(6..<12, with: src)
        f[12] = 0x08; f[13] = 0x00
        let total = 36 + inner.count
        ipv4(&f, at: 14, total: total, protocol: 17, src: srcIP, dst: dstIP)
        udp(&f, at: 34, length: total - 20, sport: 49152, dport: 4789)
        f[42] = 0x08 // VXLAN flags: I (VNI valid)
        f[46] = UInt8(truncatingIfNeeded: vni >> 16); f[47] = UInt8(truncatingIfNeeded: vni >> 8); f[48] = UInt8(truncatingIfNeeded: vni)
        return f + inner
    }

    /// The template the generator sends for `direction` at inner frame `size`, and its layout.
    public static func template(direction: BenchDirection, size: Int) -> ([UInt8], GeneratorLayout) {
        let a = BenchAddresses.self
        switch direction {
        case .encap:
            return (plain(size: size, src: a.generatorMAC, dst: a.remoteVMMAC, srcIP: a.generatorIP, dstIP: a.remoteVMIP), .plain)
        case .decap:
            let inner = plain(size: size, src: a.generatorMAC, dst: a.vmMAC, srcIP: a.generatorIP, dstIP: a.vmIP)
            return (vxlan(inner: inner, src: a.hv2UplinkMAC, dst: a.dutUplinkMAC, srcIP: a.hv2VTEP, dstIP: a.dutVTEP, vni: a.vni), .vxlan4)
        }
    }

    static func ipv4(_ f: inout [UInt8], at o: Int, total: Int, protocol p: UInt8, src: [UInt8], dst: [UInt8]) {
        f[o] = 0x45
        f[o + 2] = UInt8(total >> 8); f[o + 3] = UInt8(total & 0xff)
        f[o + 6] = 0x40 // DF
        f[o + 8] = 64
        f[o + 9] = p
        f.replaceSubrange(o + 12..<o + 16, with: src)
        f.replaceSubrange(o + 16..<o + 20, with: dst)
        var sum: UInt32 = 0
        for i in stride(from: o, to: o + 20, by: 2) { sum += UInt32(f[i]) << 8 | UInt32(f[i + 1]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        let c = ~UInt16(sum)
        f[o + 10] = UInt8(c >> 8); f[o + 11] = UInt8(c & 0xff)
    }

    static func udp(_ f: inout [UInt8], at o: Int, length: Int, sport: UInt16, dport: UInt16) {
        f[o] = UInt8(sport >> 8); f[o + 1] = UInt8(sport & 0xff)
        f[o + 2] = UInt8(dport >> 8); f[o + 3] = UInt8(dport & 0xff)
        f[o + 4] = UInt8(length >> 8); f[o + 5] = UInt8(length & 0xff)
        // checksum 0: none (IPv4)
    }
}

/// 10 Gbit/s Ethernet line rate for a frame size (FCS included): preamble 8 + IFG 12 per frame.
public func lineRateMpps(size: Int, gbps: Double = 10) -> Double {
    gbps * 1e9 / (Double(size + 20) * 8) / 1e6
}
