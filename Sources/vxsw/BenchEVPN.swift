import ArgumentParser
import Foundation
import VXBench
import VXLab
import VXLabKit
import VXSwitch

/// Issue 12's benchmark: N EVPN type-2 routes over V VNIs, fed through a real iBGP session by
/// the project's own feeder (`BGPFeeder`, VXEVPN's codec), into vxsw and, in the same run, into
/// FRR's bgpd → zebra → kernel bridge FDB: time from the first UPDATE to forwarding-ready,
/// memory per route, a churn of every MAC (moves/s, no stale entry after), withdraw-all time.
/// See `EVPNScaleRig` for the rig and the phases.
struct BenchEVPN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-evpn",
        abstract: "Benchmark: N EVPN type-2 routes over V VNIs through a real BGP session, vxsw vs FRR zebra + kernel FDB.")

    @Option(help: "Route counts, comma-separated.")
    var routes: String = "100000,1000000"

    @Option(help: "VNI counts, comma-separated (routes spread round-robin over them).")
    var vnis: String = "1000,4000"

    @Option(help: "Runs per size (a fresh fabric each).")
    var runs: Int = 3

    @Option(help: "Route counts above this get one FRR run only (FRR is the slow side; the other runs measure vxsw alone).")
    var frrOnceAbove: Int = 100_000

    @Option(help: "Contenders, comma-separated: vxsw, frr.")
    var contenders: String = "vxsw,frr"

    @Option(help: "Give up on a contender's phase after this many seconds.")
    var timeout: Double = 300

    @Option(help: "Write RESULTS.md and RESULTS.json (no extension here).")
    var output: String = "Benchmarks/results/evpn-routes"

    struct Sample: Codable {
        var routes: Int
        var vnis: Int
        var run: Int
        var results: [EVPNScaleRig.Result]
    }

    func run() throws {
        guard isRoot else { throw ValidationError("vxsw bench-evpn needs root: it creates network namespaces and attaches XDP programs") }
        guard FRRInstance.isInstalled else { throw ValidationError("needs FRR (tools/install-deps)") }
        func list(_ text: String, _ name: String) throws -> [Int] {
            try text.split(separator: ",").map { s -> Int in
                guard let n = Int(s.trimmingCharacters(in: .whitespaces)), n > 0 else { throw ValidationError("bad --\(name) entry '\(s)'") }
                return n
            }
        }
        let counts = try list(routes, "routes"), vniCounts = try list(vnis, "vnis")
        guard runs > 0 else { throw ValidationError("--runs must be at least 1") }
        let chosen = try contenders.split(separator: ",").map { s -> EVPNScaleRig.Contender in
            guard let c = EVPNScaleRig.Contender(rawValue: s.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("bad --contenders entry '\(s)': vxsw or frr")
            }
            return c
        }
        let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var samples: [Sample] = []
        for n in counts {
            for v in vniCounts {
                for r in 1...runs {
                    let contenders = chosen.filter { $0 != .frr || n <= frrOnceAbove || r == 1 }
                    guard !contenders.isEmpty else { continue }
                    let rig = EVPNScaleRig(.init(routes: n, vnis: v, contenders: contenders, timeout: timeout), binary: binary) {
                        print("  \($0)"); fflush(stdout)
                    }
                    let results = try rig.run()
                    samples.append(Sample(routes: n, vnis: v, run: r, results: results))
                    for x in results { print("N=\(n) V=\(v) run \(r): \(x.contender.rawValue) \(Self.summary(x))") }
                    fflush(stdout)
                }
            }
        }
        try write(samples, binary: binary)
    }

    static func summary(_ x: EVPNScaleRig.Result) -> String {
        func t(_ p: EVPNScaleRig.Phase?) -> String { p?.seconds.map { String(format: "%.3f s", $0) } ?? "— (\(p?.note ?? "not run"))" }
        return "ready \(t(x.announce)), \(x.bytesPerRoute.map { String(format: "%.0f B/route", $0) } ?? "?"), "
            + "churn \(t(x.churn)) stale \(x.churnStale.map(String.init) ?? "?"), withdraw \(t(x.withdraw))"
    }

    // MARK: results

    struct Stat: Codable {
        var median: Double
        var min: Double
        var max: Double
        var runs: Int
        /// VXBench's `Spread` (median, min, max) and how many runs; nil for none.
        init?(_ values: [Double]) {
            guard !values.isEmpty else { return nil }
            let s = Spread(values)
            median = s.median; min = s.min; max = s.max
            runs = values.count
        }
        var text: String { String(format: "%.3f s (%.3f–%.3f, %d runs)", median, min, max, runs) }
    }

    struct Row: Codable {
        var routes: Int
        var vnis: Int
        var contender: EVPNScaleRig.Contender
        var ready: Stat?
        var bytesPerRoute: Stat?
        var churnMovesPerSecond: Stat?
        var withdraw: Stat?
        var runs: Int
        /// Runs whose phases all finished with no stale or missing entry.
        var correctRuns: Int
        var notes: [String]
    }

    struct Report: Codable {
        var command: String
        var date: String
        var machine: [String: String]
        var versions: [String: String]
        var method: String
        var rows: [Row]
        var samples: [Sample]
    }

    func write(_ samples: [Sample], binary: String) throws {
        var rows: [Row] = []
        var keys: [(Int, Int)] = []
        for s in samples where !keys.contains(where: { $0 == (s.routes, s.vnis) }) { keys.append((s.routes, s.vnis)) }
        for (n, v) in keys {
            for c in EVPNScaleRig.Contender.allCases {
                let rs = samples.filter { $0.routes == n && $0.vnis == v }.flatMap { s in s.results.filter { $0.contender == c }.map { (s.run, $0) } }
                guard !rs.isEmpty else { continue }
                var notes: [String] = []
                for (run, x) in rs {
                    for (name, p) in [("ready", x.announce), ("churn", x.churn), ("withdraw", x.withdraw)] {
                        if let p, p.seconds == nil { notes.append("\(n) routes / \(v) VNIs, \(c.rawValue) run \(run) \(name): \(p.note ?? "did not finish")") }
                    }
                    if let stale = x.churnStale, stale > 0 {
                        notes.append("\(n) routes / \(v) VNIs, \(c.rawValue) run \(run): \(stale) entries still at the old next hop after the churn")
                    }
                    if let moved = x.churnMoved, moved != n {
                        notes.append("\(n) routes / \(v) VNIs, \(c.rawValue) run \(run): \(moved) of \(n) entries at the new next hop after the churn")
                    }
                    if let m = x.observerMismatch { notes.append("\(n) routes / \(v) VNIs, \(c.rawValue) run \(run): observer \(m)") }
                    if let u = x.unsettledPhases {
                        notes.append("\(n) routes / \(v) VNIs, \(c.rawValue) run \(run): \(u.joined(separator: ", ")) started on a busy machine (not quiet after 60 s)")
                    }
                }
                rows.append(Row(routes: n, vnis: v, contender: c, ready: Stat(rs.compactMap(\.1.announce.seconds)),
                                bytesPerRoute: Stat(rs.compactMap(\.1.bytesPerRoute)),
                                churnMovesPerSecond: Stat(rs.compactMap(\.1.churnMovesPerSecond)),
                                withdraw: Stat(rs.compactMap { $0.1.withdraw?.seconds }),
                                runs: rs.count, correctRuns: rs.filter(\.1.correct).count, notes: notes))
            }
        }
        let command = "sudo " + CommandLine.arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        let report = Report(command: command, date: ISO8601DateFormatter().string(from: Date()), machine: machine(),
                            versions: versions(binary), method: Self.method, rows: rows, samples: samples)
        let dir = (output as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: output + ".json"))
        let md = markdown(report)
        try md.write(toFile: output + ".md", atomically: true, encoding: .utf8)
        print(md)
    }

    static let method = """
        Per run a fresh fabric of namespaces on one underlay bridge: the feeder (198.18.0.200, AS 65000; \
        `BGPFeeder`, the project's own BGP speaker, encoding with VXEVPN's codec), vxsw on hv1 (V VNIs, \
        fdb max-entries ≥ 1.25 N, no per-VNI MAC limit) and FRR 8.4 (zebra + bgpd, advertise-all-vni, \
        one br + vxlan device per VNI made with `ip -batch`) on hv2, both with an Established iBGP \
        session to the feeder (OPEN with MP-BGP L2VPN EVPN and 4-octet AS). N type-2 routes (MAC only) \
        spread round-robin over the V VNIs, RT 65000:VNI, encapsulation VXLAN, next hop 198.18.0.200, \
        are pre-encoded into UPDATEs of one VNI each, as many NLRI as fit 4096 bytes (~115), after one \
        type-3 per VNI. One contender at a time (the other idles, Established), each phase started on a \
        quiet machine (everything but the contender under 5% of both cores for two 0.5 s windows, at most 60 s of waiting; the contender's own background work goes on during the phase too: FRR's \
        thousands of devices, zebra reading them and IPv6 addrconf on each keep this 2-core machine \
        busy for seconds after they are made, and a phase's work left over is not the next one's): t0 = just before the \
        feeder writes the first UPDATE; ready = when the count of N entries was taken, by observers that \
        take next to nothing from the contender, every 5 ms: vxsw, `show mac --total` asked on its control socket \
        from the bench process (the size of the table owner's FDB, read without a scan; after each phase, with no clock \
        running, checked against the EVPN entries `show mac --count` counts; a `vxsw show` process per poll cost ~30 ms of \
        CPU, and `show mac --count`, which scans the table, held up the installs it counted); FRR, the kernel FDB of hv2 followed from \
        rtnetlink's neighbour notifications (entries with a VTEP `dst`, the time of the notification \
        that made N; a `bridge fdb show` dump of 100k entries on one vxlan device took over a second of kernel time \
        per poll on this machine, it is used only if notifications were lost; the flood entries \
        00:00:00:00:00:00 left out). Memory per route: resident memory \
        (VmRSS; FRR: bgpd + zebra) once ready minus before the feed, over N. Churn: every one of the N \
        MACs announced from a second VTEP (next hop 198.18.0.201, its own RD) with MAC mobility \
        sequence 1, as after a VM migration, then one marker route: moves/s = N / (t0 → marker installed); then \
        every entry is checked: none may remain at 198.18.0.200 (vxsw: `show mac --count`'s entries per VTEP, \
        counted over the whole table; FRR: the notifications' VTEPs). Withdraw-all: MP_UNREACH for every type-2 route of both VTEPs, t0 → 0 entries left.
        """

    func markdown(_ r: Report) -> String {
        var s = "# EVPN routes through a real BGP session: vxsw vs FRR → kernel FDB\n\n"
        s += "N type-2 routes over V VNIs from one iBGP peer (the project's feeder). Time from the first UPDATE until all N are "
        s += "in the forwarding table (vxsw's FDB, or the kernel bridge FDB that FRR's zebra fills), memory per route, a churn of "
        s += "every MAC to another VTEP (moves/s, no stale entry after), and withdraw-all. Medians of the runs, with min–max; "
        s += "2-core VM shared with other work, so noisy.\n\n"
        s += "| routes | VNIs | contender | first UPDATE → forwarding-ready | memory per route | churn (moves/s) | withdraw-all | correct runs |\n"
        s += "|---:|---:|---|---|---|---|---|---|\n"
        for row in r.rows {
            func bytes(_ x: Stat?) -> String { x.map { String(format: "%.0f B (%.0f–%.0f)", $0.median, $0.min, $0.max) } ?? "—" }
            func rate(_ x: Stat?) -> String { x.map { String(format: "%.0f (%.0f–%.0f)", $0.median, $0.min, $0.max) } ?? "—" }
            s += "| \(row.routes) | \(row.vnis) | \(row.contender == .frr ? "FRR 8.4" : "vxsw") | \(row.ready?.text ?? "did not finish") | "
            s += "\(bytes(row.bytesPerRoute)) | \(rate(row.churnMovesPerSecond)) | \(row.withdraw?.text ?? "—") | \(row.correctRuns)/\(row.runs) |\n"
        }
        let notes = r.rows.flatMap(\.notes)
        if !notes.isEmpty { s += "\nIncomplete runs:\n\n" + notes.map { "- \($0)\n" }.joined() }
        s += "\n## How\n\n```sh\n\(r.command)\n```\n\n\(r.method)\n\n"
        s += "## Machine\n\n" + r.machine.sorted { $0.key < $1.key }.map { "- \($0.key): \($0.value)\n" }.joined()
        s += "\n## Versions\n\n" + r.versions.sorted { $0.key < $1.key }.map { "- \($0.key): \($0.value)\n" }.joined()
        s += "\nDate: \(r.date). Raw samples: the .json file next to this one.\n"
        return s
    }

    func machine() -> [String: String] {
        var m: [String: String] = [:]
        let lscpu = (try? VXLabKit.run(["lscpu"]).output) ?? ""
        for line in lscpu.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if ["Model name", "CPU(s)", "Thread(s) per core", "Hypervisor vendor", "Virtualization type"].contains(parts[0]) {
                m["lscpu " + parts[0]] = parts[1]
            }
        }
        m["kernel"] = (try? VXLabKit.run(["uname", "-r"]).output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "?"
        if let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
            m["load average at the end (1, 5, 15 min)"] = load.split(separator: " ").prefix(3).joined(separator: ", ")
        }
        if let mem = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8).split(separator: "\n").first {
            m["memory"] = mem.replacingOccurrences(of: "MemTotal:", with: "").trimmingCharacters(in: .whitespaces)
        }
        return m
    }

    func versions(_ binary: String) -> [String: String] {
        func first(_ args: [String]) -> String {
            ((try? VXLabKit.run(args, check: false)).map { $0.output + $0.error } ?? "?")
                .split(separator: "\n").first.map(String.init) ?? "?"
        }
        return [
            "vxsw": first([binary, "--version"]) + " (" + first(["git", "describe", "--always", "--dirty"]) + ", "
                + (binary.contains("/release/") ? "release" : "debug") + " build)",
            "Debian packages": first(["dpkg-query", "-W", "-f", "${Package} ${Version}, ", "frr", "iproute2"]),
        ]
    }
}
