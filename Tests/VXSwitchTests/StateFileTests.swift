import Foundation
import VXConfig
import VXCore
import VXLabKit
import VXSwitch
import XCTest

/// The state file (`control.state-file`): its format, the atomic write, and the errors that
/// stop vxsw from starting on a file it cannot read. No root needed.
final class StateFileTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "vxsw-statefile-\(getpid())-\(UUID().uuidString.prefix(8))"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private let sample = RunState(
        ports: [
            SwitchConfig.Port(name: "tap101i0", mode: .access(VNI(1000)!)),
            SwitchConfig.Port(name: "trunk0", mode: .trunk(vlans: [100: VNI(1000)!, 200: VNI(2000)!], native: VNI(1000)!),
                              completeChecksums: false, io: .xdp),
        ],
        staticEntries: [
            .init(vni: VNI(1000)!, mac: MACAddress("02:00:00:00:00:01")!, target: .port("tap101i0")),
            .init(vni: VNI(2000)!, mac: MACAddress("02:00:00:00:00:02")!, target: .vtep(IPAddress("198.18.0.2")!)),
        ])

    func testRoundTripThroughTheFile() throws {
        let path = dir + "/sub/state.json"
        try sample.write(to: path)
        XCTAssertEqual(try RunState.load(path: path), sample)
        // The directory is created 0700, the file 0600; no temp file is left next to it.
        let dirMode = try FileManager.default.attributesOfItem(atPath: dir + "/sub")[.posixPermissions] as? Int
        XCTAssertEqual(dirMode, 0o700)
        let fileMode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(fileMode, 0o600)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/sub"), ["state.json"])

        // Rewriting replaces the whole file.
        var smaller = sample
        smaller.ports.removeAll { $0.name == "trunk0" }
        try smaller.write(to: path)
        XCTAssertEqual(try RunState.load(path: path), smaller)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/sub"), ["state.json"])
    }

    func testFormatUsesTheConfigFieldNames() throws {
        let text = String(decoding: sample.json, as: UTF8.self)
        for field in ["\"version\" : 1", "\"name\" : \"tap101i0\"", "\"native-vni\" : 1000", "\"complete-checksums\" : false",
                      "\"io\" : \"xdp\"", "\"static\" : [", "\"vtep\" : \"198.18.0.2\""] {
            XCTAssertTrue(text.contains(field), "\(field) in\n\(text)")
        }
        let hand = #"{"version": 1, "ports": [{"name": "tap1", "vni": 7}]}"#
        XCTAssertEqual(try RunState(json: Data(hand.utf8)), RunState(ports: [.init(name: "tap1", mode: .access(VNI(7)!))]))
    }

    func testMissingFileIsAnEmptyStart() throws {
        XCTAssertNil(try RunState.load(path: dir + "/none.json"))
    }

    func testCorruptFileIsAClearError() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cases = [
            ("{\"version\": 1, \"ports\": [", "not valid JSON"),
            (#"{"version": 1, "ports": [{"name": "tap1"}]}"#, "ports[0]: needs 'vni'"),
            (#"{"version": 1, "ports": [{"name": "tap1", "vni": 7, "vnii": 8}]}"#, "unknown field 'vnii'"),
            (#"{"version": 2, "ports": []}"#, "version: 2 is not a state file version"),
            (#"{"ports": []}"#, "version: missing"),
            (#"{"version": 1, "ports": [{"name": "t", "vni": 7}, {"name": "t", "vni": 8}]}"#, "listed twice"),
        ]
        let path = dir + "/state.json"
        for (text, problem) in cases {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try RunState.load(path: path), text) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("state file \(path): "), message)
                XCTAssertTrue(message.contains(problem), "\(problem) in: \(message)")
                XCTAssertTrue(message.contains("move it away"), "says how to get out: \(message)")
            }
        }
        // Unreadable (a directory where the file should be).
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        XCTAssertThrowsError(try RunState.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("cannot be read"), "\(error)")
        }
        XCTAssertThrowsError(try sample.write(to: path)) { error in
            XCTAssertTrue("\(error)".contains("will not survive a vxsw restart"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["state.json"], "no temp file left")
    }

    func testConfigField() throws {
        let base = "vtep: { ipv4: 198.18.0.1 }\n"
        XCTAssertEqual(try SwitchConfig.parse(yaml: base).control.stateFile, "/var/lib/vxsw/state.json")
        XCTAssertNil(try SwitchConfig.parse(yaml: base + "control: { state-file: off }").control.stateFile)
        XCTAssertEqual(try SwitchConfig.parse(yaml: base + "control: { state-file: /srv/s.json }").control.stateFile, "/srv/s.json")
        XCTAssertThrowsError(try SwitchConfig.parse(yaml: base + "control: { state-file: s.json }")) { error in
            XCTAssertTrue("\(error)".hasPrefix("control.state-file: 's.json' is not an absolute path"), "\(error)")
        }
        XCTAssertThrowsError(try SwitchConfig.parse(yaml: base + "control: { state-file: /run/vxsw/vxsw.sock }"))
        let config = try SwitchConfig.parse(yaml: base + "control: { state-file: off }")
        XCTAssertEqual(config.jsonValue["control"]?["state-file"], "off")
    }

    // MARK: vxsw run --check on the state file

    private let checkConfig = """
        vtep: { ipv4: 127.0.0.1 }
        vnis: [{ vni: 1000 }, { vni: 2000 }]
        ports: [{ name: tap1, vni: 1000 }]

        """

    /// Each entry the start would skip, or that the config's rules refuse, is named; a consistent file has no findings.
    func testCheckNamesInconsistentEntries() throws {
        let config = try SwitchConfig.parse(yaml: checkConfig)
        XCTAssertEqual(config.checkState(sample, file: "/s.json").lines, [], "the sample is consistent with VNIs 1000 and 2000")
        let state = RunState(
            ports: [
                .init(name: "tap2", mode: .access(VNI(1000)!)),
                .init(name: "tap9", mode: .access(VNI(3000)!)),
                .init(name: "tr0", mode: .trunk(vlans: [10: VNI(1000)!, 20: VNI(4000)!], native: nil)),
                .init(name: "tap1", mode: .access(VNI(2000)!)),
            ],
            staticEntries: [
                .init(vni: VNI(1000)!, mac: MACAddress("02:00:00:00:00:01")!, target: .port("tap2")),
                .init(vni: VNI(3000)!, mac: MACAddress("02:00:00:00:00:02")!, target: .port("tap9")),
                .init(vni: VNI(1000)!, mac: MACAddress("02:00:00:00:00:03")!, target: .port("gone0")),
                .init(vni: VNI(2000)!, mac: MACAddress("02:00:00:00:00:04")!, target: .port("tap2")),
                .init(vni: VNI(1000)!, mac: MACAddress("02:00:00:00:00:05")!, target: .vtep(IPAddress("fd00::2")!)),
            ])
        let report = config.checkState(state, file: "/s.json")
        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(report.warnings.map(\.path), [
            "state file /s.json: ports[1]", "state file /s.json: ports[2]", "state file /s.json: fdb.static[1].vni",
            "state file /s.json: fdb.static[2].port", "state file /s.json: fdb.static[3].port", "state file /s.json: fdb.static[4].vtep",
        ], report.lines.joined(separator: "\n"))
        let text = report.warnings.map(\.description)
        XCTAssertTrue(text[0].contains("port tap9 uses VNI 3000, which the config does not declare"), text[0])
        XCTAssertTrue(text[0].contains("vxsw port del tap9"), text[0])
        XCTAssertTrue(text[1].contains("port tr0 uses VNI 4000"), text[1])
        XCTAssertTrue(text[2].contains("02:00:00:00:00:02 is in VNI 3000"), text[2])
        XCTAssertTrue(text[3].contains("port gone0, which neither the config nor the state file has"), text[3])
        XCTAssertTrue(text[4].contains("port tap2, which does not carry VNI 2000 (it carries 1000)"), text[4])
        XCTAssertTrue(text[5].contains("vtep has no ipv6 address"), text[5])
        XCTAssertEqual(report.notes.map(\.description), [
            "state file /s.json: ports[3].name: port tap1 is in the config too; the config's settings are used",
        ])
    }

    /// The file the config names: absent is fine, corrupt is an error naming it; it is never changed.
    func testCheckStateFileReadsWithoutChanging() throws {
        let path = dir + "/state.json"
        let config = try SwitchConfig.parse(yaml: checkConfig + "control: { state-file: \(path) }\n")
        XCTAssertEqual(config.checkStateFile().lines, [])
        XCTAssertEqual(try SwitchConfig.parse(yaml: checkConfig + "control: { state-file: off }\n").checkStateFile().lines, [])

        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let corrupt = #"{"version": 1, "ports": [{"name": "tap2", "vni": 1000}, {"name": "tap3"}]}"#
        try corrupt.write(toFile: path, atomically: true, encoding: .utf8)
        let before = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
        let report = config.checkStateFile()
        XCTAssertEqual(report.errors.count, 1, report.lines.joined(separator: "\n"))
        let message = report.errors.first?.description ?? ""
        XCTAssertTrue(message.hasPrefix("state file \(path): ports[1]: needs 'vni'"), message)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), corrupt, "--check leaves the file as it was")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date, before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["state.json"])
    }

    /// The real binary: `vxsw run --check` prints the state file's findings with the config's
    /// name, fails on a corrupt file and passes (with warnings) on an inconsistent one. No root.
    func testRunCheckReadsTheStateFile() throws {
        let binary = try vxswBinary()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/state.json", configPath = dir + "/vxsw.yaml"
        try (checkConfig + "control: { socket: \(dir)/vxsw.sock, state-file: \(path) }\n")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        func check() throws -> CommandResult { try VXLabKit.run([binary, "run", "--check", "--config", configPath], check: false) }

        let none = try check()
        XCTAssertTrue(none.succeeded, none.error)
        XCTAssertTrue(none.output.contains("configuration is valid"), none.output)

        let inconsistent = RunState(ports: [.init(name: "tap9", mode: .access(VNI(3000)!))])
        try inconsistent.write(to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let warned = try check()
        XCTAssertTrue(warned.succeeded, warned.error)
        XCTAssertTrue(warned.output.contains("configuration is valid (with warnings)"), warned.output)
        XCTAssertTrue(warned.error.contains("\(configPath): warning: state file \(path): ports[0]: port tap9 uses VNI 3000"), warned.error)

        try #"{"version": 1, "fdb": {"static": [{"vni": 1000, "mac": "zz"}]}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let corrupt = try check()
        XCTAssertFalse(corrupt.succeeded)
        XCTAssertTrue(corrupt.error.contains("\(configPath): error: state file \(path): fdb.static[0]"), corrupt.error)
        XCTAssertTrue(corrupt.error.contains("1 check failed"), corrupt.error)

        try bytes.write(to: URL(fileURLWithPath: path))
        _ = try check()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), bytes, "--check never rewrites the state file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/vxsw.sock"), "--check opens no control socket")
    }

    /// A user who cannot see into the state file's directory (0700, as /var/lib/vxsw) gets a
    /// note that it was not checked, not a silent "no state file".
    func testRunCheckAsAnotherUserSaysItWasNotChecked() throws {
        try XCTSkipUnless(isRoot, "needs root: runs --check as nobody (setpriv)")
        let binary = try vxswBinary()
        try FileManager.default.createDirectory(atPath: dir + "/state", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
        try RunState().write(to: dir + "/state/state.json")
        let configPath = dir + "/vxsw.yaml"
        try (checkConfig + "control: { socket: \(dir)/vxsw.sock, state-file: \(dir)/state/state.json }\n")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: configPath)
        let asNobody = try VXLabKit.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                         binary, "run", "--check", "--config", configPath], check: false)
        XCTAssertTrue(asNobody.succeeded, asNobody.error)
        XCTAssertTrue(asNobody.error.contains("note: control.state-file: \(dir)/state/state.json is not readable by this user; not checked"),
                      asNobody.error)
        let asRoot = try VXLabKit.run([binary, "run", "--check", "--config", configPath], check: false)
        XCTAssertTrue(asRoot.succeeded && !asRoot.error.contains("not readable"), asRoot.error)
    }
}
