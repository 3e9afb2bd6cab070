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
}
