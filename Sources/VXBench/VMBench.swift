import Foundation
import VXConfig
import VXLab
import VXLabKit

/// `vxsw bench vm`: real qemu guests switched on hv1 by the Linux bridge + kernel vxlan and
/// by vxsw, in one run, with the same guests booted once.
///
/// ```
///   hv1                                                              hv2
///   guest1 ── tap1 ─┐                                                  ┌─ tap2 ── guest2
///                   ├─ br0 + vx1000 | vxsw ── ul0 ════ ul0 ── br0 + vx1000
///   guest3 ── tap3 ─┘  (switched between runs)         (always the kernel)
/// ```
/// For each run and contender (bridge, vxsw, bridge, vxsw, ...) hv1 is switched over: the
/// bridge and vxlan are deleted (the taps stay, qemu holds them) and vxsw is started by PID
/// with the taps as ports, or vxsw is stopped by PID and the bridge built again. Everything —
/// vxsw, the guests, both namespaces — is removed at the end, also on failure and on Ctrl-C.
public final class VMBenchRunner: @unchecked Sendable {
    public struct Settings: Sendable {
        public var runs = 3
        public var seconds = 10
        /// `datapath.poll` for vxsw (nil: its default).
        public var poll: String?
        public var underlay: Underlay = .wire
        public init() {}
    }

    /// What crosses the veth between the hosts. A veth hands a GSO packet to its peer whole,
    /// which no physical network does; and an XDP program on one end turns TSO off on the
    /// other (a veth rule), so with `veth` the bridge receives 64 KB packets while vxsw gets
    /// the wire-sized segments hv2 had to cut. `wire` gives both contenders what a NIC
    /// receives: frames of at most the MTU, cut by the sending host's kernel (a NIC's job on
    /// real hardware), merged again by GRO where the receiver has it.
    public enum Underlay: String, Sendable, CaseIterable {
        case wire, veth
        var setup: String {
            switch self {
            case .wire: return "wire-sized frames both ways: TSO and GSO off on both veth ends (the sender's kernel cuts what a NIC would), GRO on"
            case .veth: return "GRO on; the veth passes GSO packets whole where its far end has no XDP"
            }
        }
    }

    struct Guest { let name, tap, mac, ip: String; let onHV1: Bool }
    static let guests = [
        Guest(name: "guest1", tap: "tap1", mac: "02:00:00:00:10:11", ip: "198.19.10.11", onHV1: true),
        Guest(name: "guest2", tap: "tap2", mac: "02:00:00:00:10:12", ip: "198.19.10.12", onHV1: false),
        Guest(name: "guest3", tap: "tap3", mac: "02:00:00:00:10:13", ip: "198.19.10.13", onHV1: true),
    ]

    let settings: Settings
    let binary: String
    let say: (String) -> Void
    private let lock = NSLock()
    private var rig: RealVMRig?
    private var vxsw: ChildProcess?
    private var interrupted = false
    /// Held for the whole of a clean-up, so that the main thread (whose measurement fails once
    /// the signal handler stops vxsw) cannot exit while the handler is still stopping guests.
    private let cleanupLock = NSLock()

    public init(settings: Settings, binary: String, say: @escaping (String) -> Void) {
        self.settings = settings
        self.binary = binary
        self.say = say
    }

    /// Runs the whole benchmark; failures are recorded in the report's `errors`, never hidden.
    public func run(command: String, commit: String) -> VMBenchReport {
        let work = NSTemporaryDirectory() + "vxsw-benchvm-\(labTag)"
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let signals = onTerminationSignal { [weak self] in
            print("\ninterrupted: stopping vxsw and the guests, removing the namespaces")
            self?.lock.withLock { self?.interrupted = true }
            self?.cleanUp()
            try? FileManager.default.removeItem(atPath: work)
            print("removed: vxsw stopped, guests stopped, namespaces deleted")
            exit(130)
        }
        defer { signals.forEach { $0.cancel() } }
        var report = VMBenchReport(
            command: command, date: ISO8601DateFormatter().string(from: Date()), machine: .current(), commit: commit,
            build: "\(BenchReportWriter.buildKind(binary)) (\(binary))", runs: settings.runs, seconds: settings.seconds,
            guests: "3 qemu guests under TCG (no KVM on this machine kind), 256 MB and 1 vCPU each, virtio-net on a tap "
                + "(vnet_hdr, vhost off, TSO on in the guest); the guests, vxsw's worker and the kernel share this host's "
                + "\(ProcessInfo.processInfo.activeProcessorCount) vCPUs",
            setup: [
                "hv2": "always Linux bridge br0 + kernel vxlan vx1000 (VNI 1000, flood to hv1), guest2 on tap2",
                "hv1 bridge": "br0 + kernel vxlan vx1000 (VNI 1000, flood to hv2, learning), tap1 and tap3 in br0",
                "hv1 vxsw": "vxsw run with tap1 and tap3 as access ports of VNI 1000 (io: auto, so a packet socket with the "
                    + "virtio-net header), uplink ul0, flood to hv2; "
                    + (settings.poll.map { "datapath.poll: \($0); every other setting" } ?? "every setting") + " at its default",
                "underlay": "veth ul0 ↔ ul0 between the namespaces, MTU \(RealVMRig.underlayMTU), `--underlay \(settings.underlay.rawValue)`: \(settings.underlay.setup)",
            ])
        say("vxsw bench vm: \(settings.runs) run(s) × 2 contenders × 3 paths × \(settings.seconds) s; "
            + "\(report.machine.vcpus) vCPUs, load \(report.machine.loadAverageAtStart)")
        defer {
            cleanUp()
            say("removed: vxsw stopped, guests stopped, namespaces deleted")
            if report.errors.isEmpty { try? FileManager.default.removeItem(atPath: work) } else { say("logs kept in \(work)") }
        }
        do {
            try measure(into: &report, work: work)
        } catch {
            // After Ctrl-C the handler is tearing the rig down (which is why this failed); wait for it, it exits.
            if lock.withLock({ interrupted }) { cleanUp(); while true { pause() } }
            report.errors.append("\(error)")
            say("FAIL: \(error)")
        }
        report.summarize()
        return report
    }

    private func measure(into report: inout VMBenchReport, work: String) throws {
        let started = Date()
        let rig = try RealVMRig(tag: "b")
        lock.withLock { self.rig = rig }
        try rig.addBridgeVXLAN(in: rig.hv2, local: rig.hv2Underlay, remote: rig.hv1Underlay)
        if settings.underlay == .wire {
            for ns in [rig.hv1, rig.hv2] { try ns.exec(["ethtool", "-K", "ul0", "tso", "off", "gso", "off"]) }
        }
        let guests = try Self.guests.map { g in
            try rig.startGuest(g.name, in: g.onHV1 ? rig.hv1 : rig.hv2, tap: g.tap, mac: g.mac, ipv4CIDR: g.ip + "/24")
        }
        try rig.attach(guests[1])
        for guest in guests { try guest.waitUntilBooted(timeout: 240) }
        say("guests booted \(String(format: "%.0f", Date().timeIntervalSince(started))) s after the start")
        let tso = try guests[0].run("ethtool -k eth0 | grep -E '^(tcp-segmentation-offload|generic-receive-offload):'")
        report.notes.append("guest1 eth0: " + tso.split(separator: "\n").joined(separator: ", "))
        let (g1, g2, g3) = (guests[0], guests[1], guests[2])
        let paths: [(VMBenchPath, QemuGuest, QemuGuest, String)] = [
            (.vmToRemote, g1, g2, Self.guests[1].ip), (.remoteToVM, g2, g1, Self.guests[0].ip), (.vmToLocalVM, g1, g3, Self.guests[2].ip),
        ]
        for run in 1...settings.runs {
            for contender in VMBenchContender.allCases {
                say("\n== run \(run)/\(settings.runs): \(contender.label) on hv1")
                try switchOver(to: contender, rig: rig, guests: [g1, g3], work: work)
                if run == 1 { report.notes.append(underlayOffloads(rig, contender)) }
                for (from, to) in [(g1, Self.guests[1].ip), (g1, Self.guests[2].ip), (g2, Self.guests[0].ip)] {
                    let reply = from.pings(to)
                    guard reply.ok else { throw LabError("\(contender.label): \(from.name) cannot ping \(to):\n\(reply.output)") }
                }
                for (path, client, server, address) in paths {
                    report.samples.append(sample(run: run, contender, path, client, server, address, guests: guests))
                }
                if contender == .vxsw {
                    if let c = counters(run: run, socket: work + "/vxsw.sock") { report.counters.append(c) }
                    stopSwitch()
                    try waitForUplinkXDPGone(rig)
                } else {
                    try rig.removeBridgeVXLAN(in: rig.hv1)
                }
            }
        }
    }

    /// One iperf3 run with the CPU use of the host, vxsw and each qemu over it.
    private func sample(run: Int, _ contender: VMBenchContender, _ path: VMBenchPath, _ client: QemuGuest,
                        _ server: QemuGuest, _ address: String, guests: [QemuGuest]) -> VMBenchSample {
        var processes = zip(Self.guests, guests).compactMap { g, q in q.pid.map { ("qemu \(g.name)", $0) } }
        if let pid = lock.withLock({ vxsw?.pid }) { processes.append(("vxsw", pid)) }
        processes += Self.softirqThreads.map { ("kernel", $0) }
        let taps0 = [client, server].map { $0.tapCounters() }
        let c0 = CPUSample.now(), t0 = ThreadCPUSample(processes: processes)
        var s = VMBenchSample(run: run, contender: contender, path: path, hostCPU: [], threads: [])
        do {
            let r = try client.tcpThroughput(to: server, serverAddress: address, seconds: settings.seconds)
            (s.gbps, s.bytes, s.retransmits) = (r.gbps, r.bytes, r.retransmits)
        } catch {
            s.error = "\(error)"
        }
        s.threads = ThreadCPUSample(processes: processes).threads(since: t0)
        s.taps = zip([client, server], taps0).compactMap { guest, before in
            TapTraffic.delta(guest.name.split(separator: "-").last.map(String.init) ?? guest.name, before, guest.tapCounters())
        }
        let c1 = CPUSample.now()
        s.hostCPU = c1.busyPercent(since: c0)
        s.hostSoftirq = c1.softirqPercent(since: c0)
        say("  \(path.rawValue): " + (s.gbps.map { String(format: "%.3f Gbit/s", $0) } ?? "FAIL \(s.error ?? "")")
            + (s.retransmits.map { ", \($0) retransmits" } ?? "") + ", host CPU " + BenchRunner.cpuText(s.hostCPU)
            + " (softirq " + s.hostSoftirq.map { String(format: "%.0f%%", $0) }.joined(separator: " ") + "); "
            + VMBenchReportWriter.threads(s.threads, most: 5))
        return s
    }

    /// The kernel's ksoftirqd threads (PIDs), where softirq work goes when it piles up.
    static let softirqThreads: [Int32] = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid in
        let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
        return comm.hasPrefix("ksoftirqd/") ? Int32(pid) : nil
    }

    // MARK: hv1's switch

    private func switchOver(to contender: VMBenchContender, rig: RealVMRig, guests: [QemuGuest], work: String) throws {
        switch contender {
        case .bridge:
            try rig.addBridgeVXLAN(in: rig.hv1, local: rig.hv1Underlay, remote: rig.hv2Underlay)
            for guest in guests { try rig.attach(guest) }
        case .vxsw:
            let config = work + "/vxsw.yaml", socket = work + "/vxsw.sock"
            try rig.vxswConfig(taps: guests.map(\.tap), socket: socket, header: "`vxsw bench vm`", poll: settings.poll).write(toFile: config, atomically: true, encoding: .utf8)
            let child = try startSwitchProcess(binary: binary, config: config, socket: socket, in: rig.hv1, logPath: work + "/vxsw.log")
            lock.withLock { vxsw = child }
            say("  vxsw: pid \(child.pid), \(binary) run --config \(config)")
        }
    }

    private func counters(run: Int, socket: String) -> VMBenchCounters? {
        guard let out = try? VXLabKit.run([binary, "show", "stats", "--json", "--socket", socket], check: false), out.succeeded,
              let json = try? JSONDecoder().decode(JSONValue.self, from: Data(out.output.utf8)) else {
            say("  (no counters from vxsw show stats)")
            return nil
        }
        let drops = (json["drops"]?.objectValue ?? [:]).compactMapValues { $0.intValue }.filter { $0.value != 0 }
        let kernel = (json["xdp"]?.objectValue ?? [:]).compactMapValues { $0.intValue }.filter { $0.key.hasPrefix("fast_") }
        return VMBenchCounters(run: run, ports: json["ports"] ?? .null, taps: json["taps"] ?? .null, drops: drops, kernelPaths: kernel)
    }

    /// vxsw's programs go with its process (bpf_link); the bridge rounds must not run behind one.
    private func waitForUplinkXDPGone(_ rig: RealVMRig) throws {
        let gone = waitUntil(timeout: 10) {
            (try? rig.hv1.exec(["ip", "link", "show", "ul0"]).output.contains(" xdp")) == false
        }
        guard gone else { throw LabError("an XDP program is still attached to hv1's ul0 after vxsw stopped") }
    }

    /// What the veth underlay offers each way: an XDP program on one end changes its peer's offloads.
    private func underlayOffloads(_ rig: RealVMRig, _ contender: VMBenchContender) -> String {
        let lines = { (ns: NetworkNamespace) -> String in
            let out = (try? ns.exec(["ethtool", "-k", "ul0"], check: false).output) ?? ""
            return out.split(separator: "\n").filter {
                $0.hasPrefix("tcp-segmentation-offload:") || $0.hasPrefix("generic-segmentation-offload:") || $0.hasPrefix("generic-receive-offload:")
            }.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        }
        return "with \(contender.label) on hv1: hv1 ul0 \(lines(rig.hv1)); hv2 ul0 \(lines(rig.hv2))"
    }

    private func stopSwitch() {
        let child = lock.withLock { () -> ChildProcess? in defer { vxsw = nil }; return vxsw }
        child?.stop()
    }

    /// Stops vxsw and the guests by PID and deletes the namespaces. Idempotent.
    private func cleanUp() {
        cleanupLock.lock()
        defer { cleanupLock.unlock() }
        stopSwitch()
        let rig = lock.withLock { () -> RealVMRig? in defer { self.rig = nil }; return self.rig }
        rig?.teardown()
    }
}
