import ArgumentParser
import Foundation
import VXSwitch

@main
struct VXSW: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vxsw",
        abstract: "A VXLAN/EVPN switch for Linux hypervisors: AF_XDP data plane, XDP steering, EVPN feed.",
        // Also the man page's DESCRIPTION (tools/package generates vxsw.8 from these definitions).
        discussion: """
            vxsw run runs the switch from /etc/vxsw/vxsw.yaml; the other commands talk to it \
            through its control socket, /run/vxsw/vxsw.sock. Ports and static MACs added at run time \
            are kept in /var/lib/vxsw/state.json across restarts. The package runs it as \
            vxsw.service (systemd, Type=notify) and installs a libvirt hook \
            (/etc/libvirt/hooks/qemu.d/vxsw) and a Proxmox VE hookscript \
            (/usr/share/vxsw/proxmox/vxsw-hookscript) that attach VMs' taps by VNI. \
            See /usr/share/doc/vxsw/README.packaging.md.
            """,
        version: "\(vxswVersion) (commit \(buildCommit))",   // buildCommit: Plugins/BuildCommit
        subcommands: [Run.self, Show.self, Port.self, FDB.self, BGP.self, Clear.self, Reload.self, Lab.self, TuneCommand.self, Bench.self, BenchEVPN.self]
    )
}

/// A failure that is not about how the command was typed: printed as `Error: ...`, no usage text.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
