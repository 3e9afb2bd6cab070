import XCTest

@testable import VXSwitch

/// `datapath.fast-path`: on by default, a strict boolean, and carried through JSON.
final class FastPathConfigTests: XCTestCase {
    private let base = "vtep: { ipv4: 198.18.0.1 }\nvnis: [ { vni: 1000 } ]\n"

    func testOnByDefault() throws {
        XCTAssertTrue(try SwitchConfig.parse(yaml: base).datapath.fastPath)
    }

    func testTurnedOff() throws {
        let config = try SwitchConfig.parse(yaml: base + "datapath: { fast-path: false }\n")
        XCTAssertFalse(config.datapath.fastPath)
        let json = try JSONEncoder().encode(config)
        XCTAssertFalse(try JSONDecoder().decode(SwitchConfig.self, from: json).datapath.fastPath, "JSON round trip")
    }

    func testOnlyABoolean() {
        for bad in ["yes", "1", "auto"] {
            XCTAssertThrowsError(try SwitchConfig.parse(yaml: base + "datapath: { fast-path: \(bad) }\n")) { error in
                XCTAssertTrue("\(error)".hasPrefix("datapath.fast-path: expected true or false"), "\(error)")
            }
        }
        XCTAssertThrowsError(try SwitchConfig.parse(yaml: base + "datapath: { fastpath: true }\n")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'fast-path'"), "\(error)")
        }
    }
}
