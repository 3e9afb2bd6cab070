import VXCore

/// JSON uses the YAML file's field names and shapes, so `show config --json` output can be read back
/// (decoding validates like `parse(yaml:)`).
extension SwitchConfig: Codable {
    public init(from decoder: Decoder) throws {
        try self.init(tree: try JSONValue(from: decoder), reader: ConfigReader(lines: [:]))
    }

    public func encode(to encoder: Encoder) throws { try jsonValue.encode(to: encoder) }

    /// The config as the tree a file would hold (defaults written out).
    public var jsonValue: JSONValue {
        var root: [String: JSONValue] = [
            "vtep": vtep.jsonValue,
            "vnis": .array(vnis.map(\.jsonValue)),
            "ports": .array(ports.map(\.jsonValue)),
            "datapath": datapath.jsonValue,
            "fdb": ["aging-time": .int(Int64(fdb.agingTime)), "max-entries": .int(Int64(fdb.maxEntries)),
                    "max-neighbors": .int(Int64(fdb.maxNeighbors)),
                    "vni-mac-limit": Self.macLimitJSON(fdb.vniMACLimit), "port-mac-limit": Self.macLimitJSON(fdb.portMACLimit),
                    "static": .array(fdb.staticEntries.map(\.jsonValue))],
            "control": [
                "socket": .string(control.socket), "metrics": .string(control.metrics?.description ?? "off"),
                "state-file": .string(control.stateFile ?? "off"),
            ],
        ]
        if let uplink { root["uplink"] = uplink.jsonValue }
        if let bgp { root["bgp"] = bgp.jsonValue }
        if !vrfs.isEmpty { root["vrfs"] = .array(vrfs.map(\.jsonValue)) }
        root["storm-control"] = stormControl.jsonValue
        return .object(root)
    }
}

extension JSONValue {
    init(_ ip: IPAddress) { self = .string(ip.description) }
    init(_ vni: VNI) { self = .int(Int64(vni.value)) }
    init<T: BinaryInteger>(_ n: T) { self = .int(Int64(n)) }
}

extension SwitchConfig.VTEP {
    var jsonValue: JSONValue {
        var o: [String: JSONValue] = [
            "udp-port": JSONValue(udpPort), "udp6-zero-checksum": .bool(udp6ZeroChecksum),
            "verify-udp-checksum": .object(["ipv4": .bool(verifyUDPChecksumV4), "ipv6": .bool(verifyUDPChecksumV6)]),
            "source-port-range": .string("\(sourcePortRange.lowerBound)-\(sourcePortRange.upperBound)"),
            "accept": .string(admission.accept.rawValue), "max-learned": JSONValue(admission.maxLearned),
        ]
        if let ipv4 { o["ipv4"] = JSONValue(ipv4) }
        if let ipv6 { o["ipv6"] = JSONValue(ipv6) }
        return .object(o)
    }
}

extension SwitchConfig.Uplink {
    var jsonValue: JSONValue {
        let queues: JSONValue, mtu: JSONValue
        switch self.queues {
        case .all: queues = "all"
        case .list(let list): queues = .array(list.map { JSONValue($0) })
        }
        switch self.mtu {
        case .auto: mtu = "auto"
        case .fixed(let n): mtu = JSONValue(n)
        }
        return ["interface": .string(interface), "queues": queues, "mtu": mtu]
    }
}

extension SwitchConfig.VNIConfig {
    var jsonValue: JSONValue {
        var o: [String: JSONValue] = [
            "vni": JSONValue(vni), "flood": .array(flood.map { JSONValue($0) }),
            "mac-limit": SwitchConfig.macLimitJSON(macLimit), "learn-remote": .bool(learnRemote), "carry-tagged": .bool(carryTagged),
        ]
        if let gateway { o["gateway"] = gateway.jsonValue }
        return .object(o)
    }
}

extension SwitchConfig.GatewayConfig {
    var jsonValue: JSONValue {
        var o: [String: JSONValue] = ["mac": .string(mac.description)]
        if let ipv4 { o["ipv4"] = .string(ipv4.description) }
        if let ipv6 { o["ipv6"] = .string(ipv6.description) }
        return .object(o)
    }
}

extension SwitchConfig.VRFConfig {
    var jsonValue: JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(name), "l3-vni": JSONValue(l3VNI), "router-mac": .string(routerMAC?.description ?? "auto"),
            "vnis": .array(vnis.map { JSONValue($0) }),
        ]
        if advertiseSubnets { o["advertise-subnets"] = .bool(true) }
        if !advertisePrefixes.isEmpty { o["advertise-prefixes"] = .array(advertisePrefixes.map { .string($0.description) }) }
        var rts: [String: JSONValue] = [:]
        if let i = importTargets { rts["import"] = .array(i.map { .string($0) }) }
        if let e = exportTargets { rts["export"] = .array(e.map { .string($0) }) }
        if !rts.isEmpty { o["route-targets"] = .object(rts) }
        return .object(o)
    }
}

extension StormLimits {
    var jsonValue: JSONValue {
        ["broadcast": JSONValue(broadcast), "multicast": JSONValue(multicast), "unknown-unicast": JSONValue(unknownUnicast)]
    }
}

extension SwitchConfig.Port {
    var jsonValue: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name), "complete-checksums": .bool(completeChecksums),
                                      "io": .string(io.rawValue)]
        if let stormControl { o["storm-control"] = stormControl.jsonValue }
        if let macLimit { o["mac-limit"] = SwitchConfig.macLimitJSON(macLimit) }
        switch mode {
        case .access(let vni):
            o["vni"] = JSONValue(vni)
        case .trunk(let vlans, let native):
            o["trunk"] = .object(Dictionary(uniqueKeysWithValues: vlans.map { (String($0.key), JSONValue($0.value)) }))
            if let native { o["native-vni"] = JSONValue(native) }
        }
        return .object(o)
    }
}

extension SwitchConfig.Datapath {
    var jsonValue: JSONValue {
        [
            "workers": .array(workers.map { JSONValue($0) }), "ring-size": JSONValue(ringSize),
            "frame-size": JSONValue(frameSize), "frames": JSONValue(frames), "batch-size": JSONValue(batchSize),
            "poll": .string(poll.rawValue), "attach": .string(attach.rawValue),
            "numa": numaNode.map { JSONValue($0) } ?? "auto", "fast-path": fastPath == .auto ? "auto" : .bool(fastPath == .on),
            "busy-poll": busyPoll.map {
                ["timeout-us": JSONValue($0.timeoutMicroseconds), "budget": JSONValue($0.budget), "prefer": .bool($0.prefer)]
            } ?? "off",
            "tunnel-gso": .bool(tunnelGSO),
        ]
    }
}

extension SwitchConfig.FDB.StaticEntry {
    var jsonValue: JSONValue {
        var o: [String: JSONValue] = ["vni": JSONValue(vni), "mac": .string(mac.description)]
        switch target {
        case .port(let name): o["port"] = .string(name)
        case .vtep(let ip): o["vtep"] = JSONValue(ip)
        }
        return .object(o)
    }
}

extension BGPConfig {
    var jsonValue: JSONValue {
        let peers: [JSONValue] = peers.map { peer in
            let remoteAS: JSONValue
            if case .asn(let n) = peer.remoteAS { remoteAS = JSONValue(n) } else { remoteAS = .string(peer.remoteAS.description) }
            return ["address": JSONValue(peer.address), "remote-as": remoteAS, "port": JSONValue(peer.port)]
        }
        let overrides: [JSONValue] = vnis.map { o in
            var v: [String: JSONValue] = ["vni": JSONValue(o.vni)]
            if let rd = o.rd { v["rd"] = .string(rd) }
            var rts: [String: JSONValue] = [:]
            if let i = o.importTargets { rts["import"] = .array(i.map { .string($0) }) }
            if let e = o.exportTargets { rts["export"] = .array(e.map { .string($0) }) }
            if !rts.isEmpty { v["route-targets"] = .object(rts) }
            return .object(v)
        }
        let dad: JSONValue
        if dupAddrDetection.enabled {
            let freeze: JSONValue
            switch dupAddrDetection.freeze {
            case .off: freeze = .bool(false)
            case .permanent: freeze = .string("permanent")
            case .seconds(let n): freeze = JSONValue(n)
            }
            dad = ["max-moves": JSONValue(dupAddrDetection.maxMoves), "time": JSONValue(dupAddrDetection.time), "freeze": freeze]
        } else {
            dad = .bool(false)
        }
        return [
            "asn": JSONValue(asn), "router-id": JSONValue(routerID), "peers": .array(peers), "vnis": .array(overrides),
            "dup-addr-detection": dad,
        ]
    }
}
