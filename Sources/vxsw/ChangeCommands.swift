import ArgumentParser
import Foundation
import VXSwitch

/// The commands that change a running switch, as argument-parser subcommands (help and
/// completion); each becomes the control request's words and prints the switch's answer.
func change(_ words: [String], _ control: ControlOptions) throws {
    try control.send(words) { payload in (payload.stringValue ?? payload.jsonText) + "\n" }
}

/// `vxsw port add NAME --vni N`, `vxsw port del NAME`: for libvirt/Proxmox hooks.
struct Port: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Attach or detach a VM port at run time (idempotent, for hooks).",
                                                    subcommands: [PortAdd.self, PortDel.self])
}

struct PortAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Attach NAME as an access port (--vni) or a trunk (--trunk).")
    @Argument(help: "The interface (a VM's tap).") var name: String
    @Option(help: "Access port in this VNI.") var vni: UInt32?
    @Option(help: "Trunk: VLAN=VNI,VLAN=VNI,...") var trunk: String?
    @Option(help: "Trunk: the VNI of untagged frames.") var nativeVNI: UInt32?
    @Flag(help: "Leave partial TCP/UDP checksums of frames from this port as they are.") var noCompleteChecksums = false
    @Option(help: "auto (packet socket for taps), xdp or packet.") var io: String?
    @OptionGroup var control: ControlOptions
    func run() throws {
        var words = ["port", "add", name]
        if let vni { words += ["--vni", String(vni)] }
        if let trunk { words += ["--trunk", trunk] }
        if let nativeVNI { words += ["--native-vni", String(nativeVNI)] }
        if noCompleteChecksums { words.append("--no-complete-checksums") }
        if let io { words += ["--io", io] }
        try change(words, control)
    }
}

struct PortDel: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "del", abstract: "Detach NAME (nothing to do when it is not attached).")
    @Argument(help: "The interface.") var name: String
    @OptionGroup var control: ControlOptions
    func run() throws { try change(["port", "del", name], control) }
}

struct FDB: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Static MACs at run time.", subcommands: [FDBAdd.self, FDBDel.self])
}

struct FDBAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "A static MAC in a VNI, on a port or behind a remote VTEP.")
    @Argument(help: "The MAC address.") var mac: String
    @Option(help: "The VNI.") var vni: UInt32
    @Option(help: "The local port it is behind.") var port: String?
    @Option(help: "The remote VTEP it is behind.") var vtep: String?
    @OptionGroup var control: ControlOptions
    func run() throws {
        try change(["fdb", "add", mac, "--vni", String(vni)] + (port.map { ["--port", $0] } ?? []) + (vtep.map { ["--vtep", $0] } ?? []), control)
    }
}

struct FDBDel: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "del", abstract: "Remove a static MAC.")
    @Argument(help: "The MAC address.") var mac: String
    @Option(help: "The VNI.") var vni: UInt32
    @OptionGroup var control: ControlOptions
    func run() throws { try change(["fdb", "del", mac, "--vni", String(vni)], control) }
}

/// `vxsw bgp restart`: graceful restart of the BGP control plane; forwarding continues.
struct BGP: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The BGP EVPN control plane.", subcommands: [BGPRestart.self])
}

struct BGPRestart: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart it gracefully while the data plane keeps forwarding.")
    @OptionGroup var control: ControlOptions
    func run() throws { try change(["bgp", "restart"], control) }
}

/// `vxsw clear bgp [ADDRESS]`: drop sessions without a NOTIFICATION; routes are held by GR.
/// `vxsw clear evpn dup-addr vni N|all [mac M]`: end duplicate-address state, as FRR's.
struct Clear: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reset state in the running switch.", subcommands: [ClearBGP.self, ClearEVPN.self])
}

struct ClearEVPN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evpn",
        abstract: "`dup-addr vni N|all [mac MAC]`: clear duplicate-address detection (and a freeze), like FRR's `clear evpn dup-addr`.")
    @Argument(help: "FRR's words: `dup-addr vni N|all [mac MAC]`.") var words: [String]
    @OptionGroup var control: ControlOptions
    func run() throws { try change(["clear", "evpn"] + words, control) }
}

struct ClearBGP: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bgp", abstract: "Reset BGP sessions (graceful restart keeps routes and forwarding).")
    @Argument(help: "Only the session with this peer.") var address: String?
    @OptionGroup var control: ControlOptions
    func run() throws { try change(["clear", "bgp"] + (address.map { [$0] } ?? []), control) }
}

/// `vxsw reload`: the running switch reads its config file again (as SIGHUP does).
struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the config file's changes while forwarding: VNIs, flood lists, ports, static MACs, MAC limits, aging, VRFs and gateways, bgp (others are refused, naming the field).")
    @OptionGroup var control: ControlOptions
    func run() throws { try change(["reload"], control) }
}
