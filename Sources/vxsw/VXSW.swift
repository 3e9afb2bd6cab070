import ArgumentParser
import Foundation
import VXSwitch

@main
struct VXSW: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vxsw",
        abstract: "A VXLAN/EVPN switch for Linux hypervisors: AF_XDP data plane, XDP steering, EVPN feed.",
        version: vxswVersion,
        subcommands: [Run.self, Show.self, Port.self, FDB.self, Lab.self, TuneCommand.self, Bench.self]
    )
}
