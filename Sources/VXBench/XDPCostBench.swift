import Foundation
import VXCore
import VXDatapath
import VXLabKit
import VXSwitch

/// `vxsw bench xdp`: what the XDP fast path costs per frame, as the kernel times it. The
/// switch's own program (BPF/vxsw_xdp.c) with its fast-path maps filled from a real
/// `SwitchPipeline` (`FastPathTables`, as the daemon derives them), run over fixed frames with
/// BPF_PROG_RUN `repeat` times each; in the same run the same frames through a two-instruction
/// XDP_DROP program, which is what BPF_PROG_RUN itself costs. Deterministic it is not (the
/// kernel's clock, this machine's load): medians over runs, and the difference to XDP_DROP.
///
/// Cases: `encap` (a VM's frame on an access port to a remote MAC: VXLAN-encapsulated and
/// redirected to the uplink) and `decap` (a remote VTEP's frame on the uplink to a local VM:
/// decapsulated and redirected to its port). The table holds `macs` remote MACs over `vnis`
/// VNIs; encap frames go to `distinct` different MACs of VNI 1000, one after another (each
/// repeated: its FDB bucket is cache-hot within its repeats — the per-frame cost, not a cache
/// miss study).
public struct XDPCostBench {
    public struct Sample: Codable, Sendable {
        public var direction: String
        public var macs: Int
        public var vnis: Int
        public var run: Int
        /// Mean ns per frame through vxsw's XDP program, and through XDP_DROP, same frames.
        public var vxswNanoseconds: Double
        public var dropNanoseconds: Double
        /// The fast path's counters that moved (e.g. fast_encap): proof the frames took it.
        public var counters: [String: UInt64]
    }

    let log: (String) -> Void
    public init(log: @escaping (String) -> Void) { self.log = log }

    let uplink = PortID(0), vmPort = PortID(1)
    /// BPF_PROG_RUN needs an existing interface as the frame's ingress: loopback stands in for
    /// the port the case's frames arrive on; the others get ifindexes no frame comes from.
    let loopback: Int32 = 1

    func mac(_ b: [UInt8]) -> MACAddress { MACAddress(b[0], b[1], b[2], b[3], b[4], b[5]) }

    /// Runs in a namespace of its own, which has no interface but loopback: live mode carries
    /// the redirects out, and there they find no target (nothing is sent anywhere).
    public func run(macs: Int, vnis: Int, distinct: Int, repeat count: UInt32, runs: Int) throws -> [Sample] {
        let namespace = try NetworkNamespace("vxxdp\(labTag)")
        defer { namespace.remove() }
        try namespace.exec(["ip", "link", "set", "lo", "up"])
        return try namespace.enter { try measure(macs: macs, vnis: vnis, distinct: distinct, repeat: count, runs: runs) }
    }

    func measure(macs: Int, vnis: Int, distinct: Int, repeat count: UInt32, runs: Int) throws -> [Sample] {
        let a = BenchAddresses.self
        let vtep = IPAddress(a.text(ip: a.hv2VTEP))!, nextHop = mac(a.hv2UplinkMAC)
        let vmMAC = mac(a.vmMAC), remoteVM = mac(a.remoteVMMAC)
        var underlay = UnderlayConfig(uplink: uplink, uplinkMAC: mac(a.dutUplinkMAC),
                                      localV4: IPAddress(a.text(ip: a.dutVTEP)))
        underlay.uplinkMTU = 1600
        var pipeline = SwitchPipeline(underlay: underlay, maxPorts: 8, maxBridgeDomains: max(8, vnis + 1),
                                      maxVTEPs: 8, fdbCapacity: macs + 1024)
        let first = VNI(a.vni)!
        for i in 0..<vnis { pipeline.addVNI(VNI(a.vni + UInt32(i))!) }
        pipeline.setPort(vmPort, PortConfig(kind: .access(first)))
        pipeline.setNextHop(vtep: vtep, nextHop)
        let bd = pipeline.bridgeDomains.index(of: first)!
        _ = pipeline.fdb.learnLocal(bd: bd, mac: vmMAC, port: vmPort, now: 1)
        pipeline.addStaticMAC(vni: first, remoteVM, vtep: vtep)
        // The table: `macs` remote MACs, VNI by VNI in turn; the encap frames' targets are in VNI 1000.
        var targets: [MACAddress] = [remoteVM]
        for i in 1..<max(1, macs) {
            let mac = MACAddress(0x02, 0x4d, UInt8(truncatingIfNeeded: i >> 24), UInt8(truncatingIfNeeded: i >> 16),
                                 UInt8(truncatingIfNeeded: i >> 8), UInt8(truncatingIfNeeded: i))
            let vni = VNI(a.vni + UInt32(i % vnis))!
            pipeline.addStaticMAC(vni: vni, mac, vtep: vtep)
            if i % vnis == 0, targets.count < distinct { targets.append(mac) }
        }
        let program = try XDPProgram()
        let maps = try FastPathMaps(program: program)
        try program.setConfig(vtep4: underlay.localV4, vtep6: nil, udpPort: VXLAN.defaultPort)
        let drop = try XDPDropProgram()

        let encapFrames = targets.map {
            BenchFrames.plain(size: 64, src: a.vmMAC, dst: $0.bytes, srcIP: a.vmIP, dstIP: a.remoteVMIP)
        }
        let decapFrames = [BenchFrames.vxlan(inner: BenchFrames.plain(size: 64, src: a.remoteVMMAC, dst: a.vmMAC,
                                                                      srcIP: a.remoteVMIP, dstIP: a.vmIP),
                                             src: a.hv2UplinkMAC, dst: a.dutUplinkMAC, srcIP: a.hv2VTEP, dstIP: a.dutVTEP, vni: a.vni)]
        var tables = FastPathTables()
        var samples: [Sample] = []
        for r in 1...runs {
            for (direction, ingress, frames) in [("encap", vmPort, encapFrames), ("decap", uplink, decapFrames)] {
                var ifindex: [PortID: Int32] = [uplink: 900, vmPort: 901]
                ifindex[ingress] = loopback
                let new = FastPathTables(pipeline: pipeline, ifindex: ifindex)
                try maps.apply(from: tables, to: new, enabled: true)
                tables = new
                try program.setPort(ifindex: loopback, slot: 1, role: ingress == uplink ? .uplink : .access)
                let before = program.statistics()
                let perFrame = max(1, count / UInt32(frames.count))
                var vxswTotal = 0.0, dropTotal = 0.0
                for frame in frames {
                    vxswTotal += Double(try xdpRunTime(programFD: program.programFD, frame: frame, ingressIfindex: loopback, repeat: perFrame))
                    dropTotal += Double(try xdpRunTime(programFD: drop.programFD, frame: frame, ingressIfindex: loopback, repeat: perFrame))
                }
                let after = program.statistics()
                var moved: [String: UInt64] = [:]
                for (name, value) in after where value != (before[name] ?? 0) { moved[name] = value &- (before[name] ?? 0) }
                // Every frame must have taken the fast path (live mode returns no verdict).
                let expected = direction == "encap" ? "fast_encap" : "fast_decap"
                guard moved[expected] == UInt64(perFrame) * UInt64(frames.count), moved.count == 1 else {
                    throw SwitchError("bench xdp: the \(direction) frames did not all take the fast path: counters moved \(moved)")
                }
                let s = Sample(direction: direction, macs: macs, vnis: vnis, run: r, vxswNanoseconds: vxswTotal / Double(frames.count),
                               dropNanoseconds: dropTotal / Double(frames.count), counters: moved)
                log(String(format: "%@ macs=%d vnis=%d run %d: vxsw %.1f ns/frame, XDP_DROP %.1f ns/frame %@", direction, macs, vnis, r,
                           s.vxswNanoseconds, s.dropNanoseconds, moved.description))
                samples.append(s)
            }
        }
        return samples
    }
}
