import Foundation
@testable import VXConfig
import VXCore
import XCTest

@testable import VXSwitch

final class ConfigTests: XCTestCase {
    static let example = """
        vtep:
          ipv4: 198.18.0.1
          ipv6: fd00:18::1
          udp-port: 4789
          udp6-zero-checksum: false
          source-port-range: 49152-65535
          verify-udp-checksum: { ipv4: true }
        uplink:
          interface: ul0
          queues: [0, 1]
          mtu: 1550
        vnis:
          - vni: 1000
            flood: [198.18.0.2, "fd00:18::2"]
            mac-limit: 4096
            learn-remote: true
          - vni: 2000
            carry-tagged: true
        ports:
          - name: tap101i0
            vni: 1000
            complete-checksums: false
          - name: trunk0
            trunk: { 100: 1000, 200: 2000 }
            native-vni: 1000
        datapath:
          workers: [1, 2]
          ring-size: 2048
          frame-size: 2048
          frames: 8192
          batch-size: 32
          poll: busy
          attach: native
          numa: 0
        fdb:
          aging-time: 120
          static:
            - { vni: 1000, mac: "02:00:00:00:00:01", port: tap101i0 }
            - { vni: 1000, mac: 02:00:00:00:00:02, vtep: 198.18.0.2 }
        control:
          socket: /run/vxsw/vxsw.sock
          metrics: "[::1]:9469"
        bgp:
          asn: 65001
          router-id: 198.18.0.1
          peers:
            - { address: 198.18.0.2, remote-as: 65002 }
            - { address: "fd00:18::2", remote-as: internal, port: 1179 }
          vnis:
            - vni: 1000
              rd: 198.18.0.1:1000
              route-targets: { import: ["*:1000"], export: ["65001:1000"] }
          dup-addr-detection: { max-moves: 3, time: 60, freeze: permanent }
        """

    static let expected = SwitchConfig(
        vtep: .init(ipv4: IPAddress("198.18.0.1"), ipv6: IPAddress("fd00:18::1"), verifyUDPChecksumV4: true),
        uplink: .init(interface: "ul0", queues: .list([0, 1]), mtu: .fixed(1550)),
        vnis: [
            .init(vni: VNI(1000)!, flood: [IPAddress("198.18.0.2")!, IPAddress("fd00:18::2")!], macLimit: 4096),
            .init(vni: VNI(2000)!, carryTagged: true),
        ],
        ports: [
            .init(name: "tap101i0", mode: .access(VNI(1000)!), completeChecksums: false),
            .init(name: "trunk0", mode: .trunk(vlans: [100: VNI(1000)!, 200: VNI(2000)!], native: VNI(1000)!)),
        ],
        datapath: .init(
            workers: [1, 2], ringSize: 2048, frameSize: 2048, frames: 8192, batchSize: 32, poll: .busy,
            attach: .native, numaNode: 0),
        fdb: .init(
            agingTime: 120,
            staticEntries: [
                .init(vni: VNI(1000)!, mac: MACAddress(2, 0, 0, 0, 0, 1), target: .port("tap101i0")),
                .init(vni: VNI(1000)!, mac: MACAddress(2, 0, 0, 0, 0, 2), target: .vtep(IPAddress("198.18.0.2")!)),
            ]),
        control: .init(socket: "/run/vxsw/vxsw.sock", metrics: ListenAddress("[::1]:9469")),
        bgp: BGPConfig(
            asn: 65001, routerID: IPAddress("198.18.0.1")!,
            peers: [
                .init(address: IPAddress("198.18.0.2")!, remoteAS: .asn(65002)),
                .init(address: IPAddress("fd00:18::2")!, remoteAS: .internal, port: 1179),
            ],
            vnis: [
                .init(vni: VNI(1000)!, rd: "198.18.0.1:1000", importTargets: ["*:1000"], exportTargets: ["65001:1000"])
            ],
            dupAddrDetection: .init(maxMoves: 3, time: 60, freeze: .permanent)
        ))

    func testExampleParsesToExpectedStruct() throws {
        XCTAssertEqual(try SwitchConfig.parse(yaml: Self.example), Self.expected)
    }

    func testMinimalConfigGetsDefaults() throws {
        let config = try SwitchConfig.parse(yaml: "vtep: { ipv4: 10.0.0.1 }\n")
        XCTAssertEqual(config, SwitchConfig(vtep: .init(ipv4: IPAddress("10.0.0.1"))))
        XCTAssertEqual(config.vtep.udpPort, 4789)
        XCTAssertEqual(config.vtep.sourcePortRange, 49152...65535)
        XCTAssertFalse(config.vtep.udp6ZeroChecksum)
        XCTAssertFalse(config.vtep.verifyUDPChecksumV4)
        XCTAssertTrue(config.vtep.verifyUDPChecksumV6)
        XCTAssertEqual(config.datapath.ringSize, 4096)
        XCTAssertEqual(config.datapath.poll, .adaptive)
        XCTAssertEqual(config.fdb.agingTime, 300)
        XCTAssertEqual(config.control.metrics, ListenAddress("127.0.0.1:9469"))
        XCTAssertNil(config.uplink)
        XCTAssertNil(config.bgp)
    }

    /// FRR's `dup-addr-detection`: on with max-moves 5, time 180, no freeze unless told; FRR's ranges.
    func testDupAddrDetection() throws {
        func dad(_ text: String?) throws -> BGPConfig.DupAddrDetection {
            let yaml = "vtep: { ipv4: 10.0.0.1 }\nbgp:\n  asn: 65001\n  router-id: 10.0.0.1\n" + (text.map { "  dup-addr-detection: \($0)\n" } ?? "")
            return try SwitchConfig.parse(yaml: yaml).bgp!.dupAddrDetection
        }
        XCTAssertEqual(try dad(nil), .init(enabled: true, maxMoves: 5, time: 180, freeze: .off))
        XCTAssertEqual(try dad("false").enabled, false)
        XCTAssertEqual(try dad("off").enabled, false)
        XCTAssertEqual(try dad("{ freeze: 300 }"), .init(freeze: .seconds(300)))
        XCTAssertEqual(try dad("{ max-moves: 2, freeze: false }"), .init(maxMoves: 2))
        for bad in ["{ max-moves: 1 }", "{ time: 1801 }", "{ freeze: 10 }", "{ freeze: sometimes }", "{ moves: 3 }"] {
            XCTAssertThrowsError(try dad(bad), bad) { XCTAssertTrue("\($0)".contains("dup-addr-detection"), "\($0)") }
        }
        for value in [BGPConfig.DupAddrDetection(enabled: false), .init(freeze: .seconds(60)), .init(maxMoves: 9, time: 30)] {
            var config = Self.expected
            config.bgp?.dupAddrDetection = value
            let data = try JSONEncoder().encode(config)
            XCTAssertEqual(try JSONDecoder().decode(SwitchConfig.self, from: data).bgp?.dupAddrDetection, value)
        }
    }

    /// Storm control: defaults for every VM port, a port's own, off; bad values name the field.
    func testStormControl() throws {
        let base = "vtep: { ipv4: 10.0.0.1 }\nvnis: [{ vni: 1000 }]\n"
        let defaults = try SwitchConfig.parse(yaml: base)
        XCTAssertEqual(defaults.stormControl, StormLimits(broadcast: 2_000, multicast: 5_000, unknownUnicast: 10_000))
        let set = try SwitchConfig.parse(yaml: base + """
            storm-control: { broadcast: 100, unknown-unicast: 0 }
            ports:
              - { name: tap1, vni: 1000, storm-control: off }
              - { name: tap2, vni: 1000, storm-control: { multicast: 7 } }
              - { name: tap3, vni: 1000 }
            """)
        XCTAssertEqual(set.stormControl, StormLimits(broadcast: 100, multicast: 5_000, unknownUnicast: 0))
        XCTAssertEqual(set.ports.map(\.stormControl), [StormLimits.unlimited, StormLimits(broadcast: 2_000, multicast: 7, unknownUnicast: 10_000), nil])
        let data = try JSONEncoder().encode(set)
        XCTAssertEqual(try JSONDecoder().decode(SwitchConfig.self, from: data), set, "JSON round trip")
        for bad in ["storm-control: { broadcast: -1 }", "storm-control: { floods: 3 }", "storm-control: sometimes"] {
            XCTAssertThrowsError(try SwitchConfig.parse(yaml: base + bad + "\n"), bad) {
                XCTAssertTrue("\($0)".contains("storm-control"), "\($0)")
            }
        }
        XCTAssertThrowsError(try defaults.reloadPlan(to: set), "storm-control cannot change while running") {
            XCTAssertTrue("\($0)".contains("storm-control"), "\($0)")
        }
    }

    func testMetricsOffAndUnquotedWordsStayStrings() throws {
        let config = try SwitchConfig.parse(
            yaml: """
                vtep: { ipv4: 10.0.0.1 }
                control: { metrics: off }
                uplink: { interface: eth0, queues: all, mtu: auto }
                """)
        XCTAssertNil(config.control.metrics)
        XCTAssertEqual(config.uplink, .init(interface: "eth0", queues: .all, mtu: .auto))
    }

    func testReadmeExampleParses() throws {
        let readme = try String(contentsOfFile: Self.sourceDirectory + "/README.md", encoding: .utf8)
        let parts = readme.components(separatedBy: "```yaml\n")
        XCTAssertGreaterThan(parts.count, 1)
        let yaml = parts[1].components(separatedBy: "```")[0]
        let config = try SwitchConfig.parse(yaml: yaml)
        XCTAssertEqual(config.vnis.count, 2)
        XCTAssertNotNil(config.bgp)
    }

    func testLoadFromFile() throws {
        let path = NSTemporaryDirectory() + "vxsw-config-\(getpid()).yaml"
        try Self.example.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        XCTAssertEqual(try SwitchConfig.load(path: path), Self.expected)
        XCTAssertThrowsError(try SwitchConfig.load(path: path + ".missing")) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot read "), "\(error)")
        }
    }

    func testJSONRoundTrip() throws {
        let data = try JSONEncoder().encode(Self.expected)
        XCTAssertEqual(try JSONDecoder().decode(SwitchConfig.self, from: data), Self.expected)
        let tree = try JSONDecoder().decode(JSONValue.self, from: data)
        XCTAssertEqual(tree["ports"]?[1]?["trunk"]?["200"], 2000)
        XCTAssertEqual(tree["vtep"]?["udp-port"], 4789)
        XCTAssertEqual(tree["vnis"]?[1]?["carry-tagged"], .bool(true))
        XCTAssertEqual(tree["vnis"]?[0]?["carry-tagged"], .bool(false))
    }

    func testCodeBuiltConfigValidates() throws {
        var config = Self.expected
        XCTAssertNoThrow(try config.validate())
        config.ports.append(.init(name: "tap9", mode: .access(VNI(3000)!)))
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertEqual("\(error)", "ports[2].vni: VNI 3000 is not declared in vnis")
        }
    }

    static var sourceDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/VXConfig").path
    }
}

final class ConfigChangeTests: XCTestCase {
    private let config = ConfigTests.expected

    func testPortAddAndRemove() throws {
        let added = try config.adding(.init(name: "tap102i0", mode: .access(VNI(2000)!)))
        XCTAssertEqual(added.port(named: "tap102i0")?.vnis, [VNI(2000)!])
        XCTAssertEqual(try added.removingPort(named: "tap102i0"), config)

        XCTAssertThrowsError(try config.adding(.init(name: "tap101i0", mode: .access(VNI(1000)!)))) { error in
            XCTAssertTrue("\(error)".hasPrefix("ports[2].name: port 'tap101i0' is configured twice"), "\(error)")
        }
        XCTAssertThrowsError(try config.removingPort(named: "tap101i0")) { error in
            XCTAssertEqual("\(error)", "fdb.static[0]: static entry 02:00:00:00:00:01 in VNI 1000 uses port 'tap101i0'")
        }
        XCTAssertThrowsError(try config.removingPort(named: "nope"))
    }

    func testStaticEntryAddAndRemove() throws {
        let entry = SwitchConfig.FDB.StaticEntry(
            vni: VNI(2000)!, mac: MACAddress(2, 0, 0, 0, 0, 9), target: .port("trunk0"))
        let added = try config.adding(entry)
        XCTAssertEqual(added.fdb.staticEntries.last, entry)
        XCTAssertEqual(try added.removingStaticEntry(vni: entry.vni, mac: entry.mac), config)
        XCTAssertThrowsError(try config.adding(config.fdb.staticEntries[0])) { error in
            XCTAssertTrue("\(error)".contains("is listed twice"), "\(error)")
        }
        XCTAssertThrowsError(try config.removingStaticEntry(vni: entry.vni, mac: entry.mac))
    }
}
