import VXConfig
import VXCore

/// One request on the control socket.
///
/// On the wire a request is one line of JSON, the command word and its arguments as the CLI
/// spells them, so `vxsw show mac --vni 1000` sends
///
///     {"command":"show","args":["mac","--vni","1000"]}
///
/// and an operator can do the same with `socat - UNIX-CONNECT:/run/vxsw/vxsw.sock`.
/// `init(arguments:)` is the one grammar for both; `arguments` writes it back.
///
///     ping | version
///     show ports | show mac [--vni N] [--count] [--limit N --from CURSOR] | show vni [N] | show stats | show config | show state | show consistency
///     show evpn vni [N] | show evpn mac [--vni N|vni all] [duplicate]
///     show ip route vrf NAME | show ipv6 route vrf NAME
///     show bgp summary | show bgp neighbors [ADDRESS] | show bgp evpn [route] [--type macip|multicast|prefix] [--vni N]
///     show bgp l2vpn evpn summary | show bgp l2vpn evpn [route] [type macip|multicast|prefix|2|3|5] [vni N]     (FRR's spelling)
///     port add NAME --vni N [--no-complete-checksums] [--io auto|xdp|packet]
///     port add NAME --trunk VLAN=VNI[,VLAN=VNI...] [--native-vni N] [--no-complete-checksums] [--io auto|xdp|packet]
///     port del NAME
///     fdb add MAC --vni N (--port NAME | --vtep ADDRESS)
///     fdb del MAC --vni N
///     bgp restart | clear bgp [ADDRESS] | clear evpn dup-addr vni N|all [mac MAC] | reload
///
/// FRR's spelling `vni N` is accepted wherever `--vni N` is, `type T` wherever `--type T` is.
public enum ControlRequest: Equatable, Sendable {
    case ping
    case version
    case show(Show)
    case portAdd(SwitchConfig.Port)
    case portDel(name: String)
    case fdbAdd(SwitchConfig.FDB.StaticEntry)
    case fdbDel(vni: VNI, mac: MACAddress)
    /// Restart the BGP control plane gracefully; the data plane keeps forwarding (RFC 4724).
    case bgpRestart
    /// Drop BGP sessions (all, or one) without a NOTIFICATION; they reconnect, routes held by GR.
    case bgpClear(IPAddress?)
    /// Ends duplicate-address state (FRR's `clear evpn dup-addr vni N|all [mac M]`): one MAC, a
    /// VNI's duplicates (`mac` nil) or all (`vni` nil).
    case evpnDupClear(vni: VNI?, mac: MACAddress?)
    /// Reads the config file again and applies what changed (`vxsw reload`, SIGHUP).
    case reload

    public enum Show: Equatable, Sendable {
        case ports
        /// The switch FDB (`bridge fdb show`), optionally one VNI; with `page`, one page of it
        /// (`vxsw show mac` streams a large table page by page).
        case mac(vni: VNI?, page: MACPage? = nil)
        /// How many MACs, per VNI and type, without listing them.
        case macCount(vni: VNI?)
        /// How many entries the whole table holds, read in constant time (no scan): for a
        /// monitor that polls often (`vxsw bench-evpn`'s readiness observer).
        case macTotal
        case vni(VNI?)
        case stats
        case config
        /// What the state file holds: the run-time ports and static MACs kept across restarts.
        case state
        /// Whether the owner's tables, the worker's and the XDP maps agree (`ConsistencyReport`).
        case consistency
        /// EVPN state per VNI, as FRR's `show evpn vni`.
        case evpnVNI(VNI?)
        /// MACs with their origin (local / remote VTEP), as FRR's `show evpn mac vni`; with
        /// `duplicate`, only the duplicates (FRR's `show evpn mac vni N duplicate`).
        case evpnMAC(vni: VNI?, duplicate: Bool = false)
        /// A VNI's neighbours (local VMs' IPs and remote MAC/IP routes), as FRR's `show evpn arp-cache vni N`.
        case evpnARPCache(vni: VNI?)
        /// `show bgp summary`: FRR's per-family object (`{"l2VpnEvpn": …}`).
        case bgpSummary
        /// `show bgp l2vpn evpn summary` (and `show bgp evpn summary`): the family's summary itself.
        case bgpEVPNSummary
        case bgpNeighbors(IPAddress?)
        case bgpRoutes(type: EVPNRouteType?, vni: VNI?)
        /// A VRF's routes and learned hosts of one family, as FRR's `show ip route vrf NAME`.
        case ipRoute(vrf: String, ipv6: Bool)
    }

    /// Where a page of `show mac` starts (a cursor the previous page returned; 0 first) and
    /// how many rows it holds at most.
    public struct MACPage: Equatable, Sendable, Codable {
        public var from: Int
        public var limit: Int
        public init(from: Int = 0, limit: Int) { self.from = from; self.limit = limit }
    }

    public enum EVPNRouteType: String, CaseIterable, Sendable {
        /// Type 2, MAC/IP advertisement.
        case macip
        /// Type 3, inclusive multicast Ethernet tag (IMET).
        case multicast
        /// Type 5, IP prefix (RFC 9136).
        case prefix

        /// The route type's number.
        public var code: UInt8 { switch self { case .macip: return 2; case .multicast: return 3; case .prefix: return 5 } }
    }

    /// A request that does not follow the grammar; the message says what is wrong and how to write it.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public static let usage = """
        ping | version
        show ports | mac [--vni N] [--count] [--limit N --from CURSOR] | vni [N] | stats | config | state | consistency
        show evpn vni [N] | evpn mac [--vni N|vni all] [duplicate]
        show ip route vrf NAME | ipv6 route vrf NAME
        show bgp summary | bgp neighbors [ADDRESS] | bgp evpn [route] [--type macip|multicast|prefix] [--vni N]
        show bgp l2vpn evpn summary | bgp l2vpn evpn [route] [type macip|multicast|prefix|2|3|5] [vni N]
        port add NAME --vni N | --trunk VLAN=VNI[,...] [--native-vni N] [--no-complete-checksums] [--io auto|xdp|packet]
        port del NAME
        fdb add MAC --vni N --port NAME | --vtep ADDRESS
        fdb del MAC --vni N
        bgp restart | clear bgp [ADDRESS] | clear evpn dup-addr vni N|all [mac MAC] | reload
        """
}

// MARK: - Wire form

extension ControlRequest: Codable {
    private enum CodingKeys: String, CodingKey { case command, args }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let command = try c.decode(String.self, forKey: .command)
        let args = try c.decodeIfPresent([String].self, forKey: .args) ?? []
        do {
            try self.init(arguments: [command] + args)
        } catch let error as ParseError {
            throw DecodingError.dataCorruptedError(forKey: .command, in: c, debugDescription: error.message)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let words = arguments
        try c.encode(words[0], forKey: .command)
        try c.encode(Array(words.dropFirst()), forKey: .args)
    }
}

// MARK: - Grammar

extension ControlRequest {
    /// Parses the words after `vxsw` (`["show", "mac", "--vni", "1000"]`).
    public init(arguments: [String]) throws {
        var words = Words(arguments)
        switch words.next() {
        case "ping": self = .ping
        case "version": self = .version
        case "show": self = .show(try Self.parseShow(&words))
        case "port":
            switch words.next() {
            case "add": self = .portAdd(try Self.parsePortAdd(&words))
            case "del": self = .portDel(name: try words.required("port name"))
            default: throw words.usage("port add|del")
            }
        case "fdb":
            switch words.next() {
            case "add":
                let mac = try words.mac()
                var vni: VNI?, target: SwitchConfig.FDB.StaticEntry.Target?
                while let option = words.next() {
                    switch option {
                    case "--vni", "vni": vni = try words.vni()
                    case "--port": target = .port(try words.required("port name"))
                    case "--vtep": target = .vtep(try words.ip())
                    default: throw words.unexpected(option)
                    }
                }
                guard let vni else { throw ParseError(message: "fdb add: --vni N is required") }
                guard let target else { throw ParseError(message: "fdb add: --port NAME or --vtep ADDRESS is required") }
                self = .fdbAdd(.init(vni: vni, mac: mac, target: target))
            case "del":
                let mac = try words.mac()
                guard let vni = try words.vniOption() else {
                    throw ParseError(message: "fdb del: --vni N is required")
                }
                self = .fdbDel(vni: vni, mac: mac)
            default: throw words.usage("fdb add|del")
            }
        case "bgp":
            guard words.next() == "restart" else { throw words.usage("bgp restart") }
            self = .bgpRestart
        case "reload":
            self = .reload
        case "clear":
            switch words.next() {
            case "bgp": self = .bgpClear(try words.peek() == nil ? nil : words.ip())
            case "evpn":
                guard words.next() == "dup-addr", words.next() == "vni" else {
                    throw words.usage("clear evpn dup-addr vni N|all [mac MAC]")
                }
                let vni: VNI? = words.peek() == "all" ? { _ = words.next(); return nil }() : try words.vni()
                var mac: MACAddress?
                if words.peek() == "mac" {
                    guard vni != nil else { throw words.usage("clear evpn dup-addr vni N mac MAC (a MAC needs its VNI)") }
                    _ = words.next()
                    mac = try words.mac()
                }
                self = .evpnDupClear(vni: vni, mac: mac)
            default: throw words.usage("clear bgp [ADDRESS] | clear evpn dup-addr vni N|all [mac MAC]")
            }
        case let other?: throw ParseError(message: "unknown command '\(other)'; commands:\n\(Self.usage)")
        case nil: throw ParseError(message: "empty request; commands:\n\(Self.usage)")
        }
        try words.end()
    }

    private static func parseShow(_ words: inout Words) throws -> Show {
        switch words.next() {
        case "ports": return .ports
        case "mac":
            var vni: VNI?, count = false, total = false, limit: Int?, from = 0
            while let option = words.next() {
                switch option {
                case "--vni", "vni": vni = try words.vni()
                case "--count", "count": count = true
                case "--total": total = true
                case "--limit": limit = try words.positive("--limit")
                case "--from": from = try words.positive("--from", allowZero: true)
                default: throw words.unexpected(option)
                }
            }
            if total {
                guard vni == nil, !count, limit == nil else {
                    throw ParseError(message: "show mac --total counts every VNI's entries and lists none; for one VNI use --count --vni N")
                }
                return .macTotal
            }
            if count { return .macCount(vni: vni) }
            return .mac(vni: vni, page: limit.map { MACPage(from: from, limit: $0) })
        case "vni": return .vni(try words.peek() == nil ? nil : words.vni())
        case "stats": return .stats
        case "config": return .config
        case "state": return .state
        case "consistency": return .consistency
        case let family? where family == "ip" || family == "ipv6":
            guard words.next() == "route", words.next() == "vrf" else { throw words.usage("show \(family) route vrf NAME") }
            return .ipRoute(vrf: try words.required("VRF name"), ipv6: family == "ipv6")
        case "evpn":
            switch words.next() {
            case "vni": return .evpnVNI(try words.peek() == nil ? nil : words.vni())
            case "mac":
                var vni: VNI?, duplicate = false
                while let option = words.next() {
                    switch option {
                    case "--vni", "vni":
                        if words.peek() == "all" { _ = words.next() } else { vni = try words.vni() }
                    case "duplicate", "--duplicate": duplicate = true
                    default: throw words.unexpected(option)
                    }
                }
                return .evpnMAC(vni: vni, duplicate: duplicate)
            case "arp-cache":
                guard let option = words.next(), option == "vni" || option == "--vni" else { throw words.usage("show evpn arp-cache vni N|all") }
                if words.peek() == "all" { _ = words.next(); return .evpnARPCache(vni: nil) }
                return .evpnARPCache(vni: try words.vni())
            default: throw words.usage("show evpn vni|mac|arp-cache")
            }
        case "bgp":
            switch words.next() {
            case "summary": return .bgpSummary
            case "neighbors": return .bgpNeighbors(try words.peek() == nil ? nil : words.ip())
            case let family? where family == "evpn" || family == "l2vpn":
                // vxsw's `show bgp evpn [route] [--type T] [--vni N]`, or FRR's
                // `show bgp l2vpn evpn [route] [type macip|multicast|prefix|2|3|5] [vni N]`.
                if family == "l2vpn", words.next() != "evpn" {
                    throw words.usage("show bgp l2vpn evpn [route] [type macip|multicast|prefix|2|3|5] [vni N] | show bgp l2vpn evpn summary")
                }
                if words.peek() == "summary" { _ = words.next(); return .bgpEVPNSummary }
                if words.peek() == "route" { _ = words.next() }
                var type: EVPNRouteType?, vni: VNI?
                while let option = words.next() {
                    switch option {
                    case "--type", "type", "route-type":
                        let text = try words.required("route type")
                        guard let t = EVPNRouteType(rawValue: text) ?? EVPNRouteType.allCases.first(where: { String($0.code) == text }) else {
                            throw ParseError(message: "route type '\(text)' is not macip (2), multicast (3) or prefix (5), the types vxsw speaks")
                        }
                        type = t
                    case "--vni", "vni": vni = try words.vni()
                    default: throw words.unexpected(option)
                    }
                }
                return .bgpRoutes(type: type, vni: vni)
            default: throw words.usage("show bgp summary|neighbors|evpn route")
            }
        default: throw words.usage("show ports|mac|vni|stats|config|state|consistency|evpn|ip|ipv6|bgp")
        }
    }

    private static func parsePortAdd(_ words: inout Words) throws -> SwitchConfig.Port {
        let name = try words.required("port name")
        var access: VNI?, trunk: [UInt16: VNI]?, native: VNI?, checksums = true, io = SwitchConfig.Port.IO.auto
        while let option = words.next() {
            switch option {
            case "--vni", "vni": access = try words.vni()
            case "--trunk": trunk = try words.vlanMap()
            case "--native-vni": native = try words.vni()
            case "--no-complete-checksums": checksums = false
            case "--io":
                let text = try words.required("--io value (auto, xdp, packet)")
                guard let value = SwitchConfig.Port.IO(rawValue: text) else {
                    throw ParseError(message: "port add: --io '\(text)' is not one of auto, xdp, packet")
                }
                io = value
            default: throw words.unexpected(option)
            }
        }
        let mode: SwitchConfig.Port.Mode
        switch (access, trunk) {
        case (let vni?, nil) where native == nil: mode = .access(vni)
        case (nil, let vlans?): mode = .trunk(vlans: vlans, native: native)
        case (nil, nil) where native != nil: mode = .trunk(vlans: [:], native: native)
        default: throw ParseError(message: "port add: give either --vni N (access) or --trunk VLAN=VNI,... [--native-vni N]")
        }
        return SwitchConfig.Port(name: name, mode: mode, completeChecksums: checksums, io: io)
    }

    /// The request as words: `arguments[0]` is the command.
    public var arguments: [String] {
        func vniWords(_ vni: VNI?) -> [String] { vni.map { ["--vni", String($0.value)] } ?? [] }
        switch self {
        case .ping: return ["ping"]
        case .version: return ["version"]
        case .portDel(let name): return ["port", "del", name]
        case .bgpRestart: return ["bgp", "restart"]
        case .reload: return ["reload"]
        case .bgpClear(let ip): return ["clear", "bgp"] + (ip.map { [$0.description] } ?? [])
        case .evpnDupClear(let vni, let mac):
            return ["clear", "evpn", "dup-addr", "vni", vni.map { String($0.value) } ?? "all"] + (mac.map { ["mac", $0.description] } ?? [])
        case .fdbDel(let vni, let mac): return ["fdb", "del", mac.description] + vniWords(vni)
        case .fdbAdd(let e):
            let target: [String]
            switch e.target {
            case .port(let name): target = ["--port", name]
            case .vtep(let ip): target = ["--vtep", ip.description]
            }
            return ["fdb", "add", e.mac.description] + vniWords(e.vni) + target
        case .portAdd(let p):
            var words = ["port", "add", p.name]
            switch p.mode {
            case .access(let vni): words += vniWords(vni)
            case .trunk(let vlans, let native):
                if !vlans.isEmpty {
                    words += ["--trunk", vlans.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")]
                }
                if let native { words += ["--native-vni", String(native.value)] }
            }
            return words + (p.completeChecksums ? [] : ["--no-complete-checksums"]) + (p.io == .auto ? [] : ["--io", p.io.rawValue])
        case .show(let show):
            switch show {
            case .ports: return ["show", "ports"]
            case .mac(let vni, let page):
                return ["show", "mac"] + vniWords(vni) + (page.map { ["--limit", String($0.limit), "--from", String($0.from)] } ?? [])
            case .macCount(let vni): return ["show", "mac"] + vniWords(vni) + ["--count"]
            case .macTotal: return ["show", "mac", "--total"]
            case .vni(let vni): return ["show", "vni"] + (vni.map { [String($0.value)] } ?? [])
            case .stats: return ["show", "stats"]
            case .config: return ["show", "config"]
            case .state: return ["show", "state"]
            case .consistency: return ["show", "consistency"]
            case .evpnVNI(let vni): return ["show", "evpn", "vni"] + (vni.map { [String($0.value)] } ?? [])
            case .evpnMAC(let vni, let duplicate): return ["show", "evpn", "mac"] + vniWords(vni) + (duplicate ? ["duplicate"] : [])
            case .evpnARPCache(let vni): return ["show", "evpn", "arp-cache", "vni", vni.map { String($0.value) } ?? "all"]
            case .ipRoute(let vrf, let ipv6): return ["show", ipv6 ? "ipv6" : "ip", "route", "vrf", vrf]
            case .bgpSummary: return ["show", "bgp", "summary"]
            case .bgpEVPNSummary: return ["show", "bgp", "l2vpn", "evpn", "summary"]
            case .bgpNeighbors(let ip): return ["show", "bgp", "neighbors"] + (ip.map { [$0.description] } ?? [])
            case .bgpRoutes(let type, let vni):
                return ["show", "bgp", "evpn", "route"] + (type.map { ["--type", $0.rawValue] } ?? []) + vniWords(vni)
            }
        }
    }
}

/// A cursor over request words, with typed reads that explain what they expected.
private struct Words {
    private let words: [String]
    private var index = 0
    private var consumed: [String] { Array(words[..<index]) }

    init(_ words: [String]) { self.words = words }

    mutating func next() -> String? {
        guard index < words.count else { return nil }
        defer { index += 1 }
        return words[index]
    }

    func peek() -> String? { index < words.count ? words[index] : nil }

    mutating func required(_ what: String) throws -> String {
        guard let word = next() else {
            throw ControlRequest.ParseError(message: "\(consumed.joined(separator: " ")): missing \(what)")
        }
        return word
    }

    mutating func vni() throws -> VNI {
        let text = try required("VNI")
        guard let n = UInt32(text), n >= 1, let vni = VNI(n) else {
            throw ControlRequest.ParseError(message: "'\(text)' is not a VNI (1..16777215)")
        }
        return vni
    }

    /// A whole number ≥ 1 (≥ 0 with `allowZero`) after `option`.
    mutating func positive(_ option: String, allowZero: Bool = false) throws -> Int {
        let text = try required("number after \(option)")
        guard let n = Int(text), n >= (allowZero ? 0 : 1) else {
            throw ControlRequest.ParseError(message: "\(option) '\(text)' is not a whole number\(allowZero ? "" : " of at least 1")")
        }
        return n
    }

    mutating func mac() throws -> MACAddress {
        let text = try required("MAC address")
        guard let mac = MACAddress(text) else { throw ControlRequest.ParseError(message: "'\(text)' is not a MAC address") }
        return mac
    }

    mutating func ip() throws -> IPAddress {
        let text = try required("address")
        guard let ip = IPAddress(text) else { throw ControlRequest.ParseError(message: "'\(text)' is not an IP address") }
        return ip
    }

    /// `VLAN=VNI,VLAN=VNI` (`:` also separates).
    mutating func vlanMap() throws -> [UInt16: VNI] {
        let text = try required("VLAN=VNI list")
        var map: [UInt16: VNI] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(whereSeparator: { $0 == "=" || $0 == ":" })
            guard parts.count == 2, let vlan = UInt16(parts[0]), (1...4094).contains(vlan),
                let n = UInt32(parts[1]), n >= 1, let vni = VNI(n), map[vlan] == nil
            else {
                throw ControlRequest.ParseError(
                    message: "'\(pair)' is not VLAN=VNI (VLAN 1..4094, VNI 1..16777215, each VLAN once)")
            }
            map[vlan] = vni
        }
        return map
    }

    /// An optional trailing `--vni N` (or FRR's `vni N`).
    mutating func vniOption() throws -> VNI? {
        guard let word = peek() else { return nil }
        guard word == "--vni" || word == "vni" else { throw unexpected(word) }
        index += 1
        return try vni()
    }

    func unexpected(_ word: String) -> ControlRequest.ParseError {
        ControlRequest.ParseError(message: "\(words.joined(separator: " ")): unexpected '\(word)'")
    }

    func usage(_ expected: String) -> ControlRequest.ParseError {
        let so = consumed.joined(separator: " ")
        return ControlRequest.ParseError(message: "'\(so)' is incomplete or unknown; expected: \(expected)")
    }

    func end() throws {
        if let extra = peek() { throw unexpected(extra) }
    }
}
