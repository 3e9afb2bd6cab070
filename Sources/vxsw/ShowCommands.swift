import ArgumentParser
import Foundation
import VXConfig
import VXControl
import VXEVPN
import VXSwitch

/// `vxsw show …`: one subcommand per thing to show, so `vxsw show --help` and shell completion
/// list them. Each turns into the control request's words (`ControlRequest` parses and checks
/// them on both sides) and prints the answer as a table, or as JSON with `--json`.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the running switch.",
        subcommands: [ShowPorts.self, ShowMAC.self, ShowVNI.self, ShowStats.self, ShowConfig.self, ShowState.self,
                      ShowConsistency.self, ShowEVPN.self, ShowIP.self, ShowIPv6.self, ShowBGP.self])
}

struct ShowIP: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ip", abstract: "IPv4 routing.", subcommands: [ShowRoute.self])
}

struct ShowIPv6: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ipv6", abstract: "IPv6 routing.", subcommands: [ShowRoute6.self])
}

/// `show ip route vrf NAME`: connected subnets, host routes, learned hosts, remote routes.
struct ShowRoute: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "route", abstract: "A VRF's IPv4 routes, like FRR's `show ip route vrf NAME`.")
    @Argument(help: "vrf NAME") var words: [String]
    @OptionGroup var control: ControlOptions
    func run() throws { try routes(family: "ip", words, control) }
}

struct ShowRoute6: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "route", abstract: "A VRF's IPv6 routes, like FRR's `show ipv6 route vrf NAME`.")
    @Argument(help: "vrf NAME") var words: [String]
    @OptionGroup var control: ControlOptions
    func run() throws { try routes(family: "ipv6", words, control) }
}

func routes(family: String, _ words: [String], _ control: ControlOptions) throws {
    try show([family, "route"] + words, control) { ShowText.routes(try $0.decode()) }
}

/// Sends `show WORDS` and prints the answer through `text` (or as JSON).
func show(_ words: [String], _ control: ControlOptions, text: @escaping (JSONValue) throws -> String) throws {
    try control.send(["show"] + words, text: text)
}

func plainText(_ payload: JSONValue) -> String {
    if case .string(let s) = payload { return s + "\n" }
    return payload.jsonText + "\n"
}

struct ShowPorts: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ports", abstract: "Per-port rx/tx packets and bytes, drops by reason.")
    @OptionGroup var control: ControlOptions
    func run() throws { try show(["ports"], control) { ShowText.ports(try $0.decode()) } }
}

struct ShowMAC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mac", abstract: "The FDB per VNI, like FRR's `show evpn mac vni`: local / remote / static / evpn (streamed in pages).")
    @Option(help: "Only this VNI.") var vni: UInt32?
    @Flag(help: "How many MACs per VNI and type, without listing them.") var count = false
    @Flag(help: "How many MACs in all, read without scanning the table (cheap to poll).") var total = false
    @Argument(help: "FRR's spelling: `vni N`.") var frr: [String] = []
    @OptionGroup var control: ControlOptions
    func run() throws {
        let filter = (vni.map { ["--vni", String($0)] } ?? []) + frr
        if total { return try show(["mac"] + filter + ["--total"], control) { "\((try $0.decode() as MACTotal).total)\n" } }
        if count { return try show(["mac"] + filter + ["--count"], control) { ShowText.macCount(try $0.decode()) } }
        // A whole table comes page by page, so a million MACs never make one huge answer.
        try control.streamMACs(filter)
    }
}

struct ShowVNI: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vni", abstract: "Ports, flood list, MAC counts and counters per VNI.")
    @Argument(help: "Only this VNI.") var vni: UInt32?
    @OptionGroup var control: ControlOptions
    func run() throws { try show(["vni"] + (vni.map { [String($0)] } ?? []), control) { ShowText.vnis(try $0.decode()) } }
}

struct ShowStats: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Everything: ports, VNIs, VTEP next hops, XDP verdicts, socket and tap counters.")
    @OptionGroup var control: ControlOptions
    func run() throws { try show(["stats"], control) { ShowText.stats(try $0.decode()) } }
}

struct ShowConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "The configuration the switch runs.")
    @OptionGroup var control: ControlOptions
    func run() throws { try show(["config"], control, text: plainText) }
}

struct ShowState: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "The state file: run-time ports and static MACs kept across restarts.")
    @OptionGroup var control: ControlOptions
    func run() throws { try show(["state"], control, text: plainText) }
}

struct ShowConsistency: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consistency", abstract: "Whether the control plane's tables, the worker's and the XDP maps agree; names what differs.")
    @OptionGroup var control: ControlOptions
    func run() throws { try show(["consistency"], control) { ShowText.consistency(try $0.decode()) } }
}

struct ShowEVPN: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evpn", abstract: "EVPN state, like FRR's `show evpn …`.",
                                                    subcommands: [ShowEVPNVNI.self, ShowEVPNMAC.self, ShowEVPNARPCache.self])
}

struct ShowEVPNVNI: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vni", abstract: "Per VNI, like FRR's `show evpn vni`.")
    @Argument(help: "Only this VNI.") var vni: UInt32?
    @OptionGroup var control: ControlOptions
    func run() throws {
        // FRR's layouts: the list, or one VNI in detail.
        try show(["evpn", "vni"] + (vni.map { [String($0)] } ?? []), control) { payload in
            if vni != nil { return (try payload.decode(EVPNVNIDetail.self)).info.detail() }
            return EVPNVNIInfo.formatted((try payload.decode(EVPNVNIList.self)).objects)
        }
    }
}

struct ShowEVPNMAC: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mac", abstract: "MACs with their origin, like FRR's `show evpn mac vni`.")
    @Option(help: "Only this VNI.") var vni: UInt32?
    @Flag(help: "Only the duplicates (dup-addr-detection), like FRR's `show evpn mac vni N duplicate`.") var duplicate = false
    @Argument(help: "FRR's spelling: `vni N` (or `vni all`), then `duplicate`.") var frr: [String] = []
    @OptionGroup var control: ControlOptions
    func run() throws {
        let words = (vni.map { ["--vni", String($0)] } ?? []) + frr + (duplicate ? ["duplicate"] : [])
        // One VNI's table (`vni N`), or FRR's `vni all`: every VNI's under its heading.
        var one = false
        if case .show(.evpnMAC(let v, _))? = try? ControlRequest(arguments: ["show", "evpn", "mac"] + words) { one = v != nil }
        try show(["evpn", "mac"] + words, control) { payload in
            one ? (try payload.decode(EVPNMACTable.self)).formatted() : (try payload.decode(EVPNMACTables.self)).formatted()
        }
    }
}

struct ShowEVPNARPCache: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arp-cache", abstract: "A VNI's neighbours (local VMs' ARP/ND, remote MAC/IP routes), like FRR's `show evpn arp-cache vni N|all`.")
    @Argument(help: "FRR's spelling: `vni N` or `vni all`.") var words: [String] = []
    @OptionGroup var control: ControlOptions
    func run() throws {
        let all = words.last == "all"
        try show(["evpn", "arp-cache"] + words, control) { payload in
            all ? (try payload.decode(EVPNARPCaches.self)).formatted() : (try payload.decode(EVPNARPCache.self)).formatted()
        }
    }
}

struct ShowBGP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bgp", abstract: "BGP sessions and EVPN routes, like FRR's `show bgp …`.",
        subcommands: [ShowBGPSummary.self, ShowBGPNeighbors.self, ShowBGPEVPN.self, ShowBGPL2VPN.self])
}

struct ShowBGPSummary: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "summary", abstract: "Sessions, like FRR's `show bgp summary`.")
    @OptionGroup var control: ControlOptions
    func run() throws {
        try show(["bgp", "summary"], control) { (try $0.decode(BGPSummaryByFamily.self)).l2VpnEvpn.formatted(l2vpnHeading: true) }
    }
}

struct ShowBGPNeighbors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbors",
        abstract: "Each session in detail (state, timers, capabilities, graceful restart, message counts, last reset), like FRR's `show bgp neighbors`.")
    @Argument(help: "Only this peer (an address that is not a configured peer is an error).") var address: String?
    @OptionGroup var control: ControlOptions
    func run() throws {
        try show(["bgp", "neighbors"] + (address.map { [$0] } ?? []), control) { (try $0.decode(BGPNeighbors.self)).formatted() }
    }
}

/// `vxsw show bgp evpn [route] [--type macip|multicast|prefix] [--vni N]`.
struct ShowBGPEVPN: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evpn", abstract: "EVPN routes: `[route] [--type macip|multicast|prefix] [--vni N]`.")
    @Argument(help: "`route` if you like, then FRR's words (`type 2`, `vni 1000`).") var words: [String] = []
    @Option(help: "macip (type 2), multicast (type 3) or prefix (type 5).") var type: String?
    @Option(help: "Only this VNI.") var vni: UInt32?
    @OptionGroup var control: ControlOptions
    func run() throws {
        let rest = (words.isEmpty ? ["route"] : words) + (type.map { ["--type", $0] } ?? []) + (vni.map { ["--vni", String($0)] } ?? [])
        try showEVPNRoutes(["bgp", "evpn"] + rest, control)
    }
}

/// FRR's spelling: `vxsw show bgp l2vpn evpn [route] [type macip|multicast|prefix|2|3|5] [vni N]`.
struct ShowBGPL2VPN: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "l2vpn", abstract: "FRR's spelling: `l2vpn evpn [route] [type macip|multicast|prefix|2|3|5] [vni N]`.")
    @Argument(help: "`evpn`, then FRR's words.") var words: [String] = []
    @OptionGroup var control: ControlOptions
    func run() throws { try showEVPNRoutes(["bgp", "l2vpn"] + words, control) }
}

/// `show bgp l2vpn evpn summary`, or the routes in FRR's layout: with `vni N` one VNI's table,
/// without RD headings. FRR's route JSON has no router ID: the text asks the summary for it.
func showEVPNRoutes(_ words: [String], _ control: ControlOptions) throws {
    let request = try? ControlRequest(arguments: ["show"] + words)
    if case .show(.bgpEVPNSummary)? = request {
        return try show(words, control) { (try $0.decode(BGPSummary.self)).formatted() }
    }
    try show(words, control) { payload in
        var table = try payload.decode(EVPNRouteTable.self)
        if case .show(.bgpRoutes(let type, let vni))? = request { table.vni = vni?.value; table.routeType = type?.code }
        try? control.send(["show", "bgp", "l2vpn", "evpn", "summary"], quiet: true) { summary in
            table.routerID = summary["routerId"]?.stringValue ?? ""
            return ""
        }
        return table.formatted()
    }
}
