@testable import VXConfig
import Foundation
import VXCore
import VXEVPN
@testable import VXSwitch
import XCTest

/// The `vrfs:` section and `vnis[].gateway`: parsing, defaults, every validation error naming
/// its field, JSON round trip and reload.
final class VRFConfigTests: XCTestCase {
    private let base = """
        vtep: { ipv4: 198.18.0.1 }
        vnis:
          - vni: 1000
            gateway: { ipv4: 10.1.0.1/24, ipv6: "fd00:1::1/64", mac: "00:00:5e:00:01:01" }
          - vni: 2000
            gateway: { ipv4: 10.2.0.1/24 }
          - vni: 3000
        vrfs:
          - name: tenant1
            l3-vni: 5000
            vnis: [1000, 2000]

        """

    private func message(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try SwitchConfig.parse(yaml: yaml)
            XCTFail("expected an error", file: file, line: line)
        } catch {
            return "\(error)"
        }
        return ""
    }

    private func assertMessage(_ yaml: String, hasPrefix prefix: String, file: StaticString = #filePath, line: UInt = #line) {
        let text = message(yaml, file: file, line: line)
        XCTAssertTrue(text.hasPrefix(prefix), "'\(text)' does not start with '\(prefix)'", file: file, line: line)
    }

    func testParsesWithDefaults() throws {
        let config = try SwitchConfig.parse(yaml: base)
        XCTAssertEqual(config.vrfs, [.init(name: "tenant1", l3VNI: VNI(5000)!, vnis: [VNI(1000)!, VNI(2000)!])])
        XCTAssertEqual(config.vni(VNI(1000)!)?.gateway,
                       .init(ipv4: InterfaceAddress("10.1.0.1/24"), ipv6: InterfaceAddress("fd00:1::1/64")))
        XCTAssertEqual(config.vni(VNI(2000)!)?.gateway?.mac, SwitchConfig.GatewayConfig.defaultMAC)
        XCTAssertNil(config.vni(VNI(3000)!)?.gateway)
        XCTAssertEqual(config.vrf(of: VNI(2000)!)?.name, "tenant1")
        XCTAssertNil(config.vrf(of: VNI(3000)!))
        let vrf = config.vrfs[0]
        XCTAssertEqual(config.routerMAC(of: vrf), MACAddress("02:76:c6:12:00:01"), "02:76 + the IPv4 VTEP address")
        XCTAssertNil(vrf.importTargets, "auto")
        let explicit = try SwitchConfig.parse(yaml: base + """
                router-mac: "02:00:00:00:50:00"
                route-targets: { import: ["65001:5000", "*:5000"], export: ["65001:5000"] }

            """)
        XCTAssertEqual(explicit.routerMAC(of: explicit.vrfs[0]), MACAddress("02:00:00:00:50:00"))
        XCTAssertEqual(explicit.vrfs[0].importTargets, ["65001:5000", "*:5000"])
        XCTAssertEqual(explicit.vrfs[0].exportTargets, ["65001:5000"])
        let auto = try SwitchConfig.parse(yaml: base + "    router-mac: auto\n")
        XCTAssertNil(auto.vrfs[0].routerMAC)
    }

    /// The speaker's VRFs: L3 VNI, L2 VNIs, the router MAC (auto: 02:76 + the VTEP's low 32 bits)
    /// and the route targets (nil: auto, AS:L3VNI in the RIB).
    func testSpeakerConfigOfVRFs() throws {
        let bgp = "bgp:\n  asn: 65001\n  router-id: 198.18.0.1\n"
        let auto = try SwitchConfig.parse(yaml: base + bgp)
        XCTAssertEqual(try EVPNConfig(switchConfig: auto, bgp: auto.bgp!).vrfs,
                       [VXEVPN.VRFConfig(l3VNI: 5000, routerMAC: MACAddress("02:76:c6:12:00:01")!, vnis: [1000, 2000], name: "tenant1")])
        // advertise-subnets: the gateways' subnets go to the speaker as type-5 prefixes.
        let advertised = try SwitchConfig.parse(yaml: base + "    advertise-subnets: true\n" + bgp)
        XCTAssertEqual(try EVPNConfig(switchConfig: advertised, bgp: advertised.bgp!).vrfs.first?.advertisedPrefixes,
                       [IPPrefix("10.1.0.0/24")!, IPPrefix("fd00:1::/64")!, IPPrefix("10.2.0.0/24")!])
        // advertise-prefixes: aggregates on top, once each; host bits or a non-prefix are errors naming the item.
        let aggregate = try SwitchConfig.parse(yaml: base + "    advertise-subnets: true\n    advertise-prefixes: [10.0.0.0/8, 10.1.0.0/24]\n" + bgp)
        XCTAssertEqual(aggregate.vrfs[0].advertisePrefixes, [IPPrefix("10.0.0.0/8")!, IPPrefix("10.1.0.0/24")!])
        XCTAssertEqual(try EVPNConfig(switchConfig: aggregate, bgp: aggregate.bgp!).vrfs.first?.advertisedPrefixes,
                       [IPPrefix("10.1.0.0/24")!, IPPrefix("fd00:1::/64")!, IPPrefix("10.2.0.0/24")!, IPPrefix("10.0.0.0/8")!])
        let again = try JSONDecoder().decode(SwitchConfig.self, from: try JSONEncoder().encode(aggregate))
        XCTAssertEqual(again.vrfs[0].advertisePrefixes, aggregate.vrfs[0].advertisePrefixes, "JSON round trip")
        assertMessage(base + "    advertise-prefixes: [10.1.0.1/24]\n", hasPrefix: "vrfs[0].advertise-prefixes[0]: '10.1.0.1/24' has host bits set (the prefix is 10.1.0.0/24)")
        assertMessage(base + "    advertise-prefixes: [nonsense]\n", hasPrefix: "vrfs[0].advertise-prefixes[0]: 'nonsense' is not a prefix")
        let set = try SwitchConfig.parse(yaml: base.replacingOccurrences(of: "    l3-vni: 5000\n", with: """
                l3-vni: 5000
                router-mac: "02:00:00:00:50:00"
                route-targets: { import: ["65001:9"], export: ["65001:9", "65001:10"] }

            """) + bgp)
        let vrf = try XCTUnwrap(try EVPNConfig(switchConfig: set, bgp: set.bgp!).vrfs.first)
        XCTAssertEqual(vrf.routerMAC, MACAddress("02:00:00:00:50:00"))
        XCTAssertEqual(vrf.importRTs, [RouteTarget("65001:9")!])
        XCTAssertEqual(vrf.exportRTs, [RouteTarget("65001:9")!, RouteTarget("65001:10")!])
    }

    func testJSONRoundTrip() throws {
        let config = try SwitchConfig.parse(yaml: base + """
                route-targets: { export: ["65001:5000"] }

            """)
        let data = try JSONEncoder().encode(config)
        XCTAssertEqual(try JSONDecoder().decode(SwitchConfig.self, from: data), config)
        let tree = try JSONDecoder().decode(JSONValue.self, from: data)
        XCTAssertEqual(tree["vrfs"]?[0]?["router-mac"], "auto")
        XCTAssertEqual(tree["vnis"]?[0]?["gateway"]?["ipv4"], "10.1.0.1/24")
        XCTAssertEqual(tree["vnis"]?[1]?["gateway"]?["mac"], "00:00:5e:00:01:01")
    }

    func testVRFErrorsNameTheField() {
        let two = "  - { name: two, l3-vni: 6000, vnis: [2000] }\n"
        // (the config, the error's start)
        let cases: [(String, String)] = [
            (base + "  - { name: tenant1, l3-vni: 6000 }\n", "vrfs[1].name: VRF 'tenant1' is configured twice (first at vrfs[0])"),
            (base + "  - { name: two, l3-vni: 5000 }\n", "vrfs[1].l3-vni: L3 VNI 5000 is also VRF 'tenant1's (vrfs[0])"),
            (base.replacingOccurrences(of: "l3-vni: 5000", with: "l3-vni: 3000"),
             "vrfs[0].l3-vni: VNI 3000 is also an L2 VNI (vnis[2]); an L3 VNI is declared only here"),
            (base.replacingOccurrences(of: "l3-vni: 5000", with: "l3-vni: 16777216"), "vrfs[0].l3-vni: 16777216 is out of range"),
            (base + two, "vrfs[1].vnis[0]: VNI 2000 is already in VRF 'tenant1' (vrfs[0]); a VNI is in one VRF at most"),
            (base.replacingOccurrences(of: "vnis: [1000, 2000]", with: "vnis: [1000, 2000, 4000]"),
             "vrfs[0].vnis[2]: VNI 4000 is not declared in vnis"),
            (base.replacingOccurrences(of: "vnis: [1000, 2000]", with: "vnis: [1000, 2000, 1000]"),
             "vrfs[0].vnis[2]: VNI 1000 is listed twice"),
            (base + "    router-mac: \"01:00:5e:00:00:01\"\n", "vrfs[0].router-mac: 01:00:5e:00:00:01 is not a unicast address"),
            (base + "    router-mac: nope\n", "vrfs[0].router-mac: 'nope' is not a MAC address"),
            (base + "    route-targets: { import: [\"65001\"] }\n", "vrfs[0].route-targets.import[0]:"),
            (base.replacingOccurrences(of: "name: tenant1", with: "name: \"a b\""), "vrfs[0].name: 'a b' is not a VRF name"),
            (base + "    color: red\n", "unknown field 'color' at vrfs[0]"),
        ]
        for (yaml, prefix) in cases { assertMessage(yaml, hasPrefix: prefix) }
    }

    func testGatewayErrorsNameTheField() {
        // (text in base, replaced by, the error's start)
        let cases: [(String, String, String)] = [
            ("  - vni: 3000", "  - { vni: 3000, gateway: { ipv4: 10.3.0.1/24 } }",
             "vnis[2].gateway: VNI 3000 has a gateway but is in no VRF (list it in a vrfs[].vnis)"),
            ("gateway: { ipv4: 10.2.0.1/24 }", "gateway: { mac: \"00:00:5e:00:01:01\" }",
             "vnis[1].gateway: needs at least one of ipv4, ipv6"),
            ("10.2.0.1/24", "10.2.0.1", "vnis[1].gateway.ipv4: '10.2.0.1' is not ADDRESS/LENGTH"),
            ("10.2.0.1/24", "10.2.0.1/33", "vnis[1].gateway.ipv4: '10.2.0.1/33' is not ADDRESS/LENGTH"),
            ("10.2.0.1/24", "10.2.0.1/32", "vnis[1].gateway.ipv4: prefix length 32 leaves no subnet (1..30)"),
            ("10.2.0.1/24", "\"fd00:2::1/64\"", "vnis[1].gateway.ipv4: 'fd00:2::1/64' is not an IPv4 address"),
            ("10.2.0.1/24", "10.2.0.0/24", "vnis[1].gateway.ipv4: 10.2.0.0 is the subnet's network address"),
            ("10.2.0.1/24", "10.2.0.255/24", "vnis[1].gateway.ipv4: 10.2.0.255 is the subnet's broadcast address"),
            ("10.2.0.1/24", "10.1.0.129/25",
             "vnis[1].gateway.ipv4: 10.1.0.128/25 overlaps 10.1.0.0/24 (vnis[0].gateway.ipv4) in VRF 'tenant1'"),
            ("mac: \"00:00:5e:00:01:01\"", "mac: \"ff:ff:ff:ff:ff:ff\"",
             "vnis[0].gateway.mac: ff:ff:ff:ff:ff:ff is not a unicast address"),
            ("fd00:1::1/64", "fe80::1/64", "vnis[0].gateway.ipv6: fe80::1 is not a unicast address a gateway can have"),
        ]
        for (old, new, prefix) in cases {
            assertMessage(base.replacingOccurrences(of: old, with: new), hasPrefix: prefix)
        }
        // The same subnet in two VRFs is fine: nothing crosses them.
        XCTAssertNoThrow(try SwitchConfig.parse(yaml: base.replacingOccurrences(of: "  - vni: 3000", with: "  - { vni: 3000, gateway: { ipv4: 10.1.0.1/24 } }")
            + "  - { name: two, l3-vni: 6000, vnis: [3000] }\n"))
    }

    func testReloadPlansVRFAndGatewayChanges() throws {
        let old = try SwitchConfig.parse(yaml: base)
        XCTAssertTrue(try old.reloadPlan(to: old).isEmpty)
        // Another L3 VNI: the old VRF goes, the new one comes, both gateways are set again in it.
        let renumbered = try old.reloadPlan(to: try SwitchConfig.parse(yaml: base.replacingOccurrences(of: "l3-vni: 5000", with: "l3-vni: 5001")))
        XCTAssertEqual(renumbered.vrfsToRemove, [VNI(5000)!])
        XCTAssertEqual(renumbered.vrfsToSet.map(\.l3VNI), [VNI(5001)!])
        XCTAssertEqual(renumbered.gatewaysToClear, [VNI(1000)!, VNI(2000)!])
        XCTAssertEqual(renumbered.gatewaysToSet.map(\.vni), [VNI(1000)!, VNI(2000)!])
        XCTAssertFalse(renumbered.restartBGP, "no bgp section")
        // A gateway address: that VNI's gateway only.
        let moved = try old.reloadPlan(to: try SwitchConfig.parse(yaml: base.replacingOccurrences(of: "10.2.0.1/24", with: "10.2.0.2/24")))
        XCTAssertEqual(moved.gatewaysToClear, [VNI(2000)!])
        XCTAssertEqual(moved.gatewaysToSet.map(\.vni), [VNI(2000)!])
        XCTAssertTrue(moved.vrfsToSet.isEmpty && moved.vrfsToRemove.isEmpty)
        // A new tenant with a gateway on VNI 3000; then every VRF and gateway gone.
        let added = try old.reloadPlan(to: try SwitchConfig.parse(yaml: base.replacingOccurrences(
            of: "  - vni: 3000", with: "  - { vni: 3000, gateway: { ipv4: 10.3.0.1/24 } }") + "  - { name: two, l3-vni: 6000, vnis: [3000] }\n"))
        XCTAssertEqual(added.vrfsToSet.map(\.name), ["two"])
        XCTAssertEqual(added.gatewaysToSet.map(\.vni), [VNI(3000)!])
        XCTAssertTrue(added.gatewaysToClear.isEmpty)
        XCTAssertEqual(added.summary.suffix(2), ["VRF two (L3 VNI 6000): set", "VNI 3000: gateway set"])
        let bare = """
            vtep: { ipv4: 198.18.0.1 }
            vnis:
              - vni: 1000
              - vni: 2000
              - vni: 3000

            """
        let removed = try old.reloadPlan(to: try SwitchConfig.parse(yaml: bare))
        XCTAssertEqual(removed.vrfsToRemove, [VNI(5000)!])
        XCTAssertEqual(removed.gatewaysToClear, [VNI(1000)!, VNI(2000)!])
        XCTAssertTrue(removed.gatewaysToSet.isEmpty)
        XCTAssertTrue(removed.summary.contains("VNI 1000: gateway removed"), "\(removed.summary)")
        let other = try SwitchConfig.parse(yaml: base.replacingOccurrences(of: "  - vni: 3000", with: "  - { vni: 3000, mac-limit: 10 }"))
        XCTAssertEqual(try old.reloadPlan(to: other).vnisToSet.map(\.vni), [VNI(3000)!], "other VNI changes still reload")
    }

    func testReadmeExampleHasAVRF() throws {
        let readme = try String(contentsOfFile: ConfigTests.sourceDirectory + "/README.md", encoding: .utf8)
        let yaml = readme.components(separatedBy: "```yaml\n")[1].components(separatedBy: "```")[0]
        let config = try SwitchConfig.parse(yaml: yaml)
        XCTAssertEqual(config.vrfs.map(\.name), ["tenant1"])
        XCTAssertNotNil(config.vnis.first?.gateway)
    }
}
