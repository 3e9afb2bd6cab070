import ArgumentParser
import Foundation
import VXLab
import VXLabKit
import VXSwitch

/// Issue 3's benchmark: time from the first UPDATE to forwarding-ready for N type-2 routes
/// that gobgpd sends, for vxsw (N remote MACs in its FDB) and, in the same run, for FRR's
/// zebra (N entries in the kernel bridge FDB).
///
/// ```
///  hv1: vxsw 198.18.0.1          gobgp: gobgpd 198.18.0.200         hv2: FRR 198.18.0.2
///  VNI 1000  <── iBGP (admin-down until measured) ──  N type-2 + 1 type-3  ──> br1000 + vx1000
/// ```
/// Per run: a fresh fabric; `tools/evpn-inject` loads N MAC routes (RT 65000:1000, next hop
/// 198.18.0.200) into gobgpd's RIB through its gRPC API (timed on its own) while both
/// neighbors are shut; then one neighbor at a time is enabled. t0 is the first TCP segment from
/// gobgpd to that neighbor with more than 200 bytes of payload (the first UPDATE; OPEN and
/// KEEPALIVE are smaller), taken by tcpdump in gobgpd's namespace; t1 is the first poll that
/// sees N entries (vxsw: `show vni 1000 --json` remoteMACs; FRR: `bridge fdb show dev vx1000`
/// lines with `dst 198.18.0.200`).
struct BenchEVPN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-evpn",
        abstract: "Benchmark: first UPDATE to forwarding-ready for N EVPN type-2 routes from GoBGP, vxsw vs FRR zebra + kernel FDB.")

    @Option(help: "Route counts, comma-separated.")
    var routes: String = "1000,10000,100000"

    @Option(help: "Runs per route count (a fresh fabric each).")
    var runs: Int = 3

    @Option(help: "Give up on a contender after this many seconds.")
    var timeout: Double = 240

    @Option(help: "Give up loading gobgpd's RIB after this many seconds (GoBGP's AddPath slows down as its EVPN table grows).")
    var injectTimeout: Double = 240

    @Option(help: "The injector (python3-grpcio).")
    var injector: String = "tools/evpn-inject"

    @Option(help: "Write RESULTS.md and RESULTS.json (no extension here).")
    var output: String = "Benchmarks/results/evpn-routes"

    struct Sample: Codable {
        var routes: Int
        var run: Int
        var injectSeconds: Double?
        var vxsw: Measure
        var frr: Measure
    }

    struct Measure: Codable {
        /// First UPDATE -> N entries installed; nil when it did not get there.
        var seconds: Double?
        /// `neighbor enable` -> first UPDATE (session setup), for the record.
        var sessionSeconds: Double?
        var reached: Int
        var note: String?
    }

    func run() throws {
        guard isRoot else { throw ValidationError("vxsw bench-evpn needs root: it creates network namespaces and attaches XDP programs") }
        guard FRRInstance.isInstalled, GoBGPInstance.isInstalled else { throw ValidationError("needs FRR and GoBGP (tools/install-deps)") }
        guard FileManager.default.isExecutableFile(atPath: injector) else {
            throw ValidationError("\(injector) not found: run from the repository root or pass --injector")
        }
        let counts = try routes.split(separator: ",").map { s -> Int in
            guard let n = Int(s.trimmingCharacters(in: .whitespaces)), n > 0 else { throw ValidationError("bad --routes entry '\(s)'") }
            return n
        }
        let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var samples: [Sample] = []
        for n in counts {
            for r in 1...runs {
                let s = try measure(routes: n, run: r, binary: binary)
                samples.append(s)
                func show(_ m: Measure) -> String { m.seconds.map { String(format: "%.3f s", $0) } ?? "— (\(m.reached)/\(n): \(m.note ?? ""))" }
                print("N=\(n) run \(r): inject \(s.injectSeconds.map { String(format: "%.2f s", $0) } ?? "-"), vxsw \(show(s.vxsw)), FRR \(show(s.frr))")
                fflush(stdout)
                // Repeating a size whose injection could not finish only repeats the wait.
                if s.injectSeconds == nil { break }
            }
        }
        try write(samples, counts: counts, binary: binary)
    }

    // MARK: one run

    func measure(routes n: Int, run: Int, binary: String) throws -> Sample {
        let workDir = NSTemporaryDirectory() + "vxsw-bench-evpn-\(labTag)"
        try? FileManager.default.removeItem(atPath: workDir)
        let fabric = try EVPNFabric(prefix: "vxb\(labTag)", workDir: workDir, binary: binary)
        defer {
            fabric.teardown()
            try? FileManager.default.removeItem(atPath: workDir)
        }
        let gb = try fabric.addNode("gobgp", host: 200, kind: .gobgp)
        let hv1 = try fabric.addNode("hv1", host: 1, kind: .vxsw, vnis: [1000])
        let hv2 = try fabric.addNode("hv2", host: 2, kind: .frr, vnis: [1000])
        let gobgp = try fabric.startGoBGP("gobgp", neighbors: [hv1, hv2].map {
            .init(address: $0.address, peerAS: EVPNFabric.asn, passive: false, adminDown: true)
        }, logLevel: "warn")
        try fabric.startFRR("hv2", bgpdConfig: fabric.frrLeafConfig(hv2, peers: [gb.address]))
        try fabric.startVxsw("hv1", peers: [gb.address])

        // Load gobgpd's RIB while both neighbors are shut.
        let inject = try gb.namespace.exec([injector, "--port", String(gobgp.apiPort), "--count", String(n), "--vni", "1000",
                                            "--rt", "65000:1000", "--rd", "\(gb.address):1", "--nexthop", gb.address,
                                            "--timeout", String(injectTimeout)], check: false)
        let streamEnd = Date()
        let json = try? JSONSerialization.jsonObject(with: Data(inject.output.utf8)) as? [String: Any]
        if inject.status == 3, json?["timeout"] != nil {
            let held = (try? gobgp.gobgp(["global", "rib", "summary", "-a", "evpn"]))?
                .split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? "?"
            let note = "GoBGP injection did not finish in \(Int(injectTimeout)) s: gobgpd held \(held) paths"
            let none = Measure(seconds: nil, sessionSeconds: nil, reached: 0, note: note)
            return Sample(routes: n, run: run, injectSeconds: nil, vxsw: none, frr: none)
        }
        guard inject.succeeded, let streamSeconds = json?["seconds"] as? Double else {
            throw LabError("injection failed: \(inject.output) \(inject.error)")
        }
        let loaded = waitUntil(timeout: 120) {
            ((try? gobgp.gobgp(["global", "rib", "summary", "-a", "evpn"])) ?? "").contains("Path: \(n + 1)")
        }
        guard loaded else { throw LabError("gobgpd does not hold \(n + 1) paths: \((try? gobgp.gobgp(["global", "rib", "summary", "-a", "evpn"])) ?? "?")") }
        // The stream's own time (without the injector's start-up) plus gobgpd catching up after it.
        let injectSeconds = streamSeconds + Date().timeIntervalSince(streamEnd)

        let vxsw = contender(fabric, gobgp: gobgp, peer: hv1, n: n) {
            guard let vnis = try? fabric.vniViews("hv1") else { return nil }
            return vnis.first { $0.vni == 1000 }?.remoteMACs
        }
        let frr = contender(fabric, gobgp: gobgp, peer: hv2, n: n) {
            guard let out = try? hv2.namespace.exec(["bridge", "fdb", "show", "dev", "vx1000"]).output else { return nil }
            var count = 0
            for line in out.split(separator: "\n") where line.contains("dst \(gb.address)") && !line.hasPrefix("00:00:00:00:00:00") {
                count += 1
            }
            return count
        }
        var vxswMeasure = vxsw
        if vxsw.seconds == nil, let node = fabric.nodes.first(where: { $0.name == "hv1" }), let log = node.vxsw?.log {
            let full = log.split(separator: "\n").filter { $0.contains("table full") }.count
            if full > 0 { vxswMeasure.note = (vxswMeasure.note ?? "") + "; vxsw logged \(full) 'table full' warnings" }
        }
        return Sample(routes: n, run: run, injectSeconds: injectSeconds, vxsw: vxswMeasure, frr: frr)
    }

    /// Enables gobgpd's neighbor `peer` and times first UPDATE -> `count() >= n`.
    func contender(_ fabric: EVPNFabric, gobgp: GoBGPInstance, peer: EVPNFabric.Node, n: Int, count: () -> Int?) -> Measure {
        let gb = gobgp.namespace
        let capture = fabric.workDir + "/tcpdump-\(peer.name).txt"
        let filter = "src host \(fabric.node("gobgp").address) and dst host \(peer.address) and tcp port 179 and " +
            "(ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2)) > 200"
        let tcpdump = try? gb.spawn(["tcpdump", "-i", "ul0", "-n", "-tt", "-l", "-c", "1", "-p", filter], logPath: capture)
        defer { tcpdump?.stop(grace: 1) }
        _ = waitUntil(timeout: 5) { tcpdump?.log.contains("listening on") == true }
        let enabled = Date().timeIntervalSince1970
        do { try gobgp.gobgp(["neighbor", peer.address, "enable"]) } catch {
            return Measure(seconds: nil, sessionSeconds: nil, reached: 0, note: "gobgp neighbor enable failed: \(error)")
        }
        var reached = 0, lastChange = Date(), readyAt: Double?
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let c = count() {
                let now = Date().timeIntervalSince1970
                if c != reached { reached = c; lastChange = Date() }
                if c >= n { readyAt = now; break }
            }
            // No progress for 30 s after some: it will not get there (e.g. a full table).
            if reached > 0, Date().timeIntervalSince(lastChange) > 30 { break }
            usleep(20_000)
        }
        _ = waitUntil(timeout: 2) { tcpdump?.isRunning == false }
        let firstUpdate = tcpdump?.log.split(separator: "\n")
            .first { $0.first?.isNumber == true }
            .flatMap { Double($0.split(separator: " ")[0]) }
        let t0 = firstUpdate ?? enabled
        var note: String? = firstUpdate == nil ? "no tcpdump timestamp: t0 = neighbor enable" : nil
        if readyAt == nil { note = [note, "stopped at \(reached) of \(n)"].compactMap { $0 }.joined(separator: "; ") }
        return Measure(seconds: readyAt.map { $0 - t0 }, sessionSeconds: firstUpdate.map { $0 - enabled }, reached: reached, note: note)
    }

    // MARK: results

    struct Stat: Codable {
        var median: Double
        var min: Double
        var max: Double
        var runs: Int
        init?(_ values: [Double]) {
            guard !values.isEmpty else { return nil }
            let v = values.sorted()
            median = v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
            min = v.first!
            max = v.last!
            runs = v.count
        }
        var text: String { String(format: "%.3f s (%.3f–%.3f, %d runs)", median, min, max, runs) }
    }

    struct Row: Codable {
        var routes: Int
        var inject: Stat?
        var vxsw: Stat?
        var frr: Stat?
        var vxswRate: Double?
        var frrRate: Double?
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

    func write(_ samples: [Sample], counts: [Int], binary: String) throws {
        var rows: [Row] = []
        for n in counts {
            let s = samples.filter { $0.routes == n }
            let vx = Stat(s.compactMap(\.vxsw.seconds)), fr = Stat(s.compactMap(\.frr.seconds))
            var notes: [String] = []
            for x in s {
                if let note = x.vxsw.note, x.vxsw.seconds == nil { notes.append("vxsw run \(x.run): \(note)") }
                if let note = x.frr.note, x.frr.seconds == nil, note != x.vxsw.note { notes.append("FRR run \(x.run): \(note)") }
            }
            rows.append(Row(routes: n, inject: Stat(s.compactMap(\.injectSeconds)), vxsw: vx, frr: fr,
                            vxswRate: vx.map { Double(n) / $0.median }, frrRate: fr.map { Double(n) / $0.median }, notes: notes))
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
        Per run a fresh fabric of namespaces on one underlay bridge: gobgpd (198.18.0.200, AS 65000) with \
        two iBGP neighbors, vxsw on hv1 and FRR 8.4 (zebra + bgpd, advertise-all-vni, br1000 + vx1000) on hv2, \
        both neighbors shut. tools/evpn-inject loads N type-2 routes (MAC only, VNI 1000, RT 65000:1000, \
        next hop 198.18.0.200) and one type-3 into gobgpd's global RIB with the gRPC AddPathStream call \
        (timed on its own: 'GoBGP injection', the stream plus gobgpd catching up until \
        `gobgp global rib summary` shows N + 1 paths, polled every ~130 ms). Then gobgpd's neighbor for vxsw is enabled; t0 = the first \
        TCP segment gobgpd sends it with > 200 bytes of payload (its first UPDATE), stamped by tcpdump in \
        gobgpd's namespace; t1 = the first poll (every ~20 ms plus the poll's own time) at which \
        `vxsw show vni 1000 --json` counts N remote MACs. Then the same for FRR: t1 = the first \
        `bridge fdb show dev vx1000` listing N entries with dst 198.18.0.200. The contenders run one after \
        the other on the same machine, each while the other is idle.
        """

    func markdown(_ r: Report) -> String {
        var s = "# EVPN route feed: first UPDATE to forwarding-ready\n\n"
        s += "N EVPN type-2 routes sent by GoBGP; time from gobgpd's first UPDATE until all N are in the forwarding table: "
        s += "vxsw's FDB, or the kernel bridge FDB that FRR's zebra fills. Lower is better. "
        s += "Medians of the runs, with min–max.\n\n"
        s += "| routes | vxsw: first UPDATE → N in its FDB | FRR 8.4: first UPDATE → N in kernel FDB | vxsw routes/s | FRR routes/s | GoBGP injection (gRPC, not part of the race) |\n"
        s += "|---:|---|---|---:|---:|---|\n"
        for row in r.rows {
            func rate(_ x: Double?) -> String { x.map { String(format: "%.0f", $0) } ?? "—" }
            s += "| \(row.routes) | \(row.vxsw?.text ?? "did not complete") | \(row.frr?.text ?? "did not complete") | "
            s += "\(rate(row.vxswRate)) | \(rate(row.frrRate)) | \(row.inject?.text ?? "—") |\n"
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
            "Debian packages": first(["dpkg-query", "-W", "-f", "${Package} ${Version}, ", "frr", "gobgpd", "python3-grpcio", "iproute2"]),
        ]
    }
}
