import ArgumentParser
import Foundation
import VXSwitch

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the switch with a configuration file (see README: Configuration).")

    @Option(name: .shortAndLong, help: "YAML configuration file.")
    var config: String = "/etc/vxsw/vxsw.yaml"

    @Flag(name: .shortAndLong, help: "Log FDB events and other details.")
    var verbose = false

    @Flag(help: "Check the configuration and exit.")
    var check = false

    func run() throws {
        let log = DaemonLog(verbose: verbose)
        let cfg: SwitchConfig
        do { cfg = try SwitchConfig.load(path: config) } catch {
            // A bad config names the file, the field and the problem; never a crash.
            throw CLIError("\(config): \(error)")
        }
        if check {
            print("\(config): configuration is valid")
            return
        }
        // Signals are taken by sigwait on this thread: block them before any thread starts.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let daemon: SwitchDaemon
        do {
            daemon = try SwitchDaemon(config: cfg, log: log)
            try daemon.start()
        } catch {
            log.error("\(error)")
            throw ExitCode(1)
        }
        daemon.runUntilSignalled()
    }
}
