import VXCore

extension SwitchConfig {
    /// Checks the rules a parsed file is held to; for configs built in code (the lab).
    public func validate() throws { try validate(ConfigReader(lines: [:])) }

    /// Throws the first problem found, naming its field.
    func validate(_ reader: ConfigReader) throws {
        let v = Validator(config: self, reader: reader)
        try v.checkVTEP()
        try v.checkUplink()
        try v.checkVNIs()
        try v.checkPorts()
        try v.checkDatapath()
        try v.checkFDB()
        try v.checkControl()
        try v.checkBGP()
        try v.checkVRFs()
    }
}

/// The cross-field rules, one method per section.
private struct Validator {
    let config: SwitchConfig
    let reader: ConfigReader

    func check(_ ok: Bool, _ path: String, _ problem: @autoclosure () -> String) throws {
        if !ok { throw reader.error(path, problem()) }
    }

    func checkRange<T: Comparable>(_ value: T, _ range: ClosedRange<T>, _ path: String) throws {
        try check(range.contains(value), path, "\(value) is out of range (\(range.lowerBound)..\(range.upperBound))")
    }

    /// Throws when `items[index]` repeats an earlier element with the same `key`.
    func checkUnique<T, K: Equatable>(
        _ items: [T], _ index: Int, _ path: String, key: (T) -> K, _ problem: (Int) -> String
    ) throws {
        let k = key(items[index])
        if let first = items.firstIndex(where: { key($0) == k }), first != index { throw reader.error(path, problem(first)) }
    }

    func checkInterfaceName(_ name: String, _ path: String) throws {
        try check(!name.isEmpty, path, "missing")
        try check(name.utf8.count <= 15, path, "'\(name)' is longer than 15 characters (IFNAMSIZ)")
        try check(
            name != "." && name != ".." && !name.contains { $0 == "/" || $0 == ":" || $0.isWhitespace }, path,
            "'\(name)' is not a valid interface name")
    }

    func checkDeclared(_ vni: VNI, _ path: String) throws {
        try check(config.vni(vni) != nil, path, "VNI \(vni) is not declared in vnis")
    }

    /// A remote VTEP must be of a family we have a local address for, and not ourselves.
    func checkRemote(_ remote: IPAddress, _ path: String) throws {
        let family = remote.isIPv4 ? "ipv4" : "ipv6"
        try check(
            config.vtep.localAddress(toward: remote) != nil, path,
            "\(remote) is \(remote.isIPv4 ? "IPv4" : "IPv6") but vtep has no \(family) address")
        try check(remote != config.vtep.ipv4 && remote != config.vtep.ipv6, path, "\(remote) is our own VTEP address")
    }

    func checkVTEP() throws {
        let vtep = config.vtep
        try check(vtep.ipv4 != nil || vtep.ipv6 != nil, "vtep", "needs at least one of ipv4, ipv6")
        if let v4 = vtep.ipv4 { try check(v4.isIPv4, "vtep.ipv4", "'\(v4)' is not an IPv4 address") }
        if let v6 = vtep.ipv6 { try check(!v6.isIPv4, "vtep.ipv6", "'\(v6)' is not an IPv6 address") }
        try checkRange(vtep.udpPort, 1...UInt16.max, "vtep.udp-port")
        try check(vtep.sourcePortRange.lowerBound >= 1, "vtep.source-port-range", "port 0 is not allowed")
        try checkRange(vtep.admission.maxLearned, 1...SwitchConfig.maxLearnedVTEPs, "vtep.max-learned")
    }

    func checkUplink() throws {
        guard let uplink = config.uplink else { return }
        try checkInterfaceName(uplink.interface, "uplink.interface")
        try check(
            config.port(named: uplink.interface) == nil, "uplink.interface",
            "'\(uplink.interface)' is also configured as a port")
        if case .list(let queues) = uplink.queues {
            try check(!queues.isEmpty, "uplink.queues", "is empty")
            for (i, q) in queues.enumerated() {
                try checkUnique(queues, i, "uplink.queues[\(i)]", key: { $0 }) { _ in "queue \(q) is listed twice" }
            }
        }
        if case .fixed(let mtu) = uplink.mtu {
            try checkRange(mtu, (config.vtep.ipv6 != nil ? 1280 : 576)...65535, "uplink.mtu")
        }
    }

    func checkVNIs() throws {
        let vnis = config.vnis
        for (i, v) in vnis.enumerated() {
            try checkRange(v.vni.value, 1...VNI.max, "vnis[\(i)].vni")
            try checkUnique(vnis, i, "vnis[\(i)].vni", key: \.vni) { "VNI \(v.vni) is declared twice (first at vnis[\($0)])" }
            for (j, remote) in v.flood.enumerated() {
                let path = "vnis[\(i)].flood[\(j)]"
                try checkRemote(remote, path)
                try checkUnique(v.flood, j, path, key: { $0 }) { _ in "\(remote) is listed twice" }
            }
            if let limit = v.macLimit { try checkRange(limit, SwitchConfig.macLimitRange, "vnis[\(i)].mac-limit") }
        }
    }

    func checkPorts() throws {
        let ports = config.ports
        for (i, p) in ports.enumerated() {
            try checkInterfaceName(p.name, "ports[\(i)].name")
            try checkUnique(ports, i, "ports[\(i)].name", key: \.name) {
                "port '\(p.name)' is configured twice (first at ports[\($0)])"
            }
            switch p.mode {
            case .access(let vni):
                try checkDeclared(vni, "ports[\(i)].vni")
            case .trunk(let vlans, let native):
                try check(!vlans.isEmpty || native != nil, "ports[\(i)].trunk", "maps no VLANs")
                for (vlan, vni) in vlans.sorted(by: { $0.key < $1.key }) {
                    try check((1...4094).contains(vlan), "ports[\(i)].trunk", "VLAN id \(vlan) is out of range (1..4094)")
                    try checkDeclared(vni, "ports[\(i)].trunk.\(vlan)")
                }
                if let native { try checkDeclared(native, "ports[\(i)].native-vni") }
            }
        }
    }

    func checkDatapath() throws {
        let d = config.datapath
        for (i, cpu) in d.workers.enumerated() {
            try checkRange(cpu, 0...1023, "datapath.workers[\(i)]")
            try checkUnique(d.workers, i, "datapath.workers[\(i)]", key: { $0 }) { _ in "CPU \(cpu) is listed twice" }
        }
        try checkRange(d.ringSize, 64...16384, "datapath.ring-size")
        try check(d.ringSize.nonzeroBitCount == 1, "datapath.ring-size", "\(d.ringSize) is not a power of two")
        try check(d.frameSize == 2048 || d.frameSize == 4096, "datapath.frame-size", "\(d.frameSize) is not 2048 or 4096")
        try checkRange(d.frames, d.ringSize...(1 << 24), "datapath.frames")
        try checkRange(d.batchSize, 1...min(256, d.ringSize), "datapath.batch-size")
        if let node = d.numaNode { try checkRange(node, 0...1023, "datapath.numa") }
        if let b = d.busyPoll {
            try checkRange(b.timeoutMicroseconds, 1...1_000_000, "datapath.busy-poll.timeout-us")
            try checkRange(b.budget, 1...65535, "datapath.busy-poll.budget")
        }
    }

    func checkFDB() throws {
        let entries = config.fdb.staticEntries
        try checkRange(config.fdb.agingTime, 0...1_000_000, "fdb.aging-time")
        try checkRange(config.fdb.maxEntries, 1024...16_777_216, "fdb.max-entries")
        try checkRange(config.fdb.maxNeighbors, 1024...4_194_304, "fdb.max-neighbors")
        if let limit = config.fdb.vniMACLimit { try checkRange(limit, SwitchConfig.macLimitRange, "fdb.vni-mac-limit") }
        if let limit = config.fdb.portMACLimit { try checkRange(limit, SwitchConfig.macLimitRange, "fdb.port-mac-limit") }
        for (i, e) in entries.enumerated() {
            let path = "fdb.static[\(i)]"
            try checkDeclared(e.vni, "\(path).vni")
            try check(!e.mac.isMulticast && !e.mac.isZero, "\(path).mac", "\(e.mac) is not a unicast address")
            switch e.target {
            case .port(let name):
                guard let port = config.port(named: name) else { throw reader.error("\(path).port", "no port named '\(name)'") }
                try check(port.vnis.contains(e.vni), "\(path).port", "port '\(name)' does not carry VNI \(e.vni)")
            case .vtep(let remote):
                try checkRemote(remote, "\(path).vtep")
            }
            try checkUnique(entries, i, path, key: { "\($0.vni)/\($0.mac)" }) {
                "\(e.mac) in VNI \(e.vni) is listed twice (first at fdb.static[\($0)])"
            }
        }
    }

    func checkControl() throws {
        let socket = config.control.socket
        try check(socket.hasPrefix("/"), "control.socket", "'\(socket)' is not an absolute path")
        try check(socket.utf8.count < 108, "control.socket", "'\(socket)' is longer than 107 bytes (sun_path)")
        if let state = config.control.stateFile {
            try check(state.hasPrefix("/"), "control.state-file", "'\(state)' is not an absolute path (or 'off')")
            try check(!state.hasSuffix("/"), "control.state-file", "'\(state)' names a directory, not a file")
            try check(state != socket, "control.state-file", "'\(state)' is also the control socket")
        }
    }

    func checkBGP() throws {
        guard let bgp = config.bgp else { return }
        try check(bgp.asn >= 1, "bgp.asn", "0 is out of range (1..4294967295)")
        try check(bgp.routerID.isIPv4, "bgp.router-id", "'\(bgp.routerID)' is not an IPv4 address")
        for (i, peer) in bgp.peers.enumerated() {
            let path = "bgp.peers[\(i)]"
            try checkUnique(bgp.peers, i, "\(path).address", key: \.address) {
                "\(peer.address) is listed twice (first at bgp.peers[\($0)])"
            }
            try check(peer.port >= 1, "\(path).port", "0 is out of range (1..65535)")
            if case .asn(let asn) = peer.remoteAS { try check(asn >= 1, "\(path).remote-as", "0 is not an AS number") }
        }
        for (i, o) in bgp.vnis.enumerated() {
            let path = "bgp.vnis[\(i)]"
            try checkDeclared(o.vni, "\(path).vni")
            if let rd = o.rd, let problem = BGPConfig.problem(withDistinguisher: rd, wildcard: false) {
                throw reader.error("\(path).rd", problem)
            }
            for (kind, targets) in [("import", o.importTargets), ("export", o.exportTargets)] {
                for (j, rt) in (targets ?? []).enumerated() {
                    if let problem = BGPConfig.problem(withDistinguisher: rt, wildcard: kind == "import") {
                        throw reader.error("\(path).route-targets.\(kind)[\(j)]", problem)
                    }
                }
            }
        }
    }

    func checkVRFs() throws {
        let vrfs = config.vrfs
        for (i, vrf) in vrfs.enumerated() {
            let path = "vrfs[\(i)]"
            try check(!vrf.name.isEmpty, "\(path).name", "missing")
            try check(vrf.name.utf8.count <= 32 && vrf.name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) },
                      "\(path).name", "'\(vrf.name)' is not a VRF name (up to 32 letters, digits, '-', '_', '.')")
            try checkUnique(vrfs, i, "\(path).name", key: \.name) { "VRF '\(vrf.name)' is configured twice (first at vrfs[\($0)])" }
            try checkRange(vrf.l3VNI.value, 1...VNI.max, "\(path).l3-vni")
            try checkUnique(vrfs, i, "\(path).l3-vni", key: \.l3VNI) { "L3 VNI \(vrf.l3VNI) is also VRF '\(vrfs[$0].name)'s (vrfs[\($0)])" }
            if let j = config.vnis.firstIndex(where: { $0.vni == vrf.l3VNI }) {
                throw reader.error("\(path).l3-vni", "VNI \(vrf.l3VNI) is also an L2 VNI (vnis[\(j)]); an L3 VNI is declared only here")
            }
            if let mac = vrf.routerMAC {
                try check(!mac.isMulticast && !mac.isZero, "\(path).router-mac", "\(mac) is not a unicast address")
            }
            for (kind, targets) in [("import", vrf.importTargets), ("export", vrf.exportTargets)] {
                for (j, rt) in (targets ?? []).enumerated() {
                    if let problem = BGPConfig.problem(withDistinguisher: rt, wildcard: kind == "import") {
                        throw reader.error("\(path).route-targets.\(kind)[\(j)]", problem)
                    }
                }
            }
            for (j, vni) in vrf.vnis.enumerated() {
                let vniPath = "\(path).vnis[\(j)]"
                try checkDeclared(vni, vniPath)
                try checkUnique(vrf.vnis, j, vniPath, key: { $0 }) { _ in "VNI \(vni) is listed twice" }
                if let k = vrfs.firstIndex(where: { $0.vnis.contains(vni) }), k != i {
                    throw reader.error(vniPath, "VNI \(vni) is already in VRF '\(vrfs[k].name)' (vrfs[\(k)]); a VNI is in one VRF at most")
                }
            }
        }
        var subnets: [(vrf: String, prefix: IPPrefix, path: String)] = []
        for (i, v) in config.vnis.enumerated() {
            guard let gateway = v.gateway else { continue }
            let path = "vnis[\(i)].gateway"
            guard let vrf = config.vrf(of: v.vni) else {
                throw reader.error(path, "VNI \(v.vni) has a gateway but is in no VRF (list it in a vrfs[].vnis)")
            }
            try check(gateway.ipv4 != nil || gateway.ipv6 != nil, path, "needs at least one of ipv4, ipv6")
            try check(!gateway.mac.isMulticast && !gateway.mac.isZero, "\(path).mac", "\(gateway.mac) is not a unicast address")
            for (family, address) in [("ipv4", gateway.ipv4), ("ipv6", gateway.ipv6)] {
                guard let address else { continue }
                let field = "\(path).\(family)"
                let v4 = family == "ipv4"
                try check(address.address.isIPv4 == v4, field, "'\(address)' is not an \(v4 ? "IPv4" : "IPv6") address")
                let longest = v4 ? 30 : 127
                try check((1...longest).contains(Int(address.length)), field,
                          "prefix length \(address.length) leaves no subnet (1..\(longest))")
                try check(address.address.isUnicast && !(address.address.isLinkLocalV6), field,
                          "\(address.address) is not a unicast address a gateway can have")
                let prefix = address.prefix
                try check(address.address != prefix.address, field, "\(address.address) is the subnet's network address")
                if v4 {
                    let broadcast = prefix.address.v4 | (UInt32.max >> UInt32(address.length))
                    try check(address.address.v4 != broadcast, field, "\(address.address) is the subnet's broadcast address")
                }
                for other in subnets where other.vrf == vrf.name && other.prefix.isIPv4 == v4 {
                    let shorter = min(other.prefix.length, prefix.length)
                    if other.prefix.address.masked(to: shorter) == prefix.address.masked(to: shorter) {
                        throw reader.error(field, "\(prefix) overlaps \(other.prefix) (\(other.path)) in VRF '\(vrf.name)'")
                    }
                }
                subnets.append((vrf.name, prefix, field))
            }
        }
    }
}
