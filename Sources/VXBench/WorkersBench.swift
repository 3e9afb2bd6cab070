import Foundation
import VXDatapath
import VXLab
import VXLabKit

/// `vxsw bench workers`: the AF_XDP engine with 1 and with 2 workers on a two-queue uplink,
/// decapsulating toward one VM port, in the same rig and the same run.
///
/// ```
///   vm: vm0 (sink) ── acc0  dut: vxsw, workers on CPUs …  ul0 ══ 2 queues ══ ul0  hv2: generator
/// ```
/// A veth picks the receiving queue by the sending CPU, so the generator runs two threads, one
/// pinned to each CPU, and hv2's frames reach both of dut's rx queues (a NIC's RSS spreads
/// flows the same way). With one worker it receives on both queues; with two, each on its own.
/// Per run: frames delivered to the VM's sink, and per worker its frames (`show stats`) and the
/// CPU time of its thread (`/proc/PID/task/TID/stat`), so the cost per frame of each worker
/// is shown apart from what the generator and the kernel take of the same two CPUs.
public struct WorkersBenchSample: Codable, Sendable {
    public struct Worker: Codable, Sendable {
        public var cpu: Int?
        /// Frames this worker received and forwarded per second.
        public var mpps: Double
        /// Its thread's CPU use in the run (100 = one core).
        public var cpuPercent: Double
        /// Frames per second of its thread's CPU time: what one core running it does.
        public var mppsPerCore: Double
    }
    public var workers: Int
    public var run: Int
    public var size: Int
    public var offeredMpps: Double
    public var deliveredMpps: Double
    public var perWorker: [Worker]
    /// Busy percent per CPU over the run (generator, kernel and workers together).
    public var cpuBusy: [Double]
    /// Set on the sample at the highest rate found within this loss (nil: unlimited offer).
    public var lossLimit: Double?

    public var lostFraction: Double { offeredMpps > 0 ? max(0, 1 - deliveredMpps / offeredMpps) : 1 }

    /// All workers' frames over all their CPU time: one core's worth of the engine, however the
    /// work is split (a worker that sends a shared port's frames does some of another's work).
    public var mppsPerWorkerCore: Double {
        let busy = perWorker.reduce(0) { $0 + $1.cpuPercent } / 100
        return busy > 0 ? perWorker.reduce(0) { $0 + $1.mpps } / busy : 0
    }
}

public final class WorkersBench {
    let binary: String
    let say: (String) -> Void
    public var seconds: Double = 5
    public var generatorCPUs: [Int] = [0, 1]
    public var flows = 256

    public init(binary: String, log: @escaping (String) -> Void) {
        self.binary = binary
        say = log
    }

    /// With a loss limit: also the highest offered rate delivered with at most this fraction
    /// lost (a partial drop rate, found by bisection in `searchSteps` trials of `trialSeconds`).
    public var lossLimit: Double?
    public var searchSteps = 6
    public var trialSeconds = 2.0

    /// Run number `run` with `workerCPUs.count` workers at each frame size, in a fresh rig:
    /// as fast as the generator goes, and with `lossLimit` the highest rate within it.
    public func run(workerCPUs: [Int], sizes: [Int], run: Int) throws -> [WorkersBenchSample] {
        let rig = try BenchRig(prefix: "vxbw\(labTag)", uplinkQueues: 2) { _ in }
        defer { rig.teardown() }
        var knobs = VXSWKnobs()
        // Adaptive: a worker sleeps when idle, so its thread's CPU time is the work it did.
        knobs.poll = "adaptive"
        let contender = VXSWContender(binary: binary, cpu: workerCPUs[0], knobs: knobs, workerCPUs: workerCPUs)
        let work = NSTemporaryDirectory() + "vxsw-bench-workers-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try contender.start(rig: rig, workDir: work) { say("  " + $0) }
        defer { contender.stop() }
        let generator = try TrafficGenerator()
        let sink = try CountingSink()
        defer { sink.detachAll() }
        try rig.vm.enter { try sink.attach(interface: "vm0") }
        var out: [WorkersBenchSample] = []
        for size in sizes {
            let (frame, layout) = BenchFrames.template(direction: .decap, size: size)
            try generator.configure(flows: flows, macs: 1, layout: layout, ipSourceByte2: BenchAddresses.generatorIP[2])
            try generate(generator, frame, rig: rig, seconds: 0.5, rate: nil)
            func trial(_ rate: Double?, seconds: Double) throws -> WorkersBenchSample {
                try measure(contender, generator, sink, frame, rig: rig, workers: workerCPUs.count, run: run, size: size,
                            rate: rate, seconds: seconds)
            }
            let unlimited = try trial(nil, seconds: seconds)
            report(unlimited, "as fast as the generator goes")
            out.append(unlimited)
            guard let loss = lossLimit else { continue }
            // The highest offered rate delivered with at most `loss` lost: bisection between a
            // quarter of what overload delivered and what the generator offered then.
            var lo = unlimited.deliveredMpps * 0.25e6, hi = max(lo * 2, unlimited.offeredMpps * 1e6)
            var best: WorkersBenchSample?
            for _ in 0..<searchSteps {
                let rate = (lo + hi) / 2
                let t = try trial(rate, seconds: trialSeconds)
                say(String(format: "    trial at %.3f Mpps offered: %.3f delivered, %.2f%% lost", t.offeredMpps, t.deliveredMpps,
                           t.lostFraction * 100))
                if t.lostFraction <= loss { best = t; lo = rate } else { hi = rate }
            }
            if var best {
                best.lossLimit = loss
                report(best, String(format: "highest rate with ≤ %.2f%% loss", loss * 100))
                out.append(best)
            }
        }
        return out
    }

    private func report(_ sample: WorkersBenchSample, _ what: String) {
        say(String(format: "  %d worker(s), %d B, run %d, %@: %.3f Mpps delivered (offered %.3f); ", sample.workers, sample.size,
                   sample.run, what, sample.deliveredMpps, sample.offeredMpps)
            + sample.perWorker.map { String(format: "worker on CPU %@ %.3f Mpps at %.0f%% CPU = %.3f Mpps/core",
                                            $0.cpu.map(String.init) ?? "?", $0.mpps, $0.cpuPercent, $0.mppsPerCore) }
                .joined(separator: ", ")
            + "; CPU " + BenchRunner.cpuText(sample.cpuBusy))
    }

    /// One measurement at `rate` frames/s offered (nil: unlimited).
    private func measure(_ contender: VXSWContender, _ generator: TrafficGenerator, _ sink: CountingSink, _ frame: [UInt8],
                         rig: BenchRig, workers: Int, run: Int, size: Int, rate: Double?, seconds: Double) throws -> WorkersBenchSample {
        usleep(200_000)
        guard let pid = contender.pid, let s0 = contender.stats()?.workers else { throw LabError("vxsw did not answer show stats") }
        let c0 = sink.count(.bench), g0 = generator.sent(), cpu0 = CPUSample.now(), t0 = monotonicSeconds()
        let threads0 = Self.workerThreadTicks(pid: pid)
        try generate(generator, frame, rig: rig, seconds: seconds, rate: rate)
        let t1 = monotonicSeconds(), cpu1 = CPUSample.now(), g1 = generator.sent()
        let threads1 = Self.workerThreadTicks(pid: pid)
        usleep(100_000)
        let c1 = sink.count(.bench)
        guard let s1 = contender.stats()?.workers else { throw LabError("vxsw did not answer show stats") }
        let dt = t1 - t0
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let perWorker = s1.map { w -> WorkersBenchSample.Worker in
            let frames = Double(w.frames &- (s0.first { $0.index == w.index }?.frames ?? 0))
            let busy = Double((threads1[w.index] ?? 0) &- (threads0[w.index] ?? 0)) / ticks
            return .init(cpu: w.cpu, mpps: frames / dt / 1e6, cpuPercent: 100 * busy / dt,
                         mppsPerCore: busy > 0 ? frames / busy / 1e6 : 0)
        }
        return WorkersBenchSample(workers: workers, run: run, size: size,
                                  offeredMpps: Double(g1.frames &- g0.frames) / dt / 1e6,
                                  deliveredMpps: Double((c1 - c0).frames) / dt / 1e6,
                                  perWorker: perWorker, cpuBusy: cpu1.busyPercent(since: cpu0))
    }

    /// Runs one generator thread per generator CPU, each pinned, all in hv2; throws on a failed run.
    private func generate(_ generator: TrafficGenerator, _ frame: [UInt8], rig: BenchRig, seconds: Double, rate: Double?) throws {
        let group = DispatchGroup()
        let generatorCPUs = self.generatorCPUs
        let outcomes = generatorCPUs.map { _ in BenchRunner.GeneratorOutcome() }
        for (i, cpu) in generatorCPUs.enumerated() {
            group.enter()
            let t = Thread {
                _ = pinCurrentThread(to: cpu)
                outcomes[i].status = (try? rig.hv2.enter { () -> Int32 in
                    let index = Int32(if_nametoindex("ul0"))
                    guard index > 0 else { return -ENODEV }
                    return generator.run(frame, ifindex: index, seconds: seconds, rate: rate.map { $0 / Double(generatorCPUs.count) })
                }) ?? -ENODEV
                group.leave()
            }
            t.name = "vxsw-bench-gen\(cpu)"
            t.start()
        }
        group.wait()
        if let bad = outcomes.first(where: { $0.status != 0 }) {
            throw LabError("generator: \(String(cString: strerror(-bad.status))) (errno \(-bad.status))")
        }
    }

    /// utime + stime (clock ticks) of each `vxsw-worker-N` thread of `pid`, by N.
    static func workerThreadTicks(pid: Int32) -> [Int: UInt64] {
        var out: [Int: UInt64] = [:]
        let dir = "/proc/\(pid)/task"
        for task in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            guard let stat = try? String(contentsOfFile: "\(dir)/\(task)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
            let name = stat[stat.index(after: open)..<close]
            guard name.hasPrefix("vxsw-worker-"), let n = Int(name.dropFirst("vxsw-worker-".count)) else { continue }
            // Fields after the name: state is field 3; utime and stime are fields 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let u = UInt64(fields[11]), let s = UInt64(fields[12]) else { continue }
            out[n] = u + s
        }
        return out
    }
}
