import Foundation
import VXCore
import Yams

extension SwitchConfig {
    /// Reads and validates the YAML file at `path`.
    public static func load(path: String) throws -> SwitchConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(message: "cannot read \(path): \((error as NSError).localizedDescription)")
        }
        return try parse(yaml: text)
    }

    /// Parses and validates a YAML document.
    public static func parse(yaml: String) throws -> SwitchConfig {
        let tree = try YAMLTree(yaml: yaml)
        return try SwitchConfig(tree: tree.value, reader: ConfigReader(lines: tree.lines))
    }

    /// Reads a config tree (from YAML or JSON) and validates it.
    init(tree: JSONValue, reader: ConfigReader) throws {
        let root = try reader.root(tree).mapping(
            allowed: ["vtep", "uplink", "vnis", "ports", "datapath", "fdb", "control", "bgp", "vrfs", "storm-control"])
        self.init(
            vtep: try Self.readVTEP(root.require("vtep")),
            uplink: try root["uplink"].map(Self.readUplink),
            vnis: try root["vnis"]?.list().map(Self.readVNI) ?? [],
            ports: try root["ports"]?.list().map(Self.readPort) ?? [],
            datapath: try root["datapath"].map(Self.readDatapath) ?? Datapath(),
            fdb: try root["fdb"].map(Self.readFDB) ?? FDB(),
            control: try root["control"].map(Self.readControl) ?? Control(),
            bgp: try root["bgp"].map(BGPConfig.read),
            vrfs: try root["vrfs"]?.list().map(Self.readVRF) ?? [])
        stormControl = try root["storm-control"].map(Self.readStormControl) ?? Self.defaultStormControl
        try validate(reader)
    }

    private static func readVTEP(_ field: Field) throws -> VTEP {
        let m = try field.mapping(allowed: ["ipv4", "ipv6", "udp-port", "udp6-zero-checksum", "source-port-range",
                                            "verify-udp-checksum", "accept", "max-learned"])
        var vtep = VTEP()
        vtep.ipv4 = try m["ipv4"]?.ip(.v4)
        vtep.ipv6 = try m["ipv6"]?.ip(.v6)
        vtep.udpPort = try m["udp-port"]?.int(in: 1...UInt16.max) ?? vtep.udpPort
        vtep.udp6ZeroChecksum = try m["udp6-zero-checksum"]?.bool() ?? vtep.udp6ZeroChecksum
        if let verify = try m["verify-udp-checksum"]?.mapping(allowed: ["ipv4", "ipv6"]) {
            vtep.verifyUDPChecksumV4 = try verify["ipv4"]?.bool() ?? vtep.verifyUDPChecksumV4
            vtep.verifyUDPChecksumV6 = try verify["ipv6"]?.bool() ?? vtep.verifyUDPChecksumV6
        }
        if let range = m["source-port-range"] {
            let text = try range.string()
            let parts = text.split(separator: "-").map { UInt16($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let low = parts[0], let high = parts[1], low >= 1, low <= high else {
                throw range.error("'\(text)' is not a port range LOW-HIGH within 1-65535")
            }
            vtep.sourcePortRange = low...high
        }
        vtep.admission.accept = try m["accept"]?.word() ?? vtep.admission.accept
        vtep.admission.maxLearned = try m["max-learned"]?.int(in: 1...Self.maxLearnedVTEPs) ?? vtep.admission.maxLearned
        return vtep
    }

    private static func readUplink(_ field: Field) throws -> Uplink {
        let m = try field.mapping(allowed: ["interface", "queues", "mtu"])
        var uplink = Uplink(interface: try m.require("interface").string())
        if let queues = m["queues"] {
            if case .array = queues.value {
                uplink.queues = .list(try queues.list().map { try $0.int(in: 0...UInt32.max) })
            } else if try queues.string() == "all" {
                uplink.queues = .all
            } else {
                throw queues.error("expected 'all' or a list of queue numbers")
            }
        }
        if let mtu = m["mtu"] {
            if case .int = mtu.value {
                uplink.mtu = .fixed(try mtu.int(in: 0...Int.max))
            } else if try mtu.string() == "auto" {
                uplink.mtu = .auto
            } else {
                throw mtu.error("expected 'auto' or a number")
            }
        }
        return uplink
    }

    private static func readVNI(_ field: Field) throws -> VNIConfig {
        let m = try field.mapping(allowed: ["vni", "flood", "mac-limit", "learn-remote", "carry-tagged", "gateway"])
        var vni = VNIConfig(vni: try m.require("vni").vni())
        vni.flood = try m["flood"]?.list().map { try $0.ip() } ?? []
        vni.macLimit = try readMACLimit(m["mac-limit"])
        vni.learnRemote = try m["learn-remote"]?.bool() ?? vni.learnRemote
        vni.carryTagged = try m["carry-tagged"]?.bool() ?? vni.carryTagged
        vni.gateway = try m["gateway"].map(readGateway)
        return vni
    }

    private static func readGateway(_ field: Field) throws -> GatewayConfig {
        let m = try field.mapping(allowed: ["ipv4", "ipv6", "mac"])
        var gateway = GatewayConfig()
        gateway.ipv4 = try m["ipv4"]?.interfaceAddress()
        gateway.ipv6 = try m["ipv6"]?.interfaceAddress()
        gateway.mac = try m["mac"]?.mac() ?? gateway.mac
        return gateway
    }

    private static func readVRF(_ field: Field) throws -> VRFConfig {
        let m = try field.mapping(allowed: ["name", "l3-vni", "router-mac", "route-targets", "vnis", "advertise-subnets", "advertise-prefixes"])
        var vrf = VRFConfig(name: try m.require("name").string(), l3VNI: try m.require("l3-vni").vni())
        if let mac = m["router-mac"], (try? mac.string()) != "auto" { vrf.routerMAC = try mac.mac() }
        if let rts = try m["route-targets"]?.mapping(allowed: ["import", "export"]) {
            vrf.importTargets = try rts["import"]?.list().map { try $0.string() }
            vrf.exportTargets = try rts["export"]?.list().map { try $0.string() }
        }
        vrf.vnis = try m["vnis"]?.list().map { try $0.vni() } ?? []
        vrf.advertiseSubnets = try m["advertise-subnets"]?.bool() ?? false
        vrf.advertisePrefixes = try m["advertise-prefixes"]?.list().map { item in
            let text = try item.string()
            guard let (address, length) = IPPrefix.parseInterface(text), let prefix = IPPrefix(address, length: length) else {
                throw item.error("'\(text)' is not a prefix (10.10.0.0/16, fd00:10::/48)")
            }
            guard prefix.address == address else { throw item.error("'\(text)' has host bits set (the prefix is \(prefix))") }
            return prefix
        } ?? []
        return vrf
    }

    static func readPort(_ field: Field) throws -> Port {
        let m = try field.mapping(allowed: ["name", "vni", "trunk", "native-vni", "complete-checksums", "io", "storm-control",
                                            "mac-limit"])
        let name = try m.require("name").string()
        let mode: Port.Mode
        switch (m["vni"], m["trunk"]) {
        case (let vni?, nil):
            if m["native-vni"] != nil { throw field.error("'native-vni' applies to trunk ports only") }
            mode = .access(try vni.vni())
        case (nil, let trunk?):
            var vlans: [UInt16: VNI] = [:]
            for (key, value) in try trunk.entries() {
                guard let vlan = UInt16(key) else { throw trunk.error("'\(key)' is not a VLAN id (1..4094)") }
                vlans[vlan] = try value.vni()
            }
            mode = .trunk(vlans: vlans, native: try m["native-vni"]?.vni())
        case (.some, .some):
            throw field.error("has both 'vni' (access port) and 'trunk'; choose one")
        case (nil, nil):
            throw field.error("needs 'vni' (access port) or 'trunk' (VLAN id -> VNI)")
        }
        var io = Port.IO.auto
        if let f = m["io"] {
            let text = try f.string()
            guard let value = Port.IO(rawValue: text) else {
                throw f.error("'\(text)' is not one of auto, xdp, packet")
            }
            io = value
        }
        return Port(name: name, mode: mode, completeChecksums: try m["complete-checksums"]?.bool() ?? true, io: io,
                    stormControl: try m["storm-control"].map(readStormControl), macLimit: try readMACLimit(m["mac-limit"]))
    }

    /// `off`, or `{ broadcast, multicast, unknown-unicast }` in frames per second (0: that class
    /// unlimited; a class left out keeps the default).
    static func readStormControl(_ field: Field) throws -> StormLimits {
        if (try? field.string()) == "off" { return .unlimited }
        if case .bool(false) = field.value { return .unlimited }
        let m = try field.mapping(allowed: ["broadcast", "multicast", "unknown-unicast"])
        let d = defaultStormControl
        return StormLimits(broadcast: try m["broadcast"]?.int(in: 0...100_000_000) ?? d.broadcast,
                           multicast: try m["multicast"]?.int(in: 0...100_000_000) ?? d.multicast,
                           unknownUnicast: try m["unknown-unicast"]?.int(in: 0...100_000_000) ?? d.unknownUnicast)
    }

    private static func readDatapath(_ field: Field) throws -> Datapath {
        let m = try field.mapping(allowed: [
            "workers", "ring-size", "frame-size", "frames", "batch-size", "poll", "attach", "numa", "fast-path",
            "busy-poll", "tunnel-gso",
        ])
        var d = Datapath()
        d.workers = try m["workers"]?.list().map { try $0.int(in: 0...Int.max) } ?? d.workers
        d.ringSize = try m["ring-size"]?.int(in: 0...Int.max) ?? d.ringSize
        d.frameSize = try m["frame-size"]?.int(in: 0...Int.max) ?? d.frameSize
        d.frames = try m["frames"]?.int(in: 0...Int.max) ?? d.frames
        d.batchSize = try m["batch-size"]?.int(in: 0...Int.max) ?? d.batchSize
        d.poll = try m["poll"]?.word() ?? d.poll
        d.attach = try m["attach"]?.word() ?? d.attach
        d.tunnelGSO = try m["tunnel-gso"]?.bool() ?? d.tunnelGSO
        if let fast = m["fast-path"] {
            if case .bool(let on) = fast.value {
                d.fastPath = on ? .on : .off
            } else if (try? fast.string()) == "auto" {
                d.fastPath = .auto
            } else {
                throw fast.error("expected auto, true or false")
            }
        }
        if let busy = m["busy-poll"] {
            if case .object = busy.value {
                let b = try busy.mapping(allowed: ["timeout-us", "budget", "prefer"])
                var poll = Datapath.BusyPoll()
                poll.timeoutMicroseconds = try b["timeout-us"]?.int(in: 0...Int.max) ?? poll.timeoutMicroseconds
                poll.budget = try b["budget"]?.int(in: 0...Int.max) ?? poll.budget
                poll.prefer = try b["prefer"]?.bool() ?? poll.prefer
                d.busyPoll = poll
            } else if case .bool(false) = busy.value {
                d.busyPoll = nil
            } else if (try? busy.string()) == "off" {
                d.busyPoll = nil
            } else {
                throw busy.error("expected off or a mapping { timeout-us, budget, prefer }")
            }
        }
        if let numa = m["numa"] {
            if case .int = numa.value {
                d.numaNode = try numa.int(in: 0...Int.max)
            } else if try numa.string() != "auto" {
                throw numa.error("expected 'auto' or a NUMA node number")
            }
        }
        return d
    }

    private static func readFDB(_ field: Field) throws -> FDB {
        let m = try field.mapping(allowed: ["aging-time", "static", "max-entries", "max-neighbors", "vni-mac-limit",
                                            "port-mac-limit"])
        var fdb = FDB()
        fdb.agingTime = try m["aging-time"]?.int(in: 0...Int.max) ?? fdb.agingTime
        fdb.maxEntries = try m["max-entries"]?.int(in: 0...Int.max) ?? fdb.maxEntries
        fdb.maxNeighbors = try m["max-neighbors"]?.int(in: 0...Int.max) ?? fdb.maxNeighbors
        fdb.vniMACLimit = try readMACLimit(m["vni-mac-limit"])
        fdb.portMACLimit = try readMACLimit(m["port-mac-limit"])
        fdb.staticEntries = try m["static"]?.list().map(readStaticEntry) ?? []
        return fdb
    }

    static func readStaticEntry(_ field: Field) throws -> FDB.StaticEntry {
        let m = try field.mapping(allowed: ["vni", "mac", "port", "vtep"])
        let target: FDB.StaticEntry.Target
        switch (m["port"], m["vtep"]) {
        case (let port?, nil): target = .port(try port.string())
        case (nil, let vtep?): target = .vtep(try vtep.ip())
        case (.some, .some): throw field.error("has both 'port' and 'vtep'; choose one")
        case (nil, nil): throw field.error("needs 'port' (local) or 'vtep' (remote)")
        }
        return FDB.StaticEntry(vni: try m.require("vni").vni(), mac: try m.require("mac").mac(), target: target)
    }

    private static func readControl(_ field: Field) throws -> Control {
        let m = try field.mapping(allowed: ["socket", "metrics", "state-file"])
        var control = Control()
        control.socket = try m["socket"]?.string() ?? control.socket
        if let stateFile = m["state-file"] {
            let text = try stateFile.string()
            control.stateFile = text == "off" ? nil : text
        }
        if let metrics = m["metrics"] {
            let text = try metrics.string()
            if text == "off" {
                control.metrics = nil
            } else {
                guard let address = ListenAddress(text) else {
                    throw metrics.error("'\(text)' is not ADDRESS:PORT ([IPv6]:PORT) or 'off'")
                }
                control.metrics = address
            }
        }
        return control
    }
}

extension BGPConfig {
    static func read(_ field: Field) throws -> BGPConfig {
        let m = try field.mapping(allowed: ["asn", "router-id", "peers", "vnis", "dup-addr-detection"])
        return BGPConfig(
            asn: try m.require("asn").int(in: 1...UInt32.max),
            routerID: try m.require("router-id").ip(.v4),
            peers: try m["peers"]?.list().map(readPeer) ?? [],
            vnis: try m["vnis"]?.list().map(readOverride) ?? [],
            dupAddrDetection: try m["dup-addr-detection"].map(readDupAddrDetection) ?? .init())
    }

    /// `false` | `off` (no detection), `true`, or `{ max-moves, time, freeze }` with FRR's ranges.
    private static func readDupAddrDetection(_ field: Field) throws -> DupAddrDetection {
        var d = DupAddrDetection()
        switch field.value {
        case .bool(let on): d.enabled = on; return d
        case .string("off"): d.enabled = false; return d
        case .string("on"): return d
        default: break
        }
        let m = try field.mapping(allowed: ["max-moves", "time", "freeze"])
        d.maxMoves = try m["max-moves"]?.int(in: 2...1000) ?? d.maxMoves
        d.time = try m["time"]?.int(in: 2...1800) ?? d.time
        if let freeze = m["freeze"] {
            switch freeze.value {
            case .bool(false): d.freeze = .off
            case .string("off"): d.freeze = .off
            case .string("permanent"): d.freeze = .permanent
            case .int: d.freeze = .seconds(try freeze.int(in: 30...3600))
            default: throw freeze.error("expected false, permanent or seconds (30..3600)")
            }
        }
        return d
    }

    private static func readPeer(_ field: Field) throws -> Peer {
        let m = try field.mapping(allowed: ["address", "remote-as", "port"])
        let asField = try m.require("remote-as")
        let remoteAS: RemoteAS
        switch asField.value {
        case .string("internal"): remoteAS = .internal
        case .string("external"): remoteAS = .external
        case .int: remoteAS = .asn(try asField.int(in: 1...UInt32.max))
        default: throw asField.error("expected an AS number, 'internal' or 'external'")
        }
        return Peer(
            address: try m.require("address").ip(), remoteAS: remoteAS,
            port: try m["port"]?.int(in: 1...UInt16.max) ?? 179)
    }

    private static func readOverride(_ field: Field) throws -> VNIOverride {
        let m = try field.mapping(allowed: ["vni", "rd", "route-targets"])
        var o = VNIOverride(vni: try m.require("vni").vni(), rd: try m["rd"]?.string())
        if let rts = try m["route-targets"]?.mapping(allowed: ["import", "export"]) {
            o.importTargets = try rts["import"]?.list().map { try $0.string() }
            o.exportTargets = try rts["export"]?.list().map { try $0.string() }
        }
        return o
    }
}
