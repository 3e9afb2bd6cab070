import Foundation
import VXConfig
import VXCore
import VXLabKit
import VXSwitch

/// The lab's real-VM run: two qemu guests with their default virtio-net offloads (TSO on),
/// one on a tap that vxsw switches on hv1, one on a tap in hv2's Linux bridge + kernel vxlan.
///
///     guest1 ── tap1 ── hv1: vxsw ── ul0 ══ ul0 ── hv2: br0 + vx1000 ── tap2 ── guest2
///
/// A veth hides what a real guest sends; this run shows vxsw taking the guest's TSO
/// super-frames whole, segmenting them, and coalescing TCP back toward it.
final class RealVMScenario: SelfContainedScenario, @unchecked Sendable {
    private var rig: RealVMRig?
    private var vxsw: ChildProcess?

    init(binary: String, workDir: String, iperfSeconds: Int, say: @escaping (String) -> Void) {
        super.init(binary: binary, workDir: workDir, iperfSeconds: iperfSeconds, controlPlane: LabRunner.Run.realVMPlane, say: say)
    }

    override var removedMessage: String { "real VMs removed (guests, taps, namespaces)" }

    override func run() -> LabReport {
        defer { stop() }
        do {
            if let reason = RealVMRig.unavailableReason() { throw LabError(reason) }
            say("  booting two qemu guests (TCG, virtio-net on taps, default offloads); the guest image is cached after the first run")
            let rig = try RealVMRig(tag: "lab")
            lock.withLock { self.rig = rig }
            try rig.addBridgeVXLAN(in: rig.hv2, local: rig.hv2Underlay, remote: rig.hv1Underlay)
            let g1 = try rig.startGuest("guest1", in: rig.hv1, tap: "tap1", mac: "52:54:00:77:01:01", ipv4CIDR: "198.19.77.11/24")
            let g2 = try rig.startGuest("guest2", in: rig.hv2, tap: "tap2", mac: "52:54:00:77:02:01", ipv4CIDR: "198.19.77.21/24")
            try rig.attach(g2)
            let socket = workDir + "/vxsw.sock", config = workDir + "/vxsw.yaml"
            try rig.vxswConfig(taps: ["tap1"], socket: socket, header: "vxsw lab (real VMs)").write(toFile: config, atomically: true, encoding: .utf8)
            let child = try startSwitchProcess(binary: binary, config: config, socket: socket, in: rig.hv1, logPath: workDir + "/vxsw.log")
            lock.withLock { vxsw = child }
            try rig.hv1.exec(["ip", "link", "set", "tap1", "up"])
            try g1.waitUntilBooted()
            try g2.waitUntilBooted()
            verify(rig, g1, g2, child, socket: socket)
        } catch {
            report.checks.append(LabCheck(name: "real VMs: build the rig and boot the guests", passed: false, detail: "\(error)"))
            say("  FAIL real VMs — \(error)")
        }
        return report
    }

    private func verify(_ rig: RealVMRig, _ g1: QemuGuest, _ g2: QemuGuest, _ child: ChildProcess, socket: String) {
        check("vxsw attaches the guest's tap through a packet socket with the virtio-net header") {
            (child.log.contains("tap1 as port") && child.log.contains("packet socket"), "")
        }
        check("guest1 runs with its default offloads (TSO on)") {
            let features = try g1.run("ethtool -k eth0")
            return (features.contains("tcp-segmentation-offload: on"), "")
        }
        let show = { (args: [String]) -> JSONValue in
            let out = try VXLabKit.run([self.binary, "show"] + args + ["--json", "--socket", socket], check: false)
            return (try? JSONDecoder().decode(JSONValue.self, from: Data(out.output.utf8))) ?? .null
        }
        check("guest1 -> guest2 ping across VXLAN") { (g1.pings("198.19.77.21").ok, "") }
        check("guest2 -> guest1 ping across VXLAN") { (g2.pings("198.19.77.11").ok, "") }
        // Drops before the guests' traffic are not theirs: a flood that reached tap1 while qemu
        // still had it down counts port_down (as it should); the check below counts from here.
        let statsBefore: StatsView? = try? show(["stats"]).decode()
        let dropsBefore = statsBefore?.drops ?? [:]
        for (label, from, to, address) in [("guest1->guest2", g1, g2, "198.19.77.21"), ("guest2->guest1", g2, g1, "198.19.77.11")] {
            check("TCP \(label) (iperf3, guest TSO/GRO on)") {
                let r = try from.tcpThroughput(to: to, serverAddress: address, seconds: iperfSeconds)
                report.tcpGbps[label] = r.gbps
                return (r.bytes > 0, String(format: "%.2f Gbit/s, %d retransmits", r.gbps, r.retransmits))
            }
        }
        report.ports = (try? show(["ports"])) ?? .null
        report.stats = (try? show(["stats"])) ?? .null
        let stats: StatsView? = try? report.stats.decode()
        let tap = stats?.taps.first { $0.port == "tap1" }?.counters
        // To guest2 behind hv2's VTEP they leave whole: encapsulated in the kernel by the tap path
        // (BPF/lib/tapfast.h), or through the engine and the tunnel tap (tunnel GSO).
        check("guest1's TSO super-frames arrived whole and left whole or segmented") {
            let t = stats?.tunnel
            let kernel = stats?.xdp["fast_tap_encap"] ?? 0, lost = stats?.xdp["fast_tap_lost"] ?? 0
            let out = t?.tap != nil ? "\(t?.counters.superFrames ?? 0) whole through \(t?.tap ?? "")" : "tunnel GSO off (\(t?.unavailable ?? "?"))"
            return (((tap?.rxSuperFrames ?? 0) > 0 || kernel > 0) && lost == 0,
                    "\(kernel) frames encapsulated whole in the kernel (tap path, \(lost) lost); through the engine "
                    + "\(tap?.rxSuperFrames ?? 0) super-frames: \(out), \(tap?.rxSegments ?? 0) segments cut by vxsw")
        }
        check("TCP toward guest1 was coalesced into super-frames (GRO)") {
            ((tap?.txSuperFrames ?? 0) > 0, "\(tap?.txSuperFrames ?? 0) of \(tap?.txFrames ?? 0) frames sent")
        }
        // A slow (TCG) guest that does not drain its tap in time pushes back: the tap's queue is
        // full and the frame is counted tx_ring_full on the tap, where the bridge drops it too.
        check("nothing dropped, but for the guest's own full tap queue (backpressure)") {
            let drops = (stats?.drops ?? [:]).map { ($0.key, $0.value - min($0.value, dropsBefore[$0.key] ?? 0)) }
                .reduce(into: [String: UInt64]()) { $0[$1.0] = $1.1 }.filter { $0.value > 0 }
            let other = drops.filter { $0.key != DropReason.txRingFull.name }
            return (stats != nil && other.isEmpty, drops.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ", "))
        }
        check("SIGTERM stops vxsw") { (child.stop() == 0, "") }
    }

    /// Stops vxsw and the guests by PID and removes the rig. Idempotent; safe from a signal handler.
    override func stop() {
        let (child, rig) = lock.withLock { () -> (ChildProcess?, RealVMRig?) in
            defer { vxsw = nil; self.rig = nil }
            return (vxsw, self.rig)
        }
        child?.stop()
        rig?.teardown()
    }
}

extension RealVMRig {
    /// hv1's vxsw: the taps as access ports of the rig's VNI, flooding to hv2; the rest at
    /// vxsw's defaults (so taps use `io: auto`, the packet socket).
    public func vxswConfig(taps: [String], socket: String, header: String, poll: String? = nil) -> String {
        """
        # Generated by \(header): hv1's switch; all else at vxsw's defaults.
        vtep:
          ipv4: \(hv1Underlay)
        uplink:
          interface: ul0
        vnis:
          - vni: \(RealVMRig.vni)
            flood: [\(hv2Underlay)]
        ports:
        \(taps.map { "  - { name: \($0), vni: \(RealVMRig.vni) }" }.joined(separator: "\n"))
        control:
          socket: \(socket)
          metrics: off
          state-file: off
        \(poll.map { "datapath:\n  poll: \($0)\n" } ?? "")
        """
    }
}
