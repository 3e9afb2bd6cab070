@testable import VXConfig
import XCTest

@testable import VXSwitch

/// `datapath.fast-path`: auto by default (not into veths), true, false; carried through JSON.
final class FastPathConfigTests: XCTestCase {
    private let base = "vtep: { ipv4: 198.18.0.1 }\nvnis: [ { vni: 1000 } ]\n"

    func testAutoByDefault() throws {
        XCTAssertEqual(try SwitchConfig.parse(yaml: base).datapath.fastPath, .auto)
    }

    func testEachValueRoundTrips() throws {
        for (text, value) in [("true", SwitchConfig.Datapath.FastPath.on), ("false", .off), ("auto", .auto)] {
            let config = try SwitchConfig.parse(yaml: base + "datapath: { fast-path: \(text) }\n")
            XCTAssertEqual(config.datapath.fastPath, value)
            let json = try JSONEncoder().encode(config)
            XCTAssertEqual(try JSONDecoder().decode(SwitchConfig.self, from: json).datapath.fastPath, value, "JSON round trip")
        }
    }

    func testOnlyAutoOrABoolean() {
        for bad in ["yes", "1", "fast"] {
            XCTAssertThrowsError(try SwitchConfig.parse(yaml: base + "datapath: { fast-path: \(bad) }\n")) { error in
                XCTAssertTrue("\(error)".hasPrefix("datapath.fast-path: expected auto, true or false"), "\(error)")
            }
        }
        XCTAssertThrowsError(try SwitchConfig.parse(yaml: base + "datapath: { fastpath: true }\n")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'fast-path'"), "\(error)")
        }
    }
}

/// `fdb.max-entries`: the FDB's size, validated and carried through JSON.
final class FDBSizeConfigTests: XCTestCase {
    private let base = "vtep: { ipv4: 198.18.0.1 }\nvnis: [ { vni: 1000 } ]\n"

    func testDefaultAndRoundTrip() throws {
        XCTAssertEqual(try SwitchConfig.parse(yaml: base).fdb.maxEntries, 131_072)
        let config = try SwitchConfig.parse(yaml: base + "fdb: { max-entries: 262144 }\n")
        XCTAssertEqual(config.fdb.maxEntries, 262_144)
        XCTAssertEqual(try JSONDecoder().decode(SwitchConfig.self, from: JSONEncoder().encode(config)).fdb.maxEntries, 262_144)
    }

    func testOutOfRangeNamesTheField() {
        XCTAssertThrowsError(try SwitchConfig.parse(yaml: base + "fdb: { max-entries: 10 }\n")) { error in
            XCTAssertTrue("\(error)".hasPrefix("fdb.max-entries"), "\(error)")
        }
        XCTAssertThrowsError(try SwitchConfig.parse(yaml: base + "fdb: { max-neighbors: 10 }\n")) { error in
            XCTAssertTrue("\(error)".hasPrefix("fdb.max-neighbors"), "\(error)")
        }
    }

    /// The neighbour table (ARP/ND suppression) is sized by config like the FDB.
    func testNeighbourTableSize() throws {
        XCTAssertEqual(try SwitchConfig.parse(yaml: base).fdb.maxNeighbors, 24_576)
        let config = try SwitchConfig.parse(yaml: base + "fdb: { max-neighbors: 100000 }\n")
        XCTAssertEqual(config.fdb.maxNeighbors, 100_000)
        XCTAssertEqual(try JSONDecoder().decode(SwitchConfig.self, from: JSONEncoder().encode(config)).fdb.maxNeighbors, 100_000)
    }
}
