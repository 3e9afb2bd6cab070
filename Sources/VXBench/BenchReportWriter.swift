import Foundation

/// Writes a `BenchReport` as Markdown, JSON and an SVG plot (Mpps vs frame size per
/// contender and direction, with the 10G line-rate curve) into the results directory, as
/// `system-DATE.*` and `latest.*`.
public enum BenchReportWriter {
    public static func buildKind(_ binary: String) -> String {
        binary.contains("/release/") ? "release" : (binary.contains("/debug/") ? "debug" : "unknown")
    }

    @discardableResult
    public static func write(_ report: BenchReport, to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let stamp = String(report.date.prefix(19)).replacingOccurrences(of: ":", with: "")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(report)
        let files: [(String, Data)] = [("md", Data(markdown(report).utf8)), ("json", json), ("svg", Data(svg(report).utf8))]
        var written: [String] = []
        for (ext, data) in files {
            for name in ["system-\(stamp).\(ext)", "latest.\(ext)"] {
                let path = directory + "/" + name
                try data.write(to: URL(fileURLWithPath: path))
                written.append(path)
            }
        }
        return written
    }

    static func f(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }

    public static func markdown(_ r: BenchReport) -> String {
        var o = "# vxsw bench: system benchmark\n\n"
        o += "- command: `\(r.command)`\n"
        o += "- date: \(r.date)\n"
        o += "- machine: \(r.machine.cpuModel), \(r.machine.vcpus) vCPUs, kernel \(r.machine.kernel), load average at start \(r.machine.loadAverageAtStart)\n"
        o += "- build: \(r.build)\n"
        let s = r.settings
        o += "- settings: \(s.runs) run(s) of \(f(s.seconds, 1)) s per point (median, min–max), flows \(s.flows), MACs \(s.macs), "
        o += "rate \(s.rate.map { f($0 / 1e6, 3) + " Mpps" } ?? "unlimited"), generator on CPU \(s.generatorCPU), switch thread on CPU \(s.switchCPU)\n"
        o += "- measured in this run:\n"
        for id in s.contenders { o += "  - `\(id)`: \(r.contenders[id] ?? "")\n" }
        o += "\nFrame size = inner Ethernet frame with FCS (on veth: size − 4 bytes). Mpps = frames counted by the XDP sink "
        o += "per second of sending; Gbit/s = Mpps × size × 8 (inner frames). CPU = busy % per core from /proc/stat over the run "
        o += "(whole machine, other users included). 10G line rate = 10e9 / ((size + 20) × 8).\n"
        for d in s.directions {
            o += "\n## Packet rate, \(d.rawValue) (\(d == .encap ? "VM port → underlay" : "underlay → VM port"))\n\n"
            o += "| contender | size B | Mpps median (min–max) | offered Mpps | inner Gbit/s | CPU busy per core | 10G line rate Mpps |\n"
            o += "|---|---:|---|---:|---:|---|---:|\n"
            var reported = Set<String>()
            for p in r.packets where p.direction == d {
                // A contender that could not run at all gets one row, not one per size.
                let rows = r.packets.filter { $0.contender == p.contender && $0.direction == d }
                if rows.count > 1, rows.allSatisfy({ $0.samples.isEmpty && $0.error != nil && $0.error == p.error }) {
                    if reported.insert(p.contender).inserted {
                        o += "| \(p.contender) | all | — (\(p.error!.replacingOccurrences(of: "|", with: "/").prefix(120))) | | | | |\n"
                    }
                    continue
                }
                if let e = p.error, p.samples.isEmpty {
                    o += "| \(p.contender) | \(p.size) | — (\(e.replacingOccurrences(of: "|", with: "/").prefix(120))) | | | | \(f(lineRateMpps(size: p.size))) |\n"
                    continue
                }
                let m = p.mpps
                o += "| \(p.contender) | \(p.size) | \(f(m.median, 3)) (\(f(m.min, 3))–\(f(m.max, 3))) | \(f(p.offered.median, 3)) | "
                o += "\(f(p.gbps.median)) | \(p.cpu.enumerated().map { "cpu\($0.offset) \(Int($0.element.rounded()))%" }.joined(separator: ", ")) | "
                o += "\(f(lineRateMpps(size: p.size))) |\n"
            }
        }
        if !r.tcp.isEmpty {
            o += "\n## TCP VM → VM (iperf3, \(s.tcpSeconds) s per run; vm → contender → kernel VTEP on hv2 → vm2)\n\n"
            o += "| contender | streams | Gbit/s median (min–max) | CPU busy per core (last run) |\n|---|---:|---|---|\n"
            for t in r.tcp {
                if let e = t.error, t.gbps.isEmpty { o += "| \(t.contender) | \(t.streams) | — (\(e.prefix(120))) | |\n"; continue }
                let sp = t.spread
                o += "| \(t.contender) | \(t.streams) | \(f(sp.median)) (\(f(sp.min))–\(f(sp.max))) | "
                o += "\(t.cpuBusy.last.map { $0.enumerated().map { "cpu\($0.offset) \(Int($0.element.rounded()))%" }.joined(separator: ", ") } ?? "") |\n"
            }
        }
        if !r.latency.isEmpty {
            o += "\n## Latency at light load (\(r.latency.first?.method ?? ""))\n\n"
            o += "| contender | p50 µs | p99 µs | replies |\n|---|---:|---:|---|\n"
            for l in r.latency {
                if let e = l.error { o += "| \(l.contender) | — | — | \(e.prefix(120)) |\n"; continue }
                o += "| \(l.contender) | \(Int(l.p50us.rounded())) | \(Int(l.p99us.rounded())) | \(l.count - l.lost)/\(l.count) |\n"
            }
        }
        o += fastPathCheck(r)
        o += sweepTable(r)
        if !r.notes.isEmpty {
            o += "\n## Notes\n\n" + r.notes.map { "- \($0)\n" }.joined()
        }
        o += "\nPlot: `\("latest.svg")` (Mpps vs frame size, log scale, with the 10G line-rate curve).\n"
        return o
    }

    static func cpuText(_ cpu: [Double]) -> String {
        cpu.enumerated().map { "cpu\($0.offset) \(Int($0.element.rounded()))%" }.joined(separator: ", ")
    }

    /// Which path vxsw's frames took: the XDP program's counters over the measured runs.
    static func fastPathCheck(_ r: BenchReport) -> String {
        let rows = r.packets.filter { p in p.samples.contains { $0.xdp != nil } && p.contender == "vxsw-xdp" }
        guard !rows.isEmpty else { return "" }
        var o = "\n## XDP fast path check (vxsw-xdp: XDP program counters over the measured runs)\n\n"
        o += "`fast_encap`/`fast_decap`: frames the XDP program encapsulated/decapsulated and redirected itself; "
        o += "to the engine: frames it handed to the AF_XDP sockets (`access_to_switch` + `vxlan_to_switch`). "
        o += "Read from `vxsw show stats --json` → `xdp` before and after each run, summed over the runs.\n\n"
        o += "| direction | size B | fast_encap | fast_decap | to the engine | taken by the fast path |\n|---|---:|---:|---:|---:|---:|\n"
        for p in rows {
            func sum(_ k: String) -> UInt64 { p.samples.reduce(0) { $0 &+ ($1.xdp?[k] ?? 0) } }
            let fast = p.direction == .encap ? sum("fast_encap") : sum("fast_decap")
            let engine = sum("access_to_switch") &+ sum("vxlan_to_switch")
            let share = fast &+ engine == 0 ? 0 : Double(fast) / Double(fast &+ engine) * 100
            o += "| \(p.direction.rawValue) | \(p.size) | \(sum("fast_encap")) | \(sum("fast_decap")) | \(engine) | \(f(share, 2))% |\n"
        }
        return o
    }

    /// `--sweep`: one row per variant, Mpps per direction, change against the defaults' runs.
    static func sweepTable(_ r: BenchReport) -> String {
        guard !r.sweep.isEmpty else { return "" }
        let size = r.settings.sweepSize
        func result(_ v: SweepResult, _ d: BenchDirection) -> PacketResult? {
            v.packets.first { $0.direction == d && !$0.samples.isEmpty }
        }
        // Baseline: the median over every run of the defaults rows (first and last).
        let defaults = r.sweep.filter { $0.knobs == VXSWKnobs.defaults }
        func baseline(_ d: BenchDirection) -> Double? {
            let all = defaults.compactMap { result($0, d) }.flatMap { $0.samples.map(\.deliveredMpps) }
            return all.isEmpty ? nil : Spread(all).median
        }
        var o = "\n## Engine knobs (vxsw-afxdp, \(size) B, one knob changed at a time)\n\n"
        o += "Each variant is a fresh rig and a fresh `vxsw run`; \(r.settings.runs) run(s) of \(f(r.settings.seconds, 1)) s per direction. "
        o += "Defaults: \(VXSWKnobs.defaults.text); they run first and again last, and \"vs defaults\" compares with the median of "
        o += "all their runs. CPU = median busy % per core (cpu\(r.settings.generatorCPU): generator and veth NAPI; "
        o += "cpu\(r.settings.switchCPU): the worker).\n\n"
        o += "| variant | encap Mpps median (min–max) | vs defaults | CPU | decap Mpps median (min–max) | vs defaults | CPU |\n"
        o += "|---|---|---:|---|---|---:|---|\n"
        for v in r.sweep {
            o += "| \(v.label) |"
            for d in [BenchDirection.encap, .decap] {
                guard let p = result(v, d) else {
                    let e = v.packets.first { $0.direction == d }?.error ?? "not measured"
                    o += " — (\(e.replacingOccurrences(of: "|", with: "/").prefix(100))) | | |"
                    continue
                }
                let m = p.mpps
                let change = baseline(d).map { $0 > 0 ? String(format: "%+.0f%%", (m.median / $0 - 1) * 100) : "" } ?? ""
                o += " \(f(m.median, 3)) (\(f(m.min, 3))–\(f(m.max, 3))) | \(change) | \(cpuText(p.cpu)) |"
            }
            o += "\n"
        }
        return o
    }

    static let colors: [String: String] = [
        "ceiling": "#7f7f7f", "kernel": "#1f77b4", "ovs": "#2ca02c", "vxsw-afxdp": "#d62728", "vxsw-xdp": "#9467bd",
        "vxsw-packet": "#ff7f0e",
    ]

    /// Mpps (log scale) vs frame size; solid lines encap, dashed decap; black: 10G line rate.
    public static func svg(_ r: BenchReport) -> String {
        let w = 760.0, h = 460.0, left = 70.0, right = 190.0, top = 40.0, bottom = 50.0
        let sizes = Array(Set(r.settings.sizes.isEmpty ? [64] : r.settings.sizes)).sorted()
        // One size alone still gets an axis: 64...1518 around it.
        let xmin = log(Double(min(sizes.first!, sizes.count == 1 ? 64 : sizes.first!)))
        let xmax = max(log(Double(sizes.last!)), sizes.count == 1 ? log(1518.0) : xmin + 1)
        let values = r.packets.flatMap { $0.samples.map(\.deliveredMpps) }.filter { $0 > 0 }
            + [lineRateMpps(size: 64), lineRateMpps(size: Int(exp(xmax).rounded()))]
        let ymin = pow(10, floor(log10(max(0.001, values.min() ?? 0.01)))), ymax = pow(10, ceil(log10(values.max() ?? 20)))
        func x(_ size: Int) -> Double { left + (log(Double(size)) - xmin) / (xmax - xmin) * (w - left - right) }
        func y(_ mpps: Double) -> Double {
            top + (1 - (log10(max(mpps, ymin)) - log10(ymin)) / (log10(ymax) - log10(ymin))) * (h - top - bottom)
        }
        var o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        o += "<text x=\"\(left)\" y=\"22\" font-size=\"14\">vxsw bench: Mpps vs inner frame size (\(r.machine.vcpus) vCPUs, kernel \(r.machine.kernel), \(r.date.prefix(10)))</text>\n"
        // axes and grid
        var decade = ymin
        while decade <= ymax * 1.0001 {
            o += "<line x1=\"\(left)\" x2=\"\(w - right)\" y1=\"\(f(y(decade)))\" y2=\"\(f(y(decade)))\" stroke=\"#ddd\"/>"
            o += "<text x=\"\(left - 8)\" y=\"\(f(y(decade) + 4))\" text-anchor=\"end\">\(decade >= 1 ? String(Int(decade)) : String(decade))</text>\n"
            decade *= 10
        }
        for s in sizes {
            o += "<line x1=\"\(f(x(s)))\" x2=\"\(f(x(s)))\" y1=\"\(top)\" y2=\"\(h - bottom)\" stroke=\"#eee\"/>"
            o += "<text x=\"\(f(x(s)))\" y=\"\(h - bottom + 16)\" text-anchor=\"middle\">\(s)</text>\n"
        }
        o += "<text x=\"\(f((left + w - right) / 2))\" y=\"\(h - 12)\" text-anchor=\"middle\">inner frame size, bytes (log)</text>\n"
        o += "<text x=\"16\" y=\"\(f((top + h - bottom) / 2))\" transform=\"rotate(-90 16 \(f((top + h - bottom) / 2)))\" text-anchor=\"middle\">Mpps (log)</text>\n"
        o += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w - left - right)\" height=\"\(h - top - bottom)\" fill=\"none\" stroke=\"#333\"/>\n"
        // 10G line rate
        let curve = stride(from: xmin, through: xmax, by: (xmax - xmin) / 60).map { Int(exp($0).rounded()) }
        o += "<polyline fill=\"none\" stroke=\"black\" stroke-width=\"1.5\" points=\"\(curve.map { "\(f(x($0))),\(f(y(lineRateMpps(size: $0))))" }.joined(separator: " "))\"/>\n"
        var legend = [("10G line rate", "black", false)]
        for id in r.settings.contenders {
            for d in r.settings.directions {
                let pts = r.packets.filter { $0.contender == id && $0.direction == d && !$0.samples.isEmpty }.sorted { $0.size < $1.size }
                guard !pts.isEmpty else { continue }
                let color = colors[id] ?? "#000"
                let dash = d == .decap ? " stroke-dasharray=\"6 4\"" : ""
                o += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash) points=\"\(pts.map { "\(f(x($0.size))),\(f(y($0.mpps.median)))" }.joined(separator: " "))\"/>\n"
                for p in pts {
                    o += "<circle cx=\"\(f(x(p.size)))\" cy=\"\(f(y(p.mpps.median)))\" r=\"3\" fill=\"\(color)\"/>"
                    o += "<line x1=\"\(f(x(p.size)))\" x2=\"\(f(x(p.size)))\" y1=\"\(f(y(p.mpps.min)))\" y2=\"\(f(y(p.mpps.max)))\" stroke=\"\(color)\"/>\n"
                }
                legend.append(("\(id) \(d.rawValue)", color, d == .decap))
            }
        }
        for (i, l) in legend.enumerated() {
            let ly = top + 10 + Double(i) * 18
            o += "<line x1=\"\(w - right + 12)\" x2=\"\(w - right + 40)\" y1=\"\(f(ly))\" y2=\"\(f(ly))\" stroke=\"\(l.1)\" stroke-width=\"2\"\(l.2 ? " stroke-dasharray=\"6 4\"" : "")/>"
            o += "<text x=\"\(w - right + 46)\" y=\"\(f(ly + 4))\">\(l.0)</text>\n"
        }
        o += "</svg>\n"
        return o
    }
}
