// `vxsw tune`: inspect the host for VXLAN at 10G, recommend, and (when asked) apply.

import ArgumentParser
import VXConfig
import VXSwitch
import VXDatapath
import VXTune
#if canImport(Glibc)
import Glibc
#endif

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Inspect NICs, CPUs and sysctls for VXLAN; recommend and optionally apply tuning.",
        discussion: "Read-only unless --apply is given. --apply changes only the runtime-safe recommendations, after confirmation (or --yes), and prints how to revert each change.")

    @Option(help: "vxsw's configuration file: take the uplink, ports, worker CPUs and VTEP family from it.")
    var config: String?

    @Option(name: .customLong("interface"), help: "A port (VM-facing or other) interface to inspect; repeatable.")
    var interfaces: [String] = []

    @Option(help: "The underlay uplink (default: the interface of the IPv4 default route).")
    var uplink: String?

    @Option(help: "The data path vxsw uses: afxdp or kernel.")
    var mode: String = "afxdp"

    @Option(help: "vxsw worker CPUs, e.g. 2,3 or 2-5.")
    var workers: String?

    @Option(name: .customLong("overlay-mtu"), help: "MTU of the overlay (VM) network.")
    var overlayMTU: Int = 1500

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(help: "Show all findings, including informational ones without action.")
    var verbose = false

    @Flag(help: "Apply the runtime-safe recommendations (asks first).")
    var apply = false

    @Flag(help: "With --apply: do not ask.")
    var yes = false

    func validate() throws {
        guard Mode(rawValue: mode) != nil else { throw ValidationError("--mode must be afxdp or kernel") }
        if let w = workers, CPUList.parse(w) == nil { throw ValidationError("--workers: not a CPU list: \(w)") }
        if yes && !apply { throw ValidationError("--yes only makes sense with --apply") }
    }

    func run() throws {
        let host = LiveHost()
        // What vxsw is set to do decides the advice (uplink IRQs off its worker CPUs, ...).
        var switchConfig: SwitchConfig?
        if let path = config {
            do { switchConfig = try SwitchConfig.load(path: path) } catch { throw CLIError("\(path): \(error)") }
        }
        let options = TuneOptions(
            uplink: uplink ?? switchConfig?.uplink?.interface ?? Inspector(host: host).defaultRouteInterface(),
            ports: interfaces + (switchConfig?.ports.map(\.name) ?? []), mode: Mode(rawValue: mode)!,
            workers: workers.flatMap(CPUList.parse) ?? switchConfig.map { $0.datapath.workers.isEmpty ? [firstAllowedCPU()] : $0.datapath.workers } ?? [],
            overlayMTU: overlayMTU,
            portIO: Dictionary((switchConfig?.ports ?? []).compactMap { p in PortIOSetting(rawValue: p.io.rawValue).map { (p.name, $0) } },
                               uniquingKeysWith: { a, _ in a }))
        var report = TuneReport.make(host: host, options: options)

        if apply {
            let changes = Applier<LiveHost>.changes(of: report.findings)
            if changes.isEmpty {
                printErr("vxsw tune: nothing to apply")
            } else {
                guard yes || confirm(changes) else {
                    throw ValidationError(isatty(0) == 0
                        ? "refusing to apply without a terminal to confirm on; pass --yes to apply from a script"
                        : "nothing applied")
                }
                report.applied = Applier(host: host).apply(changes)
            }
        }
        print(json ? try report.json() : report.text(verbose: verbose), terminator: json ? "\n" : "")
        if report.applied?.contains(where: { $0.error != nil }) == true { throw ExitCode(2) }
    }

    private func confirm(_ changes: [Change]) -> Bool {
        guard isatty(0) != 0 else { return false }
        printErr("vxsw tune will make these runtime changes (not persistent):")
        for c in changes { printErr("  " + c.command) }
        printErr("apply them? [y/N] ", terminator: "")
        guard let line = readLine() else { return false }
        return ["y", "yes"].contains(line.lowercased())
    }

    private func printErr(_ s: String, terminator: String = "\n") {
        fputs(s + terminator, stderr)
    }
}
