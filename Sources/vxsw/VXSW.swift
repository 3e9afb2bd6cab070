import ArgumentParser
import Foundation
import VXSwitch

@main
struct VXSW: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vxsw",
        abstract: "A VXLAN/EVPN switch for Linux hypervisors: AF_XDP data plane, XDP steering, EVPN feed.",
        version: "\(vxswVersion) (commit \(buildCommit))",   // buildCommit: Plugins/BuildCommit
        subcommands: [Run.self, Show.self, Port.self, FDB.self, BGP.self, Clear.self, Lab.self, TuneCommand.self, Bench.self, BenchEVPN.self]
    )
}

/// A failure that is not about how the command was typed: printed as `Error: ...`, no usage text.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
