import Foundation
import VXDatapath
import Glibc
import VXConfig
import VXLab
import VXLabKit

/// Runs `vxsw bench`: for each contender a fresh rig, the packet-rate runs (generator ->
/// contender -> counting sink), then TCP and latency VM -> VM; everything is removed after
/// each contender, also on failure and on Ctrl-C.
public final class BenchRunner: @unchecked Sendable {
    let settings: BenchSettings
    let binary: String
    let say: (String) -> Void
    private let lock = NSLock()
    private var currentRig: BenchRig?
    private var currentContender: BenchContender?
    private var signalSources: [TerminationHandler] = []

    public init(settings: BenchSettings, binary: String, say: @escaping (String) -> Void) {
        self.settings = settings
        self.binary = binary
        self.say = say
    }

    func makeContender(_ id: String) -> BenchContender {
        switch id {
        case "ceiling": return CeilingContender()
        case "kernel": return KernelContender()
        case "kernel-nooffload": return KernelNoOffloadContender()
        case "ovs": return OVSContender(cpu: settings.switchCPU)
        case "vxsw-xdp": return VXSWContender(binary: binary, cpu: settings.switchCPU, fastPath: true)
        case "vxsw-packet": return VXSWContender(binary: binary, cpu: settings.switchCPU, portIO: .packet)
        default: return VXSWContender(binary: binary, cpu: settings.switchCPU)
        }
    }

    public func run(command: String) -> BenchReport {
        trapSignals()
        defer { signalSources.forEach { $0.cancel() } }
        var report = BenchReport(command: command, date: ISO8601DateFormatter().string(from: Date()),
                                 machine: .current(), build: BenchReportWriter.buildKind(binary), settings: settings)
        say("vxsw bench: \(settings.contenders.joined(separator: ", ")); sizes \(settings.sizes.map(String.init).joined(separator: ",")); "
            + "\(settings.runs) run(s) x \(settings.seconds) s; \(report.machine.vcpus) vCPUs, load \(report.machine.loadAverageAtStart)")
        for id in settings.contenders {
            let contender = makeContender(id)
            report.contenders[id] = contender.summary
            let r = runContender(contender, sizes: settings.sizes, full: true)
            report.packets += r.packets
            report.tcp += r.tcp
            report.latency += r.latency
        }
        if settings.sweep {
            let variants = BenchSweep.variants
            say("\n== sweep: vxsw-afxdp at \(settings.sweepSize) B, \(variants.count) variants, one knob changed at a time")
            for (i, v) in variants.enumerated() {
                say("\n-- sweep \(i + 1)/\(variants.count): \(v.label)")
                let contender = VXSWContender(binary: binary, cpu: settings.switchCPU, knobs: v.knobs)
                let r = runContender(contender, sizes: [settings.sweepSize], full: false)
                report.sweep.append(SweepResult(label: v.label, knobs: v.knobs, packets: r.packets))
            }
        }
        return report
    }

    // MARK: one contender

    struct ContenderResults {
        var packets: [PacketResult] = []
        var tcp: [TCPResult] = []
        var latency: [LatencyResult] = []
    }

    /// Packet rates at `sizes`, then (when `full`) latency and TCP, on a fresh rig.
    private func runContender(_ contender: BenchContender, sizes: [Int], full: Bool) -> ContenderResults {
        var report = ContenderResults()
        say("\n== \(contender.id): \(contender.summary)")
        let work = NSTemporaryDirectory() + "vxsw-bench-\(labTag)-\(contender.id)"
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        var failed = false
        defer {
            let logs = (try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []
            if failed && !logs.isEmpty { say("  logs kept in \(work)") } else { try? FileManager.default.removeItem(atPath: work) }
        }
        func fail(_ what: String, _ error: Error) {
            failed = true
            let text = "\(what): \(error)"
            say("  FAIL \(text)")
            for d in settings.directions {
                for s in sizes where !report.packets.contains(where: { $0.contender == contender.id && $0.direction == d && $0.size == s }) {
                    var r = PacketResult(contender: contender.id, direction: d, size: s)
                    r.error = text
                    report.packets.append(r)
                }
            }
        }
        do {
            let rig = try BenchRig { self.say("  \($0)") }
            lock.lock(); currentRig = rig; currentContender = contender; lock.unlock()
            defer {
                contender.stop()
                rig.teardown()
                lock.lock(); currentRig = nil; currentContender = nil; lock.unlock()
                say("  removed: \(contender.id) stopped, rig namespaces deleted")
            }
            do {
                try contender.start(rig: rig, workDir: work) { self.say("  \($0)") }
            } catch {
                fail("start \(contender.id)", error)
                return report
            }
            do {
                report.packets += try packetRuns(contender, rig: rig, sizes: sizes)
            } catch {
                fail("packet runs", error)
            }
            if full && contender.forwards && !failed {
                if settings.pings > 0 { report.latency.append(latency(contender, rig: rig)) }
                if settings.tcpSeconds > 0 {
                    for streams in [1, 4] { report.tcp.append(tcp(contender, rig: rig, streams: streams, work: work)) }
                }
            }
        } catch {
            fail("build the rig", error)
        }
        return report
    }

    // MARK: packet rate

    struct Placement {
        let generatorNS: NetworkNamespace, generatorDev: String
        let sink: CountingSink, sinkClass: SinkClass
    }

    private func packetRuns(_ contender: BenchContender, rig: BenchRig, sizes: [Int]) throws -> [PacketResult] {
        let generator = try TrafficGenerator()
        // Sinks: on the far veths, or for the ceiling on the dut ends of the generator's veths.
        let toVM = try CountingSink(), toUnderlay = try CountingSink()
        defer { toVM.detachAll(); toUnderlay.detachAll() }
        let ceiling = contender is CeilingContender
        if ceiling {
            try rig.dut.enter { try toVM.attach(interface: "ul0"); try toUnderlay.attach(interface: "acc0") }
        } else {
            try rig.vm.enter { try toVM.attach(interface: "vm0") }
            try rig.hv2.enter { try toUnderlay.attach(interface: "ul0") }
        }
        var results: [PacketResult] = []
        for direction in settings.directions {
            let place = direction == .encap
                ? Placement(generatorNS: rig.vm, generatorDev: "vm0", sink: toUnderlay, sinkClass: ceiling ? .bench : .vxlan)
                : Placement(generatorNS: rig.hv2, generatorDev: "ul0", sink: toVM, sinkClass: ceiling ? .vxlan : .bench)
            for size in sizes {
                var result = PacketResult(contender: contender.id, direction: direction, size: size)
                let (frame, layout) = BenchFrames.template(direction: direction, size: size)
                try generator.configure(flows: settings.flows, macs: settings.macs, layout: layout,
                                        ipSourceByte2: BenchAddresses.generatorIP[2])
                // Warm-up: learning, flow caches, neighbour entries.
                let warm = generate(generator, frame, place, seconds: min(0.5, settings.seconds))
                if warm != 0 {
                    result.error = "generator: \(String(cString: strerror(-warm))) (errno \(-warm))"
                    say("  \(direction.rawValue) \(size) B: \(result.error!)")
                    results.append(result)
                    continue
                }
                // vxsw-xdp: the daemon mirrors what the warm-up taught the engine into the fast-path maps.
                if contender.settleSeconds > 0 { usleep(UInt32(contender.settleSeconds * 1e6)) }
                for run in 1...settings.runs {
                    let before = contender.xdpCounters()
                    var sample = measure(generator, frame, place, size: size)
                    if let before, let after = contender.xdpCounters() {
                        sample.xdp = after.reduce(into: [:]) { d, kv in d[kv.key] = kv.value &- (before[kv.key] ?? 0) }
                    }
                    result.samples.append(sample)
                    say(String(format: "  %@ %4d B run %d/%d: %6.3f Mpps delivered (offered %6.3f), %6.2f Gbit/s inner, CPU %@%@",
                               direction.rawValue, size, run, settings.runs, sample.deliveredMpps, sample.offeredMpps,
                               sample.innerGbps, Self.cpuText(sample.cpuBusy), Self.xdpText(sample.xdp)))
                }
                results.append(result)
            }
        }
        return results
    }

    /// ", XDP fast_encap N fast_decap N to-engine N" for the progress line; "" without counters.
    static func xdpText(_ xdp: [String: UInt64]?) -> String {
        guard let x = xdp else { return "" }
        let engine = (x["access_to_switch"] ?? 0) &+ (x["vxlan_to_switch"] ?? 0)
        return ", XDP fast_encap \(x["fast_encap"] ?? 0) fast_decap \(x["fast_decap"] ?? 0) to-engine \(engine)"
    }

    static func cpuText(_ busy: [Double]) -> String {
        busy.enumerated().map { String(format: "cpu%d %3.0f%%", $0.offset, $0.element) }.joined(separator: " ")
    }

    /// Runs the generator pinned to the generator CPU, inside its namespace; 0 or -errno.
    private func generate(_ generator: TrafficGenerator, _ frame: [UInt8], _ place: Placement, seconds: Double) -> Int32 {
        let result = GeneratorOutcome()
        let done = DispatchSemaphore(value: 0)
        let cpu = settings.generatorCPU, rate = settings.rate
        let thread = Thread {
            _ = pinCurrentThread(to: cpu)
            result.status = (try? place.generatorNS.enter { () -> Int32 in
                let index = Int32(if_nametoindex(place.generatorDev))
                guard index > 0 else { return -ENODEV }
                return generator.run(frame, ifindex: index, seconds: seconds, rate: rate)
            }) ?? -ENODEV
            done.signal()
        }
        thread.name = "vxsw-bench-gen"
        thread.start()
        done.wait()
        return result.status
    }

    private func measure(_ generator: TrafficGenerator, _ frame: [UInt8], _ place: Placement, size: Int) -> BenchSample {
        usleep(100_000)
        let c0 = place.sink.count(place.sinkClass), g0 = generator.sent(), s0 = CPUSample.now(), t0 = monotonicSeconds()
        _ = generate(generator, frame, place, seconds: settings.seconds)
        let t1 = monotonicSeconds(), s1 = CPUSample.now(), g1 = generator.sent()
        usleep(100_000) // frames still in rings
        let c1 = place.sink.count(place.sinkClass)
        let dt = t1 - t0
        let delivered = Double((c1 - c0).frames) / dt
        return BenchSample(offeredMpps: Double(g1.frames &- g0.frames) / dt / 1e6, deliveredMpps: delivered / 1e6,
                           innerGbps: delivered * Double(size) * 8 / 1e9, cpuBusy: s1.busyPercent(since: s0))
    }

    // MARK: TCP and latency

    private func prepareForwarding(_ contender: BenchContender, rig: BenchRig) {
        // OVS userspace drops tunnel packets with partial checksums: its peers compute them.
        if contender is OVSContender {
            _ = try? rig.vm.exec(["ethtool", "-K", "vm0", "tx", "off"], check: false)
            _ = try? rig.hv2.exec(["ethtool", "-K", "ul0", "tx", "off"], check: false)
        }
        // First packets resolve ARP through the switch.
        _ = try? rig.vm.exec(["ping", "-c", "2", "-i", "0.2", "-W", "1", BenchAddresses.text(ip: BenchAddresses.remoteVMIP)], check: false)
    }

    private func latency(_ contender: BenchContender, rig: BenchRig) -> LatencyResult {
        prepareForwarding(contender, rig: rig)
        var r = LatencyResult(contender: contender.id, method: "ping -i 0.01 (ICMP echo vm -> vm2, 100/s), RTT quantiles")
        say("  latency: \(settings.pings) pings vm -> vm2 at 100/s")
        do {
            let out = try rig.vm.exec(["ping", "-c", String(settings.pings), "-i", "0.01", "-W", "1",
                                       BenchAddresses.text(ip: BenchAddresses.remoteVMIP)], check: false).output
            let rtts = Self.pingRTTs(out)
            r.count = settings.pings
            r.lost = settings.pings - rtts.count
            guard !rtts.isEmpty else { throw LabError("no replies: \(out.suffix(200))") }
            r.p50us = Self.quantile(rtts, 0.50) * 1000
            r.p99us = Self.quantile(rtts, 0.99) * 1000
            say(String(format: "  latency: p50 %.0f us, p99 %.0f us, %d lost", r.p50us, r.p99us, r.lost))
        } catch {
            r.error = "\(error)"
            say("  latency FAIL: \(error)")
        }
        return r
    }

    /// RTTs in ms from ping's "time=0.123 ms" lines.
    public static func pingRTTs(_ output: String) -> [Double] {
        output.split(separator: "\n").compactMap { line in
            guard let r = line.range(of: "time=") else { return nil }
            return Double(line[r.upperBound...].prefix { $0.isNumber || $0 == "." })
        }
    }

    public static func quantile(_ values: [Double], _ q: Double) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return 0 }
        let i = Int((q * Double(s.count - 1)).rounded(.up))
        return s[min(max(i, 0), s.count - 1)]
    }

    private func tcp(_ contender: BenchContender, rig: BenchRig, streams: Int, work: String) -> TCPResult {
        var r = TCPResult(contender: contender.id, streams: streams)
        let server = BenchAddresses.text(ip: BenchAddresses.remoteVMIP)
        for run in 1...settings.runs {
            do {
                let s = try rig.vm2.spawn(["iperf3", "-s", "-1", "-B", server], logPath: work + "/iperf3-server.log")
                defer { s.stop(grace: 2) }
                _ = waitUntil(timeout: 5) { (try? rig.vm2.exec(["ss", "-ltn", "sport = :5201"]).output.contains("5201")) == true }
                let c0 = CPUSample.now()
                let out = try rig.vm.exec(["iperf3", "-c", server, "-t", String(settings.tcpSeconds), "-P", String(streams),
                                           "-J", "--connect-timeout", "3000"], check: false)
                let busy = CPUSample.now().busyPercent(since: c0)
                guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(out.output.utf8)),
                      let bps = json["end"]?["sum_received"]?["bits_per_second"]?.numberValue else {
                    throw LabError("iperf3 failed: \(out.output.suffix(300)) \(out.error.suffix(200))")
                }
                r.gbps.append(bps / 1e9)
                r.cpuBusy.append(busy)
                say(String(format: "  TCP %d stream%@ run %d/%d: %.2f Gbit/s, CPU %@", streams, streams == 1 ? "" : "s",
                           run, settings.runs, bps / 1e9, Self.cpuText(busy)))
            } catch {
                r.error = "\(error)"
                say("  TCP \(streams) stream(s) FAIL: \(error)")
                break
            }
        }
        return r
    }

    /// The generator thread's result, handed back once it has signalled.
    final class GeneratorOutcome: @unchecked Sendable { var status: Int32 = -ENODEV }

    // MARK: signals

    /// On SIGINT/SIGTERM: stop the current contender, remove the rig, exit.
    private func trapSignals() {
        signalSources = onTerminationSignal { [weak self] in
            self?.lock.lock()
            let rig = self?.currentRig, contender = self?.currentContender
            self?.lock.unlock()
            print("\ninterrupted: stopping \(contender?.id ?? "nothing") and removing the rig")
            contender?.stop()
            rig?.teardown()
            exit(130)
        }
    }
}
