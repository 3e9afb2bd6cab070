import ArgumentParser
import Foundation
import VXEVPN
import VXSwitch

/// Options every command that talks to a running switch shares: `--json` and
/// `--socket PATH`, taken out of the words that form the request.
struct ControlOptions {
    var socket = "/run/vxsw/vxsw.sock"
    var json = false

    /// Splits `--json` / `--socket PATH` from the request words.
    static func extract(_ words: [String]) throws -> (ControlOptions, [String]) {
        var options = ControlOptions()
        var rest: [String] = []
        var i = 0
        while i < words.count {
            switch words[i] {
            case "--json": options.json = true
            case "--socket":
                guard i + 1 < words.count else { throw ValidationError("--socket needs a path") }
                options.socket = words[i + 1]
                i += 1
            default: rest.append(words[i])
            }
            i += 1
        }
        return (options, rest)
    }

    /// Sends the request; prints the answer as JSON or through `text` (only through `text`, and
    /// nothing of its own, when `quiet`).
    func send(_ words: [String], quiet: Bool = false, text: (JSONValue) throws -> String) throws {
        let request: ControlRequest
        do { request = try ControlRequest(arguments: words) } catch {
            throw ValidationError("\(error)\nusage:\n\(ControlRequest.usage)")
        }
        let response: ControlResponse
        do { response = try ControlClient.send(request, path: socket) } catch {
            FileHandle.standardError.write(Data("vxsw: \(error)\n".utf8))
            throw ExitCode(2)
        }
        guard response.ok else {
            FileHandle.standardError.write(Data("vxsw: \(response.error ?? "request failed")\n".utf8))
            throw ExitCode(1)
        }
        let payload = response.payload ?? .null
        if quiet {
            _ = try text(payload)
        } else if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(payload), as: UTF8.self))
        } else {
            print(try text(payload), terminator: "")
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the running switch: ports | mac [--vni N] [--count] | vni [N] | stats | config | state | evpn ... | bgp ...")

    @Argument(parsing: .captureForPassthrough, help: "What to show, e.g. `mac --vni 1000`; add --json, --socket PATH.")
    var words: [String] = []

    func run() throws {
        let (options, what) = try ControlOptions.extract(words)
        // A whole table comes page by page, so a million MACs never make one huge answer.
        if what.first == "mac" && !what.contains("--limit") && !what.contains("--count") && !what.contains("count") {
            return try options.streamMACs(Array(what.dropFirst()))
        }
        try options.send(["show"] + what) { payload in
            switch what.first {
            case "ports": return ShowText.ports(try payload.decode())
            case "mac" where what.contains("--count") || what.contains("count"): return ShowText.macCount(try payload.decode())
            case "mac": return ShowText.macs(try payload.decode())
            case "vni": return ShowText.vnis(try payload.decode())
            case "stats": return ShowText.stats(try payload.decode())
            case "consistency": return ShowText.consistency(try payload.decode())
            // With BGP configured the speaker answers, in FRR's layout; without it, the switch's tables.
            case "evpn" where what.dropFirst().first == "mac":
                if let tables = try? payload.decode([EVPNMACTable].self) { return tables.map { $0.formatted() }.joined(separator: "\n") }
                return ShowText.macs(try payload.decode())
            case "evpn" where what.dropFirst().first == "vni":
                if let rows = try? payload.decode([EVPNVNIInfo].self) { return EVPNVNIInfo.formatted(rows) }
                return ShowText.vnis(try payload.decode())
            case "bgp" where what.dropFirst().first == "summary", "bgp" where what.dropFirst().first == "neighbors":
                return (try payload.decode(BGPSummary.self)).formatted()
            case "bgp":
                return (try payload.decode(EVPNRouteTable.self)).formatted()
            default:
                if case .string(let s) = payload { return s + "\n" }
                return payload.jsonText + "\n"
            }
        }
    }
}

extension ControlOptions {
    static let macPageSize = 10_000

    /// `show mac` as pages of `macPageSize` rows: text is printed as each page arrives (one
    /// header per VNI and page); JSON is one table at the end.
    func streamMACs(_ filter: [String]) throws {
        var from: Int? = 0
        var all: [MACView] = []
        var printedAny = false
        while let start = from {
            var page: MACTable?
            try send(["show", "mac"] + filter + ["--limit", String(Self.macPageSize), "--from", String(start)], quiet: true) { payload in
                page = try payload.decode()
                return ""
            }
            guard let page else { return }
            if json { all += page.entries } else if !page.entries.isEmpty {
                print(ShowText.macs(page), terminator: "")
                printedAny = true
            }
            from = page.next
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(MACTable(entries: all)), as: UTF8.self))
        } else if !printedAny {
            print(ShowText.macs(MACTable(entries: [])), terminator: "")
        }
    }
}

/// A command whose words go to the switch as they are and whose answer is a message line.
protocol PassthroughCommand: ParsableCommand {
    static var word: String { get }
    var words: [String] { get }
}

extension PassthroughCommand {
    func run() throws {
        let (options, rest) = try ControlOptions.extract(words)
        try options.send([Self.word] + rest) { payload in (payload.stringValue ?? payload.jsonText) + "\n" }
    }
}

/// `vxsw port add NAME --vni N`, `vxsw port del NAME`: for libvirt/Proxmox hooks.
struct Port: PassthroughCommand {
    static let configuration = CommandConfiguration(
        abstract: "Attach or detach a VM port at run time: add NAME --vni N | --trunk VLAN=VNI,... ; del NAME")
    static let word = "port"
    @Argument(parsing: .captureForPassthrough) var words: [String] = []
}

struct FDB: PassthroughCommand {
    static let configuration = CommandConfiguration(
        abstract: "Static MACs at run time: add MAC --vni N (--port NAME | --vtep ADDRESS) ; del MAC --vni N")
    static let word = "fdb"
    @Argument(parsing: .captureForPassthrough) var words: [String] = []
}

/// `vxsw bgp restart`: graceful restart of the BGP control plane; forwarding continues.
/// `vxsw reload`: the running switch reads its config file again (as SIGHUP does).
struct Reload: PassthroughCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the config file's changes while forwarding: VNIs, flood lists, ports, static MACs, MAC limits, aging, bgp (others are refused, naming the field)")
    static let word = "reload"
    @Argument(parsing: .captureForPassthrough) var words: [String] = []
}

struct BGP: PassthroughCommand {
    static let configuration = CommandConfiguration(
        abstract: "restart: restart the BGP EVPN control plane gracefully while the data plane keeps forwarding")
    static let word = "bgp"
    @Argument(parsing: .captureForPassthrough) var words: [String] = []
}

/// `vxsw clear bgp [ADDRESS]`: drop sessions without a NOTIFICATION; routes are held by GR.
struct Clear: PassthroughCommand {
    static let configuration = CommandConfiguration(
        abstract: "bgp [ADDRESS]: reset BGP sessions (graceful restart keeps routes and forwarding)")
    static let word = "clear"
    @Argument(parsing: .captureForPassthrough) var words: [String] = []
}
