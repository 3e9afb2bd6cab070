import CVXSW
import Foundation
import Glibc

/// Frame layouts the generator knows (BPF/trafficgen.c `enum gen_layout`).
public enum GeneratorLayout: UInt32, Sendable, Codable {
    /// eth | ipv4 | udp: what a VM sends (encap direction).
    case plain = 0
    /// eth | ipv4 | udp 4789 | vxlan | plain: what a remote VTEP sends (decap direction).
    case vxlan4 = 1
}

/// The benchmark's BPF programs (`vxsw bench`, built and embedded with the switch's own): they
/// live here so the benchmark reaches BPF only through this module.
///
/// The traffic generator: BPF/trafficgen.c run with BPF_PROG_RUN in live-frames mode, so
/// each run is XDP_TX'd for real out of `ifindex` (a veth whose peer is the switch under test).
/// Paced by running `chunk`-sized repeats per time slice when a rate is set.
public final class TrafficGenerator {
    private let object: BPFObject
    private let program: Int32
    private let configMap: Int32
    private let statsMap: Int32

    public init() throws {
        object = try BPFObject("trafficgen", image: BPFObjects.trafficgen)
        program = try object.programFD("trafficgen")
        configMap = try object.mapFD("gen_config")
        statsMap = try object.mapFD("gen_stats")
    }

    /// Sets what the program varies (struct gen_config).
    public func configure(flows: Int, macs: Int, layout: GeneratorLayout, ipSourceByte2: UInt8) throws {
        var value: (UInt32, UInt32, UInt32, UInt32) = (UInt32(max(1, flows)), UInt32(max(1, macs)), layout.rawValue, UInt32(ipSourceByte2))
        var key: UInt32 = 0
        guard bpf_map_update_elem(configMap, &key, &value, 0) == 0 else {
            throw DatapathError("write gen_config", errno: errno)
        }
    }

    /// Frames and bytes the program has sent so far (all CPUs).
    public func sent() -> (frames: UInt64, bytes: UInt64) {
        var frames: UInt64 = 0, bytes: UInt64 = 0
        _ = cvxsw_percpu_u64_sum(statsMap, 0, &frames)
        _ = cvxsw_percpu_u64_sum(statsMap, 1, &bytes)
        return (frames, bytes)
    }

    /// Sends `repeat` copies of `frame` (varied by the program) out of `ifindex`, in the
    /// calling thread's network namespace. Blocks until they are sent. 0 or -errno.
    public func send(_ frame: [UInt8], ifindex: Int32, repeat count: UInt32) -> Int32 {
        frame.withUnsafeBytes { cvxsw_xdp_live_run(program, $0.baseAddress, UInt32($0.count), UInt32(bitPattern: ifindex), count, 0) }
    }

    /// Runs the program once over `frame` without sending (plain BPF_PROG_RUN) and returns
    /// the verdict and the frame as it would leave: how the tests check what it varies.
    func testRun(_ frame: [UInt8]) throws -> (verdict: Int32, frame: [UInt8]) {
        var out = [UInt8](repeating: 0, count: frame.count + 256)
        var outLen = UInt32(out.count)
        let verdict = frame.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { cvxsw_xdp_test_run(program, input.baseAddress, UInt32(input.count), $0.baseAddress, &outLen, 0, 0, 1) }
        }
        guard verdict >= 0 else { throw DatapathError("BPF_PROG_RUN trafficgen", result: verdict) }
        return (verdict, Array(out.prefix(Int(outLen))))
    }

    /// Sends for `seconds` at most `rate` frames/s (nil: as fast as the CPU goes), in chunks of
    /// `chunk` repeats; `shouldStop` is asked between chunks. Returns the error of a failed run.
    public func run(_ frame: [UInt8], ifindex: Int32, seconds: Double, rate: Double? = nil,
                    chunk: UInt32 = 1 << 18, shouldStop: () -> Bool = { false }) -> Int32 {
        let start = monotonicSeconds()
        var planned = 0.0
        while monotonicSeconds() - start < seconds, !shouldStop() {
            var n = chunk
            if let rate {
                // Pace in 1 ms slices: send what the rate allows up to now, then wait. A burst
                // stays below a ring's size (1 Mpps: 1,000 frames), so loss at a rate the
                // switch can carry is not the pacing's doing.
                let due = rate * (monotonicSeconds() - start) + rate * 0.001 - planned
                if due < 1 { usleep(100); continue }
                // At most 512 at once, also after a sleep that overslept on a busy host: the
                // offered rate is what was sent (measured), never a burst the rings cannot take.
                n = UInt32(min(Double(chunk), due, 512))
            }
            let err = send(frame, ifindex: ifindex, repeat: n)
            if err != 0 { return err }
            planned += Double(n)
        }
        return 0
    }
}

/// Frame and byte counts of one sink class (BPF/sink.c `struct sink_count`).
public struct SinkCount: Sendable, Codable, Equatable {
    public var frames: UInt64
    public var bytes: UInt64
    public static func - (a: SinkCount, b: SinkCount) -> SinkCount {
        SinkCount(frames: a.frames &- b.frames, bytes: a.bytes &- b.bytes)
    }
}

/// What the sink counts (BPF/sink.c `enum sink_class`).
public enum SinkClass: UInt32, Sendable, CaseIterable {
    case all = 0, vxlan = 1, bench = 2
}

/// The counting sink: BPF/sink.c attached (native XDP, bpf_link) to far veths; it counts
/// frames by class and drops them. One object, one map, any number of attachments.
public final class CountingSink {
    private let object: BPFObject
    private let program: Int32
    private let statsMap: Int32
    private var links: [Int32] = []

    public init() throws {
        object = try BPFObject("sink", image: BPFObjects.sink)
        program = try object.programFD("sink")
        statsMap = try object.mapFD("sink_stats")
    }

    deinit { detachAll() }

    /// Attaches to `interface` in the calling thread's network namespace (enter it first).
    public func attach(interface: String) throws {
        let index = Int32(if_nametoindex(interface))
        guard index > 0 else { throw DatapathError("sink: interface \(interface)", errno: ENODEV) }
        let fd = cvxsw_xdp_link_create(program, index, UInt32(XDP_FLAGS_DRV_MODE))
        guard fd >= 0 else { throw DatapathError("attach sink to \(interface)", result: fd) }
        links.append(fd)
    }

    public func detachAll() {
        for fd in links { close(fd) }
        links.removeAll()
    }

    public func count(_ c: SinkClass) -> SinkCount {
        let ncpu = Int(libbpf_num_possible_cpus())
        var values = [UInt64](repeating: 0, count: max(1, ncpu) * 2)
        var key = c.rawValue
        guard bpf_map_lookup_elem(statsMap, &key, &values) == 0 else { return SinkCount(frames: 0, bytes: 0) }
        var total = SinkCount(frames: 0, bytes: 0)
        for i in 0..<max(1, ncpu) {
            total.frames &+= values[2 * i]
            total.bytes &+= values[2 * i + 1]
        }
        return total
    }
}

/// Pins the calling thread to `cpu`; 0 or -errno (a benchmark's generator threads).
public func pinCurrentThread(to cpu: Int) -> Int32 { cvxsw_pin_current_thread(Int32(cpu)) }

/// Monotonic seconds, for timing runs.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// An XDP program's cost per frame as the kernel times it: `frame` run `repeat` times with
/// BPF_PROG_RUN in live-frames mode (each run starts from `frame` as given, its XDP_TX and
/// redirects are carried out), in the calling thread's network namespace — give it one where
/// the targets do not exist, so nothing is sent. Returns the mean nanoseconds per frame.
public func xdpRunTime(programFD: Int32, frame: [UInt8], ingressIfindex: Int32, repeat count: UInt32) throws -> UInt32 {
    var nanoseconds: UInt32 = 0
    let rc = frame.withUnsafeBytes {
        cvxsw_xdp_live_run_timed(programFD, $0.baseAddress, UInt32($0.count), UInt32(bitPattern: ingressIfindex), count, 0, &nanoseconds)
    }
    guard rc == 0 else { throw DatapathError("BPF_PROG_RUN (live frames, timed)", result: rc) }
    return nanoseconds
}

/// The smallest XDP program (`return XDP_DROP`): what BPF_PROG_RUN itself costs per run, the
/// baseline `xdpRunTime` of a real program is read against.
public final class XDPDropProgram {
    public let programFD: Int32

    public init() throws {
        let fd = cvxsw_xdp_drop_program_load()
        guard fd >= 0 else { throw DatapathError("load the XDP_DROP baseline", result: fd) }
        programFD = fd
    }

    deinit { close(programFD) }
}
