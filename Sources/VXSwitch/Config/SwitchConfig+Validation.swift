import VXCore

extension SwitchConfig {
    /// Checks the rules a parsed file is held to; for configs built in code (the lab).
    public func validate() throws { try validate(ConfigReader(lines: [:])) }

    /// Throws the first problem found, naming its field.
    func validate(_ reader: ConfigReader) throws {
        func check(_ ok: Bool, _ path: String, _ problem: @autoclosure () -> String) throws {
            if !ok { throw reader.error(path, problem()) }
        }
        func checkRange<T: Comparable>(_ value: T, _ range: ClosedRange<T>, _ path: String) throws {
            try check(range.contains(value), path, "\(value) is out of range (\(range.lowerBound)..\(range.upperBound))")
        }
        func checkInterfaceName(_ name: String, _ path: String) throws {
            try check(!name.isEmpty, path, "missing")
            try check(name.utf8.count <= 15, path, "'\(name)' is longer than 15 characters (IFNAMSIZ)")
            try check(
                name != "." && name != ".." && !name.contains { $0 == "/" || $0 == ":" || $0.isWhitespace }, path,
                "'\(name)' is not a valid interface name")
        }
        func checkDeclared(_ vni: VNI, _ path: String) throws {
            try check(self.vni(vni) != nil, path, "VNI \(vni) is not declared in vnis")
        }
        func checkReachable(_ remote: IPAddress, _ path: String) throws {
            try check(
                vtep.localAddress(toward: remote) != nil, path,
                "\(remote) is \(remote.isIPv4 ? "IPv4" : "IPv6") but vtep has no \(remote.isIPv4 ? "ipv4" : "ipv6") address")
            try check(remote != vtep.ipv4 && remote != vtep.ipv6, path, "\(remote) is our own VTEP address")
        }

        // vtep
        try check(vtep.ipv4 != nil || vtep.ipv6 != nil, "vtep", "needs at least one of ipv4, ipv6")
        if let v4 = vtep.ipv4 { try check(v4.isIPv4, "vtep.ipv4", "'\(v4)' is not an IPv4 address") }
        if let v6 = vtep.ipv6 { try check(!v6.isIPv4, "vtep.ipv6", "'\(v6)' is not an IPv6 address") }
        try checkRange(vtep.udpPort, 1...UInt16.max, "vtep.udp-port")
        try check(vtep.sourcePortRange.lowerBound >= 1, "vtep.source-port-range", "port 0 is not allowed")

        // uplink
        if let uplink {
            try checkInterfaceName(uplink.interface, "uplink.interface")
            try check(
                port(named: uplink.interface) == nil, "uplink.interface",
                "'\(uplink.interface)' is also configured as a port")
            if case .list(let queues) = uplink.queues {
                try check(!queues.isEmpty, "uplink.queues", "is empty")
                for (i, q) in queues.enumerated() {
                    try check(queues.firstIndex(of: q) == i, "uplink.queues[\(i)]", "queue \(q) is listed twice")
                }
            }
            if case .fixed(let mtu) = uplink.mtu {
                try checkRange(mtu, (vtep.ipv6 != nil ? 1280 : 576)...65535, "uplink.mtu")
            }
        }

        // vnis
        for (i, v) in vnis.enumerated() {
            try checkRange(v.vni.value, 1...VNI.max, "vnis[\(i)].vni")
            if let first = vnis.firstIndex(where: { $0.vni == v.vni }), first != i {
                throw reader.error("vnis[\(i)].vni", "VNI \(v.vni) is declared twice (first at vnis[\(first)])")
            }
            for (j, remote) in v.flood.enumerated() {
                let path = "vnis[\(i)].flood[\(j)]"
                try checkReachable(remote, path)
                try check(v.flood.firstIndex(of: remote) == j, path, "\(remote) is listed twice")
            }
            try check(v.macLimit >= 0, "vnis[\(i)].mac-limit", "must not be negative")
        }

        // ports
        for (i, p) in ports.enumerated() {
            try checkInterfaceName(p.name, "ports[\(i)].name")
            if let first = ports.firstIndex(where: { $0.name == p.name }), first != i {
                throw reader.error("ports[\(i)].name", "port '\(p.name)' is configured twice (first at ports[\(first)])")
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

        // datapath
        let d = datapath
        for (i, cpu) in d.workers.enumerated() {
            try checkRange(cpu, 0...1023, "datapath.workers[\(i)]")
            try check(d.workers.firstIndex(of: cpu) == i, "datapath.workers[\(i)]", "CPU \(cpu) is listed twice")
        }
        try checkRange(d.ringSize, 64...16384, "datapath.ring-size")
        try check(d.ringSize.nonzeroBitCount == 1, "datapath.ring-size", "\(d.ringSize) is not a power of two")
        try check(d.frameSize == 2048 || d.frameSize == 4096, "datapath.frame-size", "\(d.frameSize) is not 2048 or 4096")
        try checkRange(d.frames, d.ringSize...(1 << 24), "datapath.frames")
        try checkRange(d.batchSize, 1...min(256, d.ringSize), "datapath.batch-size")
        if let node = d.numaNode { try checkRange(node, 0...1023, "datapath.numa") }

        // fdb
        try checkRange(fdb.agingTime, 0...1_000_000, "fdb.aging-time")
        for (i, e) in fdb.staticEntries.enumerated() {
            let path = "fdb.static[\(i)]"
            try checkDeclared(e.vni, "\(path).vni")
            try check(!e.mac.isMulticast && !e.mac.isZero, "\(path).mac", "\(e.mac) is not a unicast address")
            switch e.target {
            case .port(let name):
                guard let port = port(named: name) else {
                    throw reader.error("\(path).port", "no port named '\(name)'")
                }
                try check(port.vnis.contains(e.vni), "\(path).port", "port '\(name)' does not carry VNI \(e.vni)")
            case .vtep(let remote):
                try checkReachable(remote, "\(path).vtep")
            }
            if let first = fdb.staticEntries.firstIndex(where: { $0.vni == e.vni && $0.mac == e.mac }), first != i {
                throw reader.error(path, "\(e.mac) in VNI \(e.vni) is listed twice (first at fdb.static[\(first)])")
            }
        }

        // control
        try check(control.socket.hasPrefix("/"), "control.socket", "'\(control.socket)' is not an absolute path")
        try check(
            control.socket.utf8.count < 108, "control.socket", "'\(control.socket)' is longer than 107 bytes (sun_path)")

        // bgp
        if let bgp {
            try check(bgp.asn >= 1, "bgp.asn", "0 is out of range (1..4294967295)")
            try check(bgp.routerID.isIPv4, "bgp.router-id", "'\(bgp.routerID)' is not an IPv4 address")
            for (i, peer) in bgp.peers.enumerated() {
                let path = "bgp.peers[\(i)]"
                if let first = bgp.peers.firstIndex(where: { $0.address == peer.address }), first != i {
                    throw reader.error("\(path).address", "\(peer.address) is listed twice (first at bgp.peers[\(first)])")
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
    }
}
