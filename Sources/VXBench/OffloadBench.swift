import Foundation
import VXLabKit

/// The kernel bridge + vxlan path with its offloads turned off (GSO, TSO, checksum, tunnel
/// segmentation; GRO too, except on the two veths whose peers the packet generator XDP_TXes
/// into, which need NAPI), so `vxsw bench offload` shows what the offloads buy.
public final class KernelNoOffloadContender: BenchContender {
    public let id = "kernel-nooffload"
    public let forwards = true
    public let summary = "Linux bridge + kernel vxlan, offloads off (gso, tso, tx/rx checksum, tx-udp_tnl-segmentation, tx-udp_tnl-csum-segmentation, gro except where the generator needs NAPI)"
    private let kernel = KernelContender()
    /// What `ethtool -k` reported after the change, per interface, for the results.
    public private(set) var applied: [String] = []

    static let features = ["gso", "tso", "tx", "rx", "tx-udp_tnl-segmentation", "tx-udp_tnl-csum-segmentation", "gro"]

    public init() {}

    public func start(rig: BenchRig, workDir: String, log: (String) -> Void) throws {
        try kernel.start(rig: rig, workDir: workDir, log: log)
        let devices: [(NetworkNamespace, String, keepGRO: Bool)] = [
            (rig.vm, "vm0", false), (rig.dut, "acc0", true), (rig.dut, "ul0", true), (rig.dut, "vx0", false),
            (rig.dut, "br0", false), (rig.hv2, "ul0", false), (rig.hv2, "vx0", false), (rig.hv2, "br0", false),
            (rig.hv2, "t2", false), (rig.vm2, "eth0", false),
        ]
        for (ns, dev, keepGRO) in devices {
            // One feature at a time: a device that cannot change one (fixed) still changes the rest.
            for f in Self.features where !(keepGRO && f == "gro") {
                _ = try? ns.exec(["ethtool", "-K", dev, f, "off"], check: false)
            }
            let state = (try? ns.exec(["ethtool", "-k", dev]).output) ?? ""
            let on = state.split(separator: "\n").filter { line in
                ["generic-segmentation-offload", "tcp-segmentation-offload", "tx-checksumming", "rx-checksumming",
                 "tx-udp_tnl-segmentation", "tx-udp_tnl-csum-segmentation", "generic-receive-offload"]
                    .contains { line.hasPrefix($0 + ": on") }
            }.map { $0.split(separator: ":")[0] }
            applied.append("\(ns.name.split(separator: "-").last ?? ""):\(dev) still on: \(on.isEmpty ? "none" : on.joined(separator: ", "))")
        }
        log("kernel-nooffload: offloads off on \(devices.count) interfaces; " + applied.joined(separator: "; "))
    }

    public func stop() { kernel.stop() }
}

/// `vxsw bench offload`: which path suits which traffic on this host, from one run of the
/// kernel path with and without offloads and vxsw's two paths: 64-byte packet rate both ways
/// and TCP bulk goodput.
public enum OffloadVerdict {
    public static let contenders = ["kernel", "kernel-nooffload", "vxsw-afxdp", "vxsw-xdp"]

    static let names = [
        "kernel": "kernel bridge+vxlan, offloads on",
        "kernel-nooffload": "kernel bridge+vxlan, offloads off",
        "vxsw-afxdp": "vxsw AF_XDP engine",
        "vxsw-xdp": "vxsw XDP fast path",
    ]

    public static func markdown(_ r: BenchReport, host: String) -> String {
        func pps(_ c: String, _ d: BenchDirection) -> Double? {
            r.packets.first { $0.contender == c && $0.direction == d && $0.size == 64 && $0.error == nil && !$0.samples.isEmpty }?.mpps.median
        }
        func tcp(_ c: String, _ streams: Int) -> Double? {
            r.tcp.first { $0.contender == c && $0.streams == streams && $0.error == nil && !$0.gbps.isEmpty }?.spread.median
        }
        func f(_ v: Double?, _ digits: Int = 3) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "—" }
        var out = "# vxsw bench offload: NIC offload vs software path\n\n"
        out += "- command: `\(r.command)`\n- date: \(r.date)\n- host: \(host)\n"
        out += "- machine: \(r.machine.cpuModel), \(r.machine.vcpus) vCPUs, kernel \(r.machine.kernel), load at start \(r.machine.loadAverageAtStart)\n"
        out += "- build: \(r.build)\n- \(r.settings.runs) run(s) of \(r.settings.seconds) s per point (median); TCP \(r.settings.tcpSeconds) s with iperf3\n\n"
        out += "| path | 64 B encap Mpps | 64 B decap Mpps | TCP 1 stream Gbit/s | TCP 4 streams Gbit/s |\n|---|---:|---:|---:|---:|\n"
        for c in contenders {
            out += "| \(names[c] ?? c) | \(f(pps(c, .encap))) | \(f(pps(c, .decap))) | \(f(tcp(c, 1), 2)) | \(f(tcp(c, 4), 2)) |\n"
        }
        func best(_ value: (String) -> Double?) -> (String, Double)? {
            contenders.compactMap { c in value(c).map { (c, $0) } }.max { $0.1 < $1.1 }
        }
        out += "\n## Which path suits which traffic\n\n"
        if let (c, v) = best({ c in pps(c, .encap).flatMap { e in pps(c, .decap).map { (e + $0) / 2 } } }) {
            let k = pps("kernel", .encap).flatMap { e in pps("kernel", .decap).map { (e + $0) / 2 } }
            out += "- **Small packets (64 B, packet rate)**: \(names[c] ?? c), \(f(v)) Mpps averaged over both directions"
            out += k.map { String(format: ", %.1f× the kernel path with offloads", v / $0) } ?? ""
            out += ". Offloads do nothing for small frames: each one still crosses the stack on its own.\n"
        }
        if let (c, v) = best({ tcp($0, 1) }) {
            out += "- **Bulk TCP (one stream)**: \(names[c] ?? c), \(f(v, 2)) Gbit/s."
            if let on = tcp("kernel", 1), let off = tcp("kernel-nooffload", 1) {
                out += String(format: " Offloads are worth %.1f× to the kernel path (%.2f vs %.2f Gbit/s): GSO/GRO move 64 KB segments through the bridge and vxlan once, instead of 1500-byte frames.", on / max(off, 0.001), on, off)
            }
            if let a = tcp("vxsw-afxdp", 1), let x = tcp("vxsw-xdp", 1) {
                out += String(format: " vxsw's paths move every 1500-byte frame on its own (AF_XDP %.2f, XDP fast path %.2f Gbit/s): an XDP program on a veth turns TSO off on its peer, and copy-mode AF_XDP has no GSO.", a, x)
            }
            out += "\n"
        }
        out += "\nNotes: the rig is veths in namespaces (this host has no physical NIC to test), so \"NIC offload\" here means the kernel's software offloads on veth: GSO/GRO segmentation and checksum offload. On a NIC with tunnel offload (tx-udp_tnl-segmentation in hardware) the kernel path gains more for bulk TCP. Speed is measured, never asserted; the figures come from one run on a shared 2-vCPU VM.\n"
        let extra = r.notes.filter { $0.hasPrefix("kernel-nooffload") }
        if !extra.isEmpty { out += "\n" + extra.map { "- \($0)" }.joined(separator: "\n") + "\n" }
        return out
    }
}
