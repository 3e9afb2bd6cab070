/// What `vxsw bench` measures and how.
public struct BenchSettings: Codable, Sendable {
    public static let allSizes = [64, 128, 256, 512, 1024, 1450]
    public static let allContenders = ["ceiling", "kernel", "ovs", "vxsw-afxdp", "vxsw-xdp"]
    /// Measured on request, not in the default run: `kernel-nooffload` (`vxsw bench offload`),
    /// `vxsw-packet` (the VM port on a packet socket with the virtio-net header, `io: packet`,
    /// as a container's veth can be attached: its GSO frames arrive whole).
    public static let extraContenders = ["kernel-nooffload", "vxsw-packet"]

    public var sizes: [Int] = allSizes
    public var runs: Int = 3
    public var seconds: Double = 5
    public var contenders: [String] = allContenders
    public var directions: [BenchDirection] = BenchDirection.allCases
    public var flows: Int = 1
    public var macs: Int = 1
    /// Offered load in frames/s; nil: as fast as the generator goes.
    public var rate: Double?
    /// CPU of the generator (and, veth being what it is, of the kernel's receive work it causes).
    public var generatorCPU: Int = 0
    /// CPU of the switch's polling thread (vxsw worker, OVS PMD).
    public var switchCPU: Int = 1
    /// Seconds of each iperf3 run; 0 skips TCP.
    public var tcpSeconds: Int = 5
    /// ICMP echoes for the latency quantiles; 0 skips them.
    public var pings: Int = 500
    /// `--sweep`: also run vxsw-afxdp once per `BenchSweep` variant at `sweepSize`, both directions.
    public var sweep = false
    public var sweepSize = 64

    public init() {}

    /// `--quick`: one run, two sizes, short runs: a smoke test.
    public static var quick: BenchSettings {
        var s = BenchSettings()
        s.sizes = [64, 1450]
        s.runs = 1
        s.seconds = 1
        s.tcpSeconds = 2
        s.pings = 100
        return s
    }

    /// Checks the settings; returns the problem or nil.
    public func problem() -> String? {
        if sizes.isEmpty { return "--sizes: at least one size" }
        if let bad = sizes.first(where: { $0 < 64 || $0 > 1518 }) {
            return "--sizes: \(bad) is outside 64...1518 (BPF_PROG_RUN live-frames mode sends no jumbo frames)"
        }
        if runs < 1 { return "--runs: at least 1" }
        if seconds <= 0 { return "--seconds: must be positive" }
        let known = Self.allContenders + Self.extraContenders
        if let bad = contenders.first(where: { !known.contains($0) }) {
            return "--contenders: unknown '\(bad)' (known: \(known.joined(separator: ", ")))"
        }
        if flows < 1 || flows > 1 << 22 { return "--flows: 1...\(1 << 22)" }
        if macs < 1 || macs > 1 << 24 - 1 { return "--macs: 1...\(1 << 24 - 1)" }
        if let r = rate, r <= 0 { return "--rate: must be positive" }
        if sweep && (sweepSize < 64 || sweepSize > 1518) { return "--sweep-size: \(sweepSize) is outside 64...1518" }
        return nil
    }
}
