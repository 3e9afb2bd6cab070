@testable import VXConfig
import XCTest

@testable import VXSwitch

/// One test per class of config error; each checks that the message names the field.
final class ConfigErrorTests: XCTestCase {
    private let base = """
        vtep: { ipv4: 198.18.0.1 }
        vnis:
          - vni: 1000
          - vni: 2000
        ports:
          - { name: tap1, vni: 1000 }

        """

    /// The message `parse(yaml:)` throws for `yaml`.
    private func message(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try SwitchConfig.parse(yaml: yaml)
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch let error as ConfigError {
            return error.description
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
            return ""
        }
    }

    private func assertMessage(
        _ yaml: String, hasPrefix prefix: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        let text = message(yaml, file: file, line: line)
        XCTAssertTrue(text.hasPrefix(prefix), "'\(text)' does not start with '\(prefix)'", file: file, line: line)
    }

    func testBaseParses() {
        XCTAssertNoThrow(try SwitchConfig.parse(yaml: base))
    }

    func testVNIOutOfRange() {
        let yaml = base.replacingOccurrences(of: "- vni: 2000", with: "- vni: 16777216")
        XCTAssertEqual(message(yaml), "vnis[1].vni: 16777216 is out of range (1..16777215) (line 4)")
        assertMessage(
            base.replacingOccurrences(of: "- vni: 2000", with: "- vni: 0"), hasPrefix: "vnis[1].vni: 0 is out of range")
    }

    func testDuplicateVNI() {
        assertMessage(
            base.replacingOccurrences(of: "- vni: 2000", with: "- vni: 1000"),
            hasPrefix: "vnis[1].vni: VNI 1000 is declared twice (first at vnis[0])")
    }

    func testMissingField() {
        assertMessage(base + "  - { vni: 1000 }\n", hasPrefix: "ports[1].name: missing")
        assertMessage("vnis: []\n", hasPrefix: "vtep: missing")
    }

    func testUnknownFieldSuggestsNearest() {
        assertMessage(
            base.replacingOccurrences(of: "- vni: 1000", with: "- vnii: 1000"),
            hasPrefix: "unknown field 'vnii' at vnis[0] (did you mean 'vni'?)")
        assertMessage(base + "vtpe: {}\n", hasPrefix: "unknown field 'vtpe' at the top level (did you mean 'vtep'?)")
        XCTAssertEqual(message(base + "zzzzzz: 1\n"), "unknown field 'zzzzzz' at the top level (line 7)")
    }

    func testDuplicateKey() {
        assertMessage(base + "vnis: []\n", hasPrefix: "YAML syntax")
    }

    func testWrongType() {
        assertMessage(base + "fdb: { aging-time: soon }\n", hasPrefix: "fdb.aging-time: expected a number, got a string")
        assertMessage("vtep: { ipv4: 198.18.0.1 }\nvnis: 3\n", hasPrefix: "vnis: expected a list, got a number")
        assertMessage(
            "vtep: { ipv4: 198.18.0.1, udp6-zero-checksum: 1 }\n",
            hasPrefix: "vtep.udp6-zero-checksum: expected true or false")
        assertMessage(
            "vtep: { ipv4: 198.18.0.1, verify-udp-checksum: { ipv6: no-thanks } }\n",
            hasPrefix: "vtep.verify-udp-checksum.ipv6: expected true or false")
    }

    func testPortNames() {
        assertMessage(
            base + "  - { name: tap1, vni: 2000 }\n", hasPrefix: "ports[1].name: port 'tap1' is configured twice")
        assertMessage(
            base + "  - { name: averyveryverylongname, vni: 2000 }\n",
            hasPrefix: "ports[1].name: 'averyveryverylongname' is longer than 15 characters")
        assertMessage(
            base + "  - { name: \"a/b\", vni: 2000 }\n", hasPrefix: "ports[1].name: 'a/b' is not a valid interface name")
    }

    func testPortVNIMustBeDeclared() {
        assertMessage(
            base + "  - { name: tap2, vni: 3000 }\n", hasPrefix: "ports[1].vni: VNI 3000 is not declared in vnis")
        assertMessage(
            base + "  - { name: tr0, trunk: { 10: 3000 } }\n",
            hasPrefix: "ports[1].trunk.10: VNI 3000 is not declared in vnis")
    }

    func testPortModeChoice() {
        assertMessage(base + "  - { name: tap2 }\n", hasPrefix: "ports[1]: needs 'vni' (access port) or 'trunk'")
        assertMessage(
            base + "  - { name: tap2, vni: 1000, trunk: { 10: 1000 } }\n", hasPrefix: "ports[1]: has both 'vni'")
        assertMessage(
            base + "  - { name: tap2, vni: 1000, native-vni: 1000 }\n",
            hasPrefix: "ports[1]: 'native-vni' applies to trunk ports only")
    }

    func testTrunkVLANRange() {
        assertMessage(
            base + "  - { name: tr0, trunk: { 4095: 1000 } }\n",
            hasPrefix: "ports[1].trunk: VLAN id 4095 is out of range (1..4094)")
        assertMessage(
            base + "  - { name: tr0, trunk: { 0: 1000 } }\n", hasPrefix: "ports[1].trunk: VLAN id 0 is out of range")
        assertMessage(
            base + "  - { name: tr0, trunk: { x: 1000 } }\n", hasPrefix: "ports[1].trunk: 'x' is not a VLAN id")
    }

    func testAddressesParse() {
        assertMessage("vtep: { ipv4: 198.18.0.300 }\n", hasPrefix: "vtep.ipv4: '198.18.0.300' is not an IP address")
        assertMessage("vtep: { ipv4: \"fd00::1\" }\n", hasPrefix: "vtep.ipv4: 'fd00::1' is not an IPv4 address")
        assertMessage("vtep: { ipv6: 10.0.0.1 }\n", hasPrefix: "vtep.ipv6: '10.0.0.1' is not an IPv6 address")
        assertMessage("vtep: { udp-port: 4789 }\n", hasPrefix: "vtep: needs at least one of ipv4, ipv6")
        assertMessage(
            base + "fdb: { static: [{ vni: 1000, mac: \"02:00:00:00:00\", port: tap1 }] }\n",
            hasPrefix: "fdb.static[0].mac: '02:00:00:00:00' is not a MAC address")
        assertMessage(
            base + "fdb: { static: [{ vni: 1000, mac: \"01:00:5e:00:00:01\", port: tap1 }] }\n",
            hasPrefix: "fdb.static[0].mac: 01:00:5e:00:00:01 is not a unicast address")
        assertMessage(
            base.replacingOccurrences(of: "- vni: 2000", with: "- { vni: 2000, flood: [\"fd00::2\"] }"),
            hasPrefix: "vnis[1].flood[0]: fd00::2 is IPv6 but vtep has no ipv6 address")
        assertMessage(
            base.replacingOccurrences(of: "- vni: 2000", with: "- { vni: 2000, flood: [198.18.0.1] }"),
            hasPrefix: "vnis[1].flood[0]: 198.18.0.1 is our own VTEP address")
        assertMessage(
            base + "control: { metrics: \"localhost:9469\" }\n",
            hasPrefix: "control.metrics: 'localhost:9469' is not ADDRESS:PORT")
        assertMessage(
            "vtep: { ipv4: 1.2.3.4, source-port-range: 6-5 }\n",
            hasPrefix: "vtep.source-port-range: '6-5' is not a port range")
    }

    func testDatapathLimits() {
        assertMessage(base + "datapath: { ring-size: 1000 }\n", hasPrefix: "datapath.ring-size: 1000 is not a power of two")
        assertMessage(
            base + "datapath: { ring-size: 32768 }\n", hasPrefix: "datapath.ring-size: 32768 is out of range (64..16384)")
        assertMessage(base + "datapath: { frame-size: 1024 }\n", hasPrefix: "datapath.frame-size: 1024 is not 2048 or 4096")
        assertMessage(base + "datapath: { batch-size: 0 }\n", hasPrefix: "datapath.batch-size: 0 is out of range (1..256)")
        assertMessage(base + "datapath: { frames: 100 }\n", hasPrefix: "datapath.frames: 100 is out of range (4096..")
        assertMessage(base + "datapath: { workers: [1, 1] }\n", hasPrefix: "datapath.workers[1]: CPU 1 is listed twice")
        assertMessage(
            base + "datapath: { poll: sometimes }\n",
            hasPrefix: "datapath.poll: 'sometimes' is not one of: busy, adaptive, interrupt")
        assertMessage(
            base + "datapath: { numa: near }\n", hasPrefix: "datapath.numa: expected 'auto' or a NUMA node number")
    }

    func testUplink() {
        assertMessage(
            base + "uplink: { interface: tap1 }\n", hasPrefix: "uplink.interface: 'tap1' is also configured as a port")
        assertMessage(
            base + "uplink: { interface: ul0, mtu: 100 }\n", hasPrefix: "uplink.mtu: 100 is out of range (576..65535)")
        assertMessage(
            base + "uplink: { interface: ul0, queues: some }\n", hasPrefix: "uplink.queues: expected 'all' or a list")
        assertMessage(base + "uplink: { queues: all }\n", hasPrefix: "uplink.interface: missing")
    }

    func testStaticFDBReferences() {
        assertMessage(
            base + "fdb: { static: [{ vni: 1000, mac: \"02:00:00:00:00:01\", port: tap9 }] }\n",
            hasPrefix: "fdb.static[0].port: no port named 'tap9'")
        assertMessage(
            base + "fdb: { static: [{ vni: 2000, mac: \"02:00:00:00:00:01\", port: tap1 }] }\n",
            hasPrefix: "fdb.static[0].port: port 'tap1' does not carry VNI 2000")
        assertMessage(
            base + "fdb: { static: [{ vni: 1000, mac: \"02:00:00:00:00:01\" }] }\n",
            hasPrefix: "fdb.static[0]: needs 'port' (local) or 'vtep' (remote)")
    }

    func testControlSocketPath() {
        assertMessage(
            base + "control: { socket: vxsw.sock }\n", hasPrefix: "control.socket: 'vxsw.sock' is not an absolute path")
    }

    func testBGP() {
        assertMessage(
            base + "bgp: { asn: 0, router-id: 1.1.1.1 }\n", hasPrefix: "bgp.asn: 0 is out of range (1..4294967295)")
        assertMessage(base + "bgp: { asn: 65001 }\n", hasPrefix: "bgp.router-id: missing")
        assertMessage(
            base + "bgp: { asn: 65001, router-id: 1.1.1.1, peers: [{ address: 10.0.0.2, remote-as: sideways }] }\n",
            hasPrefix: "bgp.peers[0].remote-as: expected an AS number, 'internal' or 'external'")
        assertMessage(
            base + "bgp: { asn: 65001, router-id: 1.1.1.1, vnis: [{ vni: 1000, rd: \"65001:x\" }] }\n",
            hasPrefix: "bgp.vnis[0].rd: '65001:x' has no number after ':'")
        assertMessage(
            base
                + "bgp: { asn: 65001, router-id: 1.1.1.1, vnis: [{ vni: 1000, route-targets: { export: [\"4200000000:70000\"] } }] }\n",
            hasPrefix: "bgp.vnis[0].route-targets.export[0]: '4200000000:70000': 70000 is too large")
        assertMessage(
            base + "bgp: { asn: 65001, router-id: 1.1.1.1, vnis: [{ vni: 3000 }] }\n",
            hasPrefix: "bgp.vnis[0].vni: VNI 3000 is not declared in vnis")
    }

    func testYAMLSyntaxAndEmptyDocument() {
        assertMessage("vtep: [\n", hasPrefix: "YAML syntax")
        assertMessage("", hasPrefix: "the configuration is empty")
        assertMessage("- 1\n", hasPrefix: "expected a mapping, got a list")
    }
}
