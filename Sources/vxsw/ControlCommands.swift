import ArgumentParser
import Foundation
import VXConfig
import VXControl
import VXEVPN
import VXSwitch

/// Options every command that talks to a running switch shares: `--json` and `--socket PATH`.
struct ControlOptions: ParsableArguments {
    @Option(help: "The running switch's control socket.")
    var socket = "/run/vxsw/vxsw.sock"

    @Flag(help: "Print the answer as JSON.")
    var json = false

    /// Sends the request; prints the answer as JSON or through `text` (only through `text`, and
    /// nothing of its own, when `quiet`).
    func send(_ words: [String], quiet: Bool = false, text: (JSONValue) throws -> String) throws {
        let request: ControlRequest
        do { request = try ControlRequest(arguments: words) } catch {
            throw ValidationError("\(error)\nusage:\n\(ControlRequest.usage)")
        }
        let response: ControlResponse
        do { response = try ControlClient.send(request, path: socket) } catch {
            throw fail("\(error)", status: 2)
        }
        guard response.ok else { throw fail(response.error ?? "request failed", status: 1) }
        let payload = response.payload ?? .null
        if quiet {
            _ = try text(payload)
        } else if json {
            try printJSON(payload)
        } else {
            print(try text(payload), terminator: "")
        }
    }

    /// Reports a failed request: `vxsw: MESSAGE` on stderr, or with `--json` `{"error": MESSAGE}`
    /// on stdout (what a script reads); the exit status either way.
    func fail(_ message: String, status: Int32) -> ExitCode {
        if json {
            try? printJSON(JSONValue.object(["error": .string(message)]))
        } else {
            FileHandle.standardError.write(Data("vxsw: \(message)\n".utf8))
        }
        return ExitCode(status)
    }

    func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
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
            try printJSON(MACTable(entries: all))
        } else if !printedAny {
            print(ShowText.macs(MACTable(entries: [])), terminator: "")
        }
    }
}

