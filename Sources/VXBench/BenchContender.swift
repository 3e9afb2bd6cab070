import Foundation
import VXConfig
import VXLab
import VXLabKit
import VXSwitch

/// A switch measured by `vxsw bench`. It is started in the rig's `dut` namespace, between
/// the access veth `acc0` and the uplink veth `ul0`, and stopped (by PID, links removed)
/// before the rig goes.
public protocol BenchContender: AnyObject {
    /// Short id used on the command line and in the results: ceiling, kernel, ovs, vxsw-afxdp, vxsw-xdp.
    var id: String { get }
    /// One line for the results: what runs and how it is configured.
    var summary: String { get }
    /// False for the rig ceiling, which forwards nothing (no TCP or latency test).
    var forwards: Bool { get }
    func start(rig: BenchRig, workDir: String, log: (String) -> Void) throws
    func stop()
    /// Seconds to wait after each warm-up before measuring (vxsw-xdp: the daemon mirrors what
    /// the engine learnt into the fast-path maps every 200 ms). Default 0.
    var settleSeconds: Double { get }
    /// The switch's XDP program counters (`vxsw show stats --json` → `xdp`), read before and
    /// after each run to show which path the frames took; nil where there are none.
    func xdpCounters() -> [String: UInt64]?
}

extension BenchContender {
    public var settleSeconds: Double { 0 }
    public func xdpCounters() -> [String: UInt64]? { nil }
}

/// Rig ceiling: no switch; the sink sits on the dut end of the generator's veth, so the figure
/// is what the generator and one veth hop can do on this machine.
public final class CeilingContender: BenchContender {
    public let id = "ceiling"
    public let summary = "rig ceiling: generator -> veth -> XDP_DROP on the dut end (no switch)"
    public let forwards = false
    public init() {}
    public func start(rig: BenchRig, workDir: String, log: (String) -> Void) throws {}
    public func stop() {}
}

/// The Linux way: a bridge with the access veth and a kernel vxlan device, static FDB entries.
public final class KernelContender: BenchContender {
    public let id = "kernel"
    public let summary = "Linux bridge + kernel vxlan (VNI 1000, static FDB for the remote and local VM MAC, learning on)"
    public let forwards = true
    public init() {}

    public func start(rig: BenchRig, workDir: String, log: (String) -> Void) throws {
        let a = BenchAddresses.self, d = rig.dut
        try d.exec(["ip", "link", "add", "br0", "type", "bridge"])
        try d.exec(["ip", "link", "add", "vx0", "type", "vxlan", "id", String(a.vni), "local", a.text(ip: a.dutVTEP),
                    "dstport", "4789", "dev", "ul0", "nolearning"])
        try d.exec(["ip", "link", "set", "vx0", "mtu", "1500", "master", "br0", "up"])
        try d.exec(["ip", "link", "set", "acc0", "master", "br0"])
        try d.exec(["ip", "link", "set", "br0", "up"])
        try d.exec(["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vx0", "dst", a.text(ip: a.hv2VTEP)])
        try d.exec(["bridge", "fdb", "add", a.text(mac: a.remoteVMMAC), "dev", "vx0", "dst", a.text(ip: a.hv2VTEP), "self", "permanent"])
        try d.exec(["bridge", "fdb", "replace", a.text(mac: a.remoteVMMAC), "dev", "vx0", "master", "static"])
        try d.exec(["bridge", "fdb", "replace", a.text(mac: a.vmMAC), "dev", "acc0", "master", "static"])
        log("kernel: br0 { acc0, vx0 (VNI \(a.vni), remote \(a.text(ip: a.hv2VTEP))) }")
    }

    public func stop() {} // removed with the rig's namespaces
}

/// The knobs of a vxsw contender that `vxsw bench` sets (and `--sweep` varies).
public struct VXSWKnobs: Codable, Sendable, Equatable {
    public var ringSize = 2048
    public var frames = 16384
    public var batchSize = 64
    /// busy | adaptive | interrupt (`datapath.poll`).
    public var poll = "busy"
    /// `datapath.busy-poll`: SO_BUSY_POLL µs, SO_BUSY_POLL_BUDGET, SO_PREFER_BUSY_POLL; nil: off.
    public var busyPollMicroseconds: Int?
    public var busyPollBudget = 64
    public var preferBusyPoll = true
    /// Also set the dut veths' `napi_defer_hard_irqs` 2 and `gro_flush_timeout` 200 µs (the
    /// kernel's recipe for SO_PREFER_BUSY_POLL).
    public var napiDefer = false

    public init() {}

    /// The bench's defaults, which the main table uses.
    public static let defaults = VXSWKnobs()

    public var text: String {
        var t = "ring \(ringSize), frames \(frames), batch \(batchSize), poll \(poll)"
        if let us = busyPollMicroseconds {
            t += ", busy-poll \(us) µs budget \(busyPollBudget)\(preferBusyPoll ? " prefer" : "")"
        }
        if napiDefer { t += ", napi_defer_hard_irqs 2 + gro_flush_timeout 200 µs" }
        return t
    }
}

/// vxsw (`vxsw run`, this binary) with a generated config, worker on `cpu`: the AF_XDP engine
/// (`vxsw-afxdp`, fast path off) or the XDP fast path (`vxsw-xdp`, `fast-path: true`).
public final class VXSWContender: BenchContender {
    public let id: String
    public let forwards = true
    let binary: String
    let cpu: Int
    /// Worker CPUs (`datapath.workers`); default: `cpu` alone.
    let workerCPUs: [Int]
    let knobs: VXSWKnobs
    let fastPath: Bool
    /// The VM port's `io` (`auto`: AF_XDP on the rig's veth; `packet`: a packet socket with
    /// the virtio-net header, so the VM's TSO frames arrive whole).
    let portIO: SwitchConfig.Port.IO
    private var child: ChildProcess?
    private var socket = ""

    public var summary: String {
        if portIO == .packet {
            return "vxsw run with acc0 on io: packet (a packet socket with the virtio-net header: the VM's TSO frames arrive "
                + "whole, and are cut by vxsw or, toward a resolved VTEP, by the kernel through tunnel GSO), fast-path: false, "
                + "uplink on AF_XDP (\(knobs.text)), 1 worker on CPU \(cpu), \(BenchReportWriter.buildKind(binary)) build"
        }
        if fastPath {
            return "vxsw run with datapath.fast-path: true (known unicast encap/decap in the XDP program, bpf_redirect "
                + "between the veths; the rig's veth peers have GRO on, which a veth needs to take redirects), native XDP "
                + "attach; the FDB is primed by each warm-up (the engine learns the generator's MAC, the daemon mirrors it "
                + "into the fast-path maps) and \(settleSeconds) s of settling; AF_XDP engine for the rest: \(knobs.text), "
                + "1 worker on CPU \(cpu), \(BenchReportWriter.buildKind(binary)) build"
        }
        return "vxsw run (AF_XDP copy mode, native XDP attach, fast-path: false, 1 worker on CPU \(cpu), \(knobs.text), "
            + "\(BenchReportWriter.buildKind(binary)) build)"
    }

    /// With the fast path the worker polls adaptively (unless `knobs` say otherwise): it only
    /// sees what XDP declines, and the second core's figure then shows what the fast path costs.
    public init(binary: String, cpu: Int, knobs: VXSWKnobs? = nil, fastPath: Bool = false, workerCPUs: [Int]? = nil,
                portIO: SwitchConfig.Port.IO = .auto) {
        self.id = portIO == .packet ? "vxsw-packet" : fastPath ? "vxsw-xdp" : "vxsw-afxdp"
        self.portIO = portIO
        self.binary = binary
        self.cpu = cpu
        self.workerCPUs = workerCPUs ?? [cpu]
        var k = knobs ?? .defaults
        if fastPath && knobs == nil { k.poll = "adaptive" }
        self.knobs = k
        self.fastPath = fastPath
    }

    /// Two rounds of the daemon's fast-path mirroring (200 ms each) and some.
    public var settleSeconds: Double { fastPath ? 0.6 : 0 }

    public func config(socket: String) -> String {
        let a = BenchAddresses.self, k = knobs
        let busyPoll = k.busyPollMicroseconds.map {
            "{ timeout-us: \($0), budget: \(k.busyPollBudget), prefer: \(k.preferBusyPoll) }"
        } ?? "off"
        return """
        # Generated by `vxsw bench`: the switch under test.
        vtep:
          ipv4: \(a.text(ip: a.dutVTEP))
          udp-port: 4789
        uplink:
          interface: ul0
        vnis:
          - vni: \(a.vni)
            flood: [\(a.text(ip: a.hv2VTEP))]
        ports:
          - name: acc0
            vni: \(a.vni)
            io: \(portIO.rawValue)
        fdb:
          # `--macs` measures forwarding with many sources, not the limits against a flooding VM.
          vni-mac-limit: off
          port-mac-limit: off
          static:
            - { vni: \(a.vni), mac: "\(a.text(mac: a.remoteVMMAC))", vtep: \(a.text(ip: a.hv2VTEP)) }
            - { vni: \(a.vni), mac: "\(a.text(mac: a.vmMAC))", port: acc0 }
        datapath:
          workers: [\(workerCPUs.map(String.init).joined(separator: ", "))]
          ring-size: \(k.ringSize)
          frames: \(k.frames)
          batch-size: \(k.batchSize)
          poll: \(k.poll)
          attach: native
          fast-path: \(fastPath)
          busy-poll: \(busyPoll)
        control:
          socket: \(socket)
          metrics: off
          state-file: off

        """
    }

    public func start(rig: BenchRig, workDir: String, log: (String) -> Void) throws {
        socket = workDir + "/vxsw.sock"
        let path = workDir + "/vxsw.yaml"
        if knobs.napiDefer {
            for dev in ["acc0", "ul0"] {
                try rig.dut.exec(["sh", "-c", "echo 2 > /sys/class/net/\(dev)/napi_defer_hard_irqs && "
                                  + "echo 200000 > /sys/class/net/\(dev)/gro_flush_timeout"])
            }
        }
        try config(socket: socket).write(toFile: path, atomically: true, encoding: .utf8)
        log("vxsw: \(binary) run --config \(path)")
        child = try startSwitchProcess(binary: binary, config: path, socket: socket, in: rig.dut, logPath: workDir + "/vxsw.log")
    }

    /// `vxsw show stats` of the running switch (nil when it does not answer).
    public func stats() -> StatsView? {
        guard let out = try? VXLabKit.run([binary, "show", "stats", "--json", "--socket", socket], check: false), out.succeeded else { return nil }
        return try? JSONDecoder().decode(StatsView.self, from: Data(out.output.utf8))
    }

    /// The switch's PID (nil before `start`).
    public var pid: Int32? { child?.pid }

    public func xdpCounters() -> [String: UInt64]? {
        guard let out = try? VXLabKit.run([binary, "show", "stats", "--json", "--socket", socket], check: false), out.succeeded,
              let json = try? JSONDecoder().decode(JSONValue.self, from: Data(out.output.utf8)),
              case .object(let xdp)? = json["xdp"] else { return nil }
        return xdp.compactMapValues { $0.numberValue.map { UInt64($0) } }
    }

    public func stop() {
        child?.stop()
        child = nil
    }
}
