import Foundation
import VXConfig
import VXCore
import VXLabKit
import VXSwitch

/// `vxsw bench tables`: how fast N remote MACs (as EVPN installs them: MAC → remote VTEP) get
/// from the control plane into the data plane, and whether forwarding notices, for vxsw and,
/// in the same run, for the kernel's bridge FDB (what FRR's zebra fills).
///
/// ```
///  a: 10.77.0.1 ── pa ─┐                      ┌─ ul0 ── r: 198.18.77.2 (the remote VTEP)
///                      ├ sw: vxsw or br0+vx0 ─┤
///  b: 10.77.0.2 ── pb ─┘                      └ (198.18.77.1)
/// ```
/// Per run, while `a` pings `b` every 2 ms through the switch: vxsw gets the N updates through
/// its owner of the tables (`SwitchTables.apply`, as the EVPN feed does, in chunks of 1024),
/// and the clock stops when the worker has applied all of them and again when the XDP fast-path
/// maps hold them; the kernel gets them as one `bridge -batch` of `fdb add … dst 198.18.77.2`.
/// Then `show mac` (all N rows, built from the owner's copy) and a metrics render are timed.
public struct TablesBenchSample: Codable, Sendable {
    public var contender: String
    public var macs: Int
    public var run: Int
    /// Updates handed over until the owner's copy had them (vxsw) / `bridge -batch` returned (kernel).
    public var acceptSeconds: Double
    /// Until every worker had applied them (vxsw; the kernel: the same as accept).
    public var dataPlaneSeconds: Double
    /// Until the XDP fast-path maps held them (vxsw; nil when the maps hold fewer: their size).
    public var fastPathSeconds: Double?
    public var fastPathEntries: Int?
    /// `show mac` with every entry (vxsw: the rows from the owner's copy; kernel: `bridge fdb show`).
    public var showSeconds: Double
    public var metricsSeconds: Double?
    public var ping: PingStats
}

/// Round trips of a 2 ms ping through the switch during the install.
public struct PingStats: Codable, Sendable {
    public var sent: Int
    public var lost: Int
    public var p50Ms: Double
    public var p99Ms: Double
    public var maxMs: Double

    /// From ping's per-reply lines (`icmp_seq=N … time=X ms`).
    public init(pingOutput text: String) {
        var times: [Double] = []
        var highest = 0
        for line in text.split(separator: "\n") {
            guard let seqRange = line.range(of: "icmp_seq="), let timeRange = line.range(of: "time=") else { continue }
            let seq = Int(line[seqRange.upperBound...].prefix { $0.isNumber }) ?? 0
            if let t = Double(line[timeRange.upperBound...].prefix { $0.isNumber || $0 == "." }) { times.append(t) }
            highest = max(highest, seq)
        }
        times.sort()
        func at(_ q: Double) -> Double { times.isEmpty ? 0 : times[min(times.count - 1, Int(Double(times.count) * q))] }
        sent = highest
        lost = max(0, highest - times.count)
        p50Ms = at(0.5)
        p99Ms = at(0.99)
        maxMs = times.last ?? 0
    }
}

public final class TablesBench {
    public static let vni = VNI(1000)!
    public static let remoteVTEP = IPAddress("198.18.77.2")!
    let tag = "\(getpid())"
    let log: (String) -> Void

    public init(log: @escaping (String) -> Void) { self.log = log }

    /// The N MACs: locally administered, unique, never the two pinging hosts'.
    static func mac(_ i: Int) -> MACAddress { MACAddress(raw: 0x0A_00_00_00_00_00 | UInt64(i + 1)) }

    public func run(macs: Int, run: Int) throws -> [TablesBenchSample] {
        [try measureVXSW(macs: macs, run: run), try measureKernel(macs: macs, run: run)]
    }

    /// The namespaces both contenders use; `body` gets the switch's namespace.
    private func withRig<T>(_ body: (NetworkNamespace, NetworkNamespace) throws -> T) throws -> T {
        let sw = try NetworkNamespace("vxtb\(tag)-sw"), a = try NetworkNamespace("vxtb\(tag)-a")
        let b = try NetworkNamespace("vxtb\(tag)-b"), r = try NetworkNamespace("vxtb\(tag)-r")
        defer { for ns in [a, b, r, sw] { ns.remove() } }
        try addVeth("eth0", in: a, "pa", in: sw)
        try addVeth("eth0", in: b, "pb", in: sw)
        try addVeth("ul0", in: sw, "ul0", in: r)
        for (ns, addr) in [(a, "10.77.0.1/24"), (b, "10.77.0.2/24")] {
            try ns.exec(["ip", "addr", "add", addr, "dev", "eth0"])
            try ns.exec(["ip", "link", "set", "eth0", "up"])
        }
        try sw.exec(["ip", "addr", "add", "198.18.77.1/24", "dev", "ul0"])
        try r.exec(["ip", "addr", "add", "198.18.77.2/24", "dev", "ul0"])
        for dev in ["pa", "pb", "ul0"] { try sw.exec(["ip", "link", "set", dev, "up"]) }
        try r.exec(["ip", "link", "set", "ul0", "up"])
        return try body(sw, a)
    }

    /// Runs `install` while `a` pings `b` every 2 ms; returns its result and the ping.
    private func pinging<T>(_ a: NetworkNamespace, _ install: () throws -> T) throws -> (T, PingStats) {
        let logPath = NSTemporaryDirectory() + "vxsw-tables-ping-\(tag).log"
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let ping = try a.spawn(["ping", "-n", "-i", "0.002", "-W", "1", "10.77.0.2"], logPath: logPath)
        usleep(300_000)
        let result: T
        do { result = try install() } catch { ping.stop(grace: 1); throw error }
        usleep(300_000)
        ping.stop(grace: 1)
        return (result, PingStats(pingOutput: ping.log))
    }

    private func measureVXSW(macs n: Int, run: Int) throws -> TablesBenchSample {
        try withRig { sw, a in
            let yaml = """
            vtep: { ipv4: 198.18.77.1 }
            uplink: { interface: ul0 }
            vnis: [{ vni: \(Self.vni.value) }]
            ports: [{ name: pa, vni: \(Self.vni.value) }, { name: pb, vni: \(Self.vni.value) }]
            fdb: { max-entries: \(max(131_072, n + 65_536)) }
            control: { socket: \(NSTemporaryDirectory())vxsw-tables-\(tag).ctl, metrics: off, state-file: off }
            """
            let config = try SwitchConfig.parse(yaml: yaml)
            let daemon = try sw.enter { () -> SwitchDaemon in
                let d = try SwitchDaemon(config: config, log: DaemonLog())
                try d.start()
                return d
            }
            defer { daemon.shutdown() }
            _ = try a.exec(["ping", "-c", "3", "-i", "0.2", "-W", "1", "10.77.0.2"], check: false)
            let updates = (0..<n).map { TableUpdate.installEVPN(Self.vni, Self.mac($0), vtep: Self.remoteVTEP, sequence: 0) }
            let ((accept, dataPlane, fast, fastEntries), ping) = try pinging(a) { () -> (Double, Double, Double?, Int?) in
                let t0 = DispatchTime.now().uptimeNanoseconds
                for start in stride(from: 0, to: n, by: 1024) {
                    daemon.applyTableUpdates(Array(updates[start..<min(n, start + 1024)]))
                }
                let t1 = DispatchTime.now().uptimeNanoseconds
                daemon.waitUntilWorkersApplied()
                let t2 = DispatchTime.now().uptimeNanoseconds
                var fastSeconds: Double?
                var entries: Int?
                if daemon.fastPathFDBEntries != nil {
                    let capacity = 262_144
                    let want = min(n, capacity)
                    let deadline = Date().addingTimeInterval(60)
                    while Date() < deadline {
                        let count = daemon.fastPathFDBEntries ?? 0
                        entries = count
                        if count >= want { break }
                        usleep(1000)
                    }
                    if (entries ?? 0) >= n { fastSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
                }
                return (Double(t1 - t0) / 1e9, Double(t2 - t0) / 1e9, fastSeconds, entries)
            }
            let s0 = DispatchTime.now().uptimeNanoseconds
            // What `vxsw show mac` asks for: pages of 10,000 rows until the last.
            var rows: [MACView] = []
            var from: Int? = 0
            while let start = from {
                let page = daemon.macPage(from: start, limit: 10_000)
                rows += page.entries
                from = page.next
            }
            let s1 = DispatchTime.now().uptimeNanoseconds
            _ = daemon.renderMetrics()
            let s2 = DispatchTime.now().uptimeNanoseconds
            guard rows.count >= n else { throw SwitchError("vxsw: show mac listed \(rows.count) of \(n) MACs") }
            log("vxsw N=\(n) run \(run): owner \(fmt(accept)) s, workers \(fmt(dataPlane)) s, fast path "
                + (fast.map { fmt($0) + " s" } ?? "\(fastEntries ?? 0) entries (map size)") + ", show mac \(fmt(Double(s1 - s0) / 1e9)) s, ping p99 \(ping.p99Ms) ms max \(ping.maxMs) ms, lost \(ping.lost)/\(ping.sent)")
            return TablesBenchSample(contender: "vxsw", macs: n, run: run, acceptSeconds: accept, dataPlaneSeconds: dataPlane,
                                     fastPathSeconds: fast, fastPathEntries: fastEntries,
                                     showSeconds: Double(s1 - s0) / 1e9, metricsSeconds: Double(s2 - s1) / 1e9, ping: ping)
        }
    }

    private func measureKernel(macs n: Int, run: Int) throws -> TablesBenchSample {
        try withRig { sw, a in
            for cmd in [["ip", "link", "add", "br0", "type", "bridge"],
                        ["ip", "link", "add", "vx0", "type", "vxlan", "id", "\(Self.vni.value)", "local", "198.18.77.1",
                         "dstport", "4789", "nolearning"],
                        ["ip", "link", "set", "vx0", "master", "br0"], ["ip", "link", "set", "pa", "master", "br0"],
                        ["ip", "link", "set", "pb", "master", "br0"],
                        ["ip", "link", "set", "vx0", "up"], ["ip", "link", "set", "br0", "up"]] {
                try sw.exec(cmd)
            }
            _ = try a.exec(["ping", "-c", "3", "-i", "0.2", "-W", "1", "10.77.0.2"], check: false)
            let batch = NSTemporaryDirectory() + "vxsw-tables-batch-\(tag)"
            defer { try? FileManager.default.removeItem(atPath: batch) }
            // zebra's entries: the MAC on the vxlan device toward the remote VTEP (master: the bridge too).
            let lines = (0..<n).map { "fdb add \(Self.mac($0)) dev vx0 dst 198.18.77.2 self permanent" }
            try (lines.joined(separator: "\n") + "\n").write(toFile: batch, atomically: true, encoding: .utf8)
            let (seconds, ping) = try pinging(a) { () -> Double in
                let t0 = DispatchTime.now().uptimeNanoseconds
                try sw.exec(["bridge", "-batch", batch])
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            }
            let s0 = DispatchTime.now().uptimeNanoseconds
            let shown = try sw.exec(["bridge", "fdb", "show", "dev", "vx0"]).output
            let s1 = DispatchTime.now().uptimeNanoseconds
            let count = shown.split(separator: "\n").filter { $0.contains("dst 198.18.77.2") }.count
            guard count >= n else { throw SwitchError("kernel: bridge fdb show listed \(count) of \(n) entries") }
            log("kernel N=\(n) run \(run): bridge -batch \(fmt(seconds)) s, fdb show \(fmt(Double(s1 - s0) / 1e9)) s, ping p99 \(ping.p99Ms) ms max \(ping.maxMs) ms, lost \(ping.lost)/\(ping.sent)")
            return TablesBenchSample(contender: "kernel", macs: n, run: run, acceptSeconds: seconds, dataPlaneSeconds: seconds,
                                     fastPathSeconds: nil, fastPathEntries: nil,
                                     showSeconds: Double(s1 - s0) / 1e9, metricsSeconds: nil, ping: ping)
        }
    }

    private func fmt(_ x: Double) -> String { String(format: "%.3f", x) }
}
