import ArgumentParser
import Foundation
import Logging
import VXConfig
import VXSwitch

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the switch with a configuration file (see README: Configuration).")

    @Option(name: .shortAndLong, help: "YAML configuration file.")
    var config: String = "/etc/vxsw/vxsw.yaml"

    @Flag(name: .shortAndLong, help: "Log FDB events and other details (the same as --log-level debug).")
    var verbose = false

    @Option(help: "Least severe messages logged: trace, debug, info, notice, warning, error, critical. Under journald each line carries its syslog priority.")
    var logLevel: LogLevelOption = .info

    @Flag(help: """
        Check the configuration and this host, then exit: the uplink exists, the VTEP addresses are \
        configured here, the worker CPUs exist and are allowed, the MTU chain; and the state file \
        (control.state-file), if there is one: readable, and its ports and MACs in VNIs the config \
        has. Changes nothing. Needs no root (but read access to the state file).
        """)
    var check = false

    func run() throws {
        let level = verbose ? min(logLevel.level, .debug) : logLevel.level
        VXSWLogging.bootstrap(level: level)
        let log = DaemonLog(level: level)
        let cfg: SwitchConfig
        do { cfg = try SwitchConfig.load(path: config) } catch {
            // A bad config names the file, the field and the problem; never a crash.
            throw CLIError("\(config): \(error)")
        }
        // The same host checks for --check and for a start: errors refuse, warnings are printed.
        // --check also reads the state file (a start reads it itself and refuses a corrupt one).
        var host = cfg.checkHost(HostFacts.live())
        if check { host.append(cfg.checkStateFile()) }
        for (severity, line) in host.findings {
            let level: Logger.Level = switch severity { case .error: .error; case .warning: .warning; case .note: .notice }
            FileHandle.standardError.write(Data(VXSWLogHandler.reportLine(level, "\(config): \(line)").utf8))
        }
        if !host.errors.isEmpty {
            throw CLIError("\(config): \(host.errors.count) check\(host.errors.count == 1 ? "" : "s") failed")
        }
        if check {
            print("\(config): configuration is valid\(host.warnings.isEmpty ? "" : " (with warnings)")")
            return
        }
        // Signals are taken by sigwait on this thread: block them before any thread starts.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let daemon: SwitchDaemon
        do {
            daemon = try SwitchDaemon(config: cfg, log: log)
            daemon.version = "\(vxswVersion) (commit \(buildCommit))"
            daemon.configPath = config
            try daemon.start()
        } catch {
            log.error("\(error)")
            throw ExitCode(1)
        }
        // Under systemd (Type=notify): ready once ports are attached and the control socket
        // listens, so hooks ordered after vxsw.service find it; "stopping" as soon as a signal came.
        let systemd = SystemdNotifier()
        systemd.notify("READY=1\nSTATUS=running, control socket \(cfg.control.socket)")
        let watchdog = SystemdWatchdog.start(systemd, socket: cfg.control.socket, log: log)
        var signal: Int32 = 0
        // SIGHUP: read the config again (`vxsw reload`); SIGINT/SIGTERM: stop.
        while sigwait(&signals, &signal) == 0 && signal == SIGHUP {
            log.info("received SIGHUP; reloading \(config)")
            systemd.notify("RELOADING=1")
            do { try daemon.reloadFromSignal() } catch { log.error("reload: \(error)") }
            systemd.notify("READY=1\nSTATUS=running, control socket \(cfg.control.socket)")
        }
        watchdog?.stop()
        systemd.notify("STOPPING=1\nSTATUS=stopping: detaching XDP programs")
        log.info("received \(signal == SIGINT ? "SIGINT" : "SIGTERM"); detaching and stopping")
        daemon.shutdown()
    }
}

/// `--log-level`: swift-log's levels by name.
enum LogLevelOption: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
    var level: Logger.Level { Logger.Level(rawValue: rawValue)! }
}
