import Foundation

/// One timed run of the generator through one contender.
public struct BenchSample: Codable, Sendable {
    public var offeredMpps: Double
    public var deliveredMpps: Double
    public var innerGbps: Double
    /// Busy percent per CPU (index = CPU number) over the run, from /proc/stat.
    public var cpuBusy: [Double]
    /// Change of the switch's XDP program counters over the run (vxsw only), e.g. fast_encap.
    public var xdp: [String: UInt64]?
}

/// A median with its range over the runs.
public struct Spread: Codable, Sendable, Equatable {
    public var median: Double
    public var min: Double
    public var max: Double

    public init(median: Double, min: Double, max: Double) {
        self.median = median
        self.min = min
        self.max = max
    }

    public init(_ values: [Double]) {
        let s = values.sorted()
        if s.isEmpty { median = 0; min = 0; max = 0; return }
        median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        min = s.first!
        max = s.last!
    }
}

/// Packet-rate result for one contender, direction and frame size.
public struct PacketResult: Codable, Sendable {
    public var contender: String
    public var direction: BenchDirection
    public var size: Int
    public var samples: [BenchSample] = []
    public var error: String?

    public var mpps: Spread { Spread(samples.map(\.deliveredMpps)) }
    public var offered: Spread { Spread(samples.map(\.offeredMpps)) }
    public var gbps: Spread { Spread(samples.map(\.innerGbps)) }
    /// Median busy percent per CPU.
    public var cpu: [Double] {
        let n = samples.map(\.cpuBusy.count).max() ?? 0
        return (0..<n).map { i in Spread(samples.compactMap { $0.cpuBusy.indices.contains(i) ? $0.cpuBusy[i] : nil }).median }
    }

    enum CodingKeys: String, CodingKey { case contender, direction, size, samples, error, mpps, offered, gbps, cpu }
    public init(contender: String, direction: BenchDirection, size: Int) {
        self.contender = contender
        self.direction = direction
        self.size = size
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        contender = try c.decode(String.self, forKey: .contender)
        direction = try c.decode(BenchDirection.self, forKey: .direction)
        size = try c.decode(Int.self, forKey: .size)
        samples = try c.decode([BenchSample].self, forKey: .samples)
        error = try c.decodeIfPresent(String.self, forKey: .error)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(contender, forKey: .contender)
        try c.encode(direction, forKey: .direction)
        try c.encode(size, forKey: .size)
        try c.encode(samples, forKey: .samples)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encode(mpps, forKey: .mpps)
        try c.encode(offered, forKey: .offered)
        try c.encode(gbps, forKey: .gbps)
        try c.encode(cpu, forKey: .cpu)
    }
}

/// iperf3 TCP VM -> VM through one contender.
public struct TCPResult: Codable, Sendable {
    public var contender: String
    public var streams: Int
    public var gbps: [Double] = []
    public var cpuBusy: [[Double]] = []
    public var error: String?
    public var spread: Spread { Spread(gbps) }
}

/// Request/response latency (ICMP echo VM -> VM at light load) through one contender.
public struct LatencyResult: Codable, Sendable {
    public var contender: String
    public var method: String
    public var count: Int = 0
    public var lost: Int = 0
    public var p50us: Double = 0
    public var p99us: Double = 0
    public var error: String?
}

/// Where and on what the benchmark ran.
public struct BenchMachine: Codable, Sendable {
    public var cpuModel: String
    public var vcpus: Int
    public var kernel: String
    public var loadAverageAtStart: String

    public static func current() -> BenchMachine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "?"
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
        return BenchMachine(cpuModel: model, vcpus: ProcessInfo.processInfo.activeProcessorCount, kernel: release, loadAverageAtStart: load)
    }
}

/// Everything one `vxsw bench` run produced.
public struct BenchReport: Codable, Sendable {
    public var command: String
    public var date: String
    public var machine: BenchMachine
    public var build: String
    public var settings: BenchSettings
    /// id -> one-line description of each contender measured in this run.
    public var contenders: [String: String] = [:]
    public var packets: [PacketResult] = []
    public var tcp: [TCPResult] = []
    public var latency: [LatencyResult] = []
    /// `--sweep`: vxsw-afxdp with one knob changed per variant.
    public var sweep: [SweepResult] = []
    public var notes: [String] = []
}
