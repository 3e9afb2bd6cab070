import XCTest
import VXConfig
import VXCore

/// MAC limits (issue 10): a default for every VNI and every VM port, their own, `off`; bad
/// values name the field.
extension ConfigTests {
    func testMACLimitDefaultsAndOwnLimits() throws {
        let base = "vtep: { ipv4: 10.0.0.1 }\n"
        let defaults = try SwitchConfig.parse(yaml: base + "vnis: [{ vni: 1000 }]\nports: [{ name: tap1, vni: 1000 }]\n")
        XCTAssertEqual(defaults.fdb.defaultVNIMACLimit, 32_768, "a quarter of max-entries 131072")
        XCTAssertEqual(defaults.fdb.defaultPortMACLimit, 16_384, "an eighth")
        XCTAssertEqual(defaults.macLimit(of: defaults.vnis[0]), 32_768)
        XCTAssertEqual(defaults.macLimit(of: defaults.ports[0]), 16_384)
        let scaled = try SwitchConfig.parse(yaml: base + "fdb: { max-entries: 400000 }\nvnis: [{ vni: 1000 }]\n")
        XCTAssertEqual(scaled.macLimit(of: scaled.vnis[0]), 100_000, "auto follows max-entries")

        let set = try SwitchConfig.parse(yaml: base + """
            fdb: { vni-mac-limit: 5000, port-mac-limit: off }
            vnis:
              - { vni: 1000 }
              - { vni: 2000, mac-limit: 0 }
              - { vni: 3000, mac-limit: off }
              - { vni: 4000, mac-limit: 12 }
              - { vni: 5000, mac-limit: auto }
            ports:
              - { name: tap1, vni: 1000 }
              - { name: tap2, vni: 1000, mac-limit: 64 }
              - { name: tap3, vni: 1000, mac-limit: auto }

            """)
        XCTAssertEqual(set.vnis.map { set.macLimit(of: $0) }, [5000, nil, nil, 12, 5000])
        XCTAssertEqual(set.ports.map { set.macLimit(of: $0) }, [nil, 64, nil])
        XCTAssertEqual(set.vnis.map(\.macLimit), [nil, 0, 0, 12, nil])
        let data = try JSONEncoder().encode(set)
        XCTAssertEqual(try JSONDecoder().decode(SwitchConfig.self, from: data), set, "JSON round trip")
        XCTAssertEqual(try JSONDecoder().decode(SwitchConfig.self, from: try JSONEncoder().encode(defaults)), defaults)

        for (bad, field) in [("fdb: { vni-mac-limit: -1 }", "fdb.vni-mac-limit"), ("fdb: { port-mac-limit: lots }", "fdb.port-mac-limit"),
                             ("fdb: { vni-mac-limit: 16777217 }", "fdb.vni-mac-limit"),
                             ("vnis: [{ vni: 1000, mac-limit: -5 }]", "vnis[0].mac-limit"),
                             ("vnis: [{ vni: 1000 }]\nports: [{ name: tap1, vni: 1000, mac-limit: none }]", "ports[0].mac-limit")] {
            XCTAssertThrowsError(try SwitchConfig.parse(yaml: base + bad + "\n"), bad) {
                XCTAssertTrue("\($0)".contains(field), "\($0) names \(field)")
            }
        }
        var code = defaults
        code.fdb.portMACLimit = -1
        XCTAssertThrowsError(try code.validate()) { XCTAssertTrue("\($0)".contains("fdb.port-mac-limit"), "\($0)") }
        code = defaults
        code.vnis[0].macLimit = 20_000_000
        XCTAssertThrowsError(try code.validate()) { XCTAssertTrue("\($0)".contains("vnis[0].mac-limit"), "\($0)") }
    }

    /// A VNI whose effective limit changes (its own, or the default it takes) is set again by a
    /// reload; the port default cannot change live (ports keep the limit they were attached with).
    func testMACLimitReload() throws {
        let base = "vtep: { ipv4: 10.0.0.1 }\nvnis: [{ vni: 1000 }, { vni: 2000, mac-limit: 7 }]\n"
        let old = try SwitchConfig.parse(yaml: base)
        let new = try SwitchConfig.parse(yaml: base + "fdb: { vni-mac-limit: 100 }\n")
        XCTAssertEqual(try old.reloadPlan(to: new).vnisToSet.map(\.vni), [VNI(1000)!])
        XCTAssertThrowsError(try old.reloadPlan(to: try SwitchConfig.parse(yaml: base + "fdb: { port-mac-limit: 3 }\n"))) {
            XCTAssertTrue("\($0)".contains("fdb.port-mac-limit"), "\($0)")
        }
    }
}
