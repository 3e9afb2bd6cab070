// The report: inspection + findings (+ later sections such as the offload
// benchmark), as JSON or as text for a terminal.

import Foundation

public struct TuneReport: Codable, Equatable, Sendable {
    public var inspection: Inspection
    public var findings: [Finding]
    /// Filled by `--apply`.
    public var applied: [AppliedChange]?
    // A `bench: OffloadBench?` section joins here when `vxsw bench offload` exists.

    public init(inspection: Inspection, findings: [Finding], applied: [AppliedChange]? = nil) {
        self.inspection = inspection; self.findings = findings; self.applied = applied
    }

    /// Inspects `host` and runs the rules.
    public static func make<Host: HostReader>(host: Host, options: TuneOptions) -> TuneReport {
        let inspection = Inspector(host: host).inspect(options)
        return TuneReport(inspection: inspection, findings: Rules.evaluate(inspection))
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    /// Human text: a short table per interface, then findings most severe first.
    public func text(verbose: Bool = false) -> String {
        var out: [String] = []
        let o = inspection.options
        out.append("vxsw tune — mode \(o.mode.rawValue), workers \(o.workers.isEmpty ? "none given" : CPUList.format(o.workers)), overlay MTU \(o.overlayMTU), kernel \(inspection.system.kernelRelease.value ?? "?")")
        out.append("")
        let header = ["interface", "role", "driver", "mtu", "rings rx/tx (max)", "queues", "coalesce", "xdp native/zc"]
        var rows = [header]
        for n in inspection.interfaces {
            rows.append([
                n.name, n.role.rawValue, n.driverName ?? "?",
                n.mtu.value.map(String.init) ?? "?",
                n.rings.value.map { "\($0.rx)/\($0.tx) (\($0.rxMax)/\($0.txMax))" } ?? "n/a",
                n.channels.value.map { "\($0.rxQueues)/\($0.maxRxQueues)" } ?? (n.queues.value.map(String.init) ?? "?"),
                n.coalesce.value.map { $0.adaptiveRx ? "adaptive" : "\($0.rxUsecs)µs" } ?? "n/a",
                "\(n.xdp.native.rawValue)/\(n.xdp.zeroCopy.rawValue)",
            ])
        }
        out += Self.table(rows)
        out.append("")
        let shown = verbose ? findings : findings.filter { $0.severity > .info || !$0.changes.isEmpty || $0.cannotTell || $0.driverSpecific }
        let counts = [Severity.critical, .warn, .info].map { s in "\(findings.filter { $0.severity == s }.count) \(s.rawValue)" }
        out.append("findings: " + counts.joined(separator: ", ") + (verbose ? "" : " (info without action hidden; --verbose shows all)"))
        for f in shown {
            out.append("")
            out.append("[\(f.severity.rawValue.uppercased())] \(f.subject): \(f.found)\(f.driverSpecific ? "  (driver-specific)" : "")")
            out.append("  why: \(f.why)")
            for c in f.fixNow { out.append("  fix now: " + c.replacingOccurrences(of: "\n", with: "\n           ")) }
            for p in f.persist {
                out.append("  persist (\(p.how)) in \(p.file):")
                out += p.snippet.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }
            }
        }
        if let applied {
            out.append("")
            out.append("applied:")
            for a in applied {
                if let e = a.error {
                    out.append("  FAILED \(a.command): \(e)")
                } else {
                    out.append("  done   \(a.command)")
                    out.append("  revert \(a.revertCommand ?? "?")")
                }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingWhitespace
        }
    }
}
