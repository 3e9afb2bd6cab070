import CVXSW
import Glibc
import VXCore

/// What the XDP fast path knows (BPF/lib/fast_maps.h), as plain values: derived from the
/// switch tables by `FastPathTables(pipeline:ifindex:)`, written by `FastPathMaps.apply`
/// (the difference between two) or entry by entry (`target(for:)`, `FastPathMaps.setFDB`).
///
/// Only what the fast path may forward without the Swift engine is in here: untagged,
/// enabled access ports (taps marked: only the tap path delivers to them); VNIs; active VTEPs (resolved ones carry the outer headers); unicast
/// FDB entries toward those ports and VTEPs. Anything else misses in XDP and goes to the engine.
public struct FastPathTables: Equatable, Sendable {
    public struct Config: Equatable, Sendable {
        public var uplinkIfindex: Int32 = 0
        public var uplinkMTU: Int = 0
        public var uplinkMAC: MACAddress = .zero
        public var sourcePorts: ClosedRange<UInt16> = 49152...65535
        public var udpPort: UInt16 = VXLAN.defaultPort
        public var udp6ZeroChecksum = false
        public var completeDecapChecksums = false
        public var localV4: IPAddress?
        public var localV6: IPAddress?
        public var verifyUDPChecksumV4 = false
        public var verifyUDPChecksumV6 = true
        /// The uplink for the tap path (BPF/lib/tapfast.h): set also where XDP may not
        /// redirect into it (`uplinkIfindex` 0 for a veth under `fast-path: auto`), since
        /// the tap path sends skbs, which any device takes.
        public var tapUplinkIfindex: Int32 = 0
        /// Overlay frames to taps go up through the uplink's GRO to its tc program
        /// (BPF/lib/tapgro.h): true only while `Datapath.tapDelivery` is attached.
        public var tapGRO = false
    }

    public struct Port: Equatable, Sendable {
        public var bd: UInt16
        public var vni: VNI
        public var maxFrame: Int
        public var completeChecksums: Bool
        /// A VM's tap on a packet socket: only the tap path delivers to it (BPF/lib/tapfast.h).
        public var tap = false
    }

    public struct VTEP: Equatable, Sendable {
        public var remote: IPAddress
        /// Outer destination MAC when the next hop is known and a local address of the family exists.
        public var nextHop: MACAddress?
    }

    public enum Target: Equatable, Sendable {
        case port(ifindex: Int32)
        case vtep(UInt16)
    }

    public var config = Config()
    /// By ifindex.
    public var ports: [Int32: Port] = [:]
    /// By VTEP index (as in `VTEPTable` and FDB destinations).
    public var vteps: [UInt16: VTEP] = [:]
    /// VNI → bridge-domain index.
    public var vnis: [UInt32: UInt16] = [:]
    /// By FDB key (bd << 48 | MAC).
    public var fdb: [UInt64: Target] = [:]
    /// The ifindex of each pipeline port in `ports`.
    public var portIndex: [PortID: Int32] = [:]
    /// Anycast gateways by bridge domain, and the host addresses the engine resolves to one
    /// place (`SwitchPipeline.fastHostRoutes`): what the fast path routes (BPF/lib/fastroute.h).
    public var gateways: [UInt16: FastGateway] = [:]
    public var routes: [FastRouteKey: FastRouteTarget] = [:]

    public init() {}

    /// The tables for `pipeline`; `ifindex` maps the pipeline's ports to interfaces (ports
    /// without one are left to the engine).
    public init(pipeline: SwitchPipeline, ifindex: [PortID: Int32]) {
        let u = pipeline.underlay
        config = Config(uplinkIfindex: ifindex[u.uplink] ?? 0, uplinkMTU: u.uplinkMTU, uplinkMAC: u.uplinkMAC,
                        sourcePorts: u.sourcePortRange, udpPort: u.udpPort, udp6ZeroChecksum: u.udp6ZeroChecksum,
                        completeDecapChecksums: u.completeDecapChecksums, localV4: u.localV4, localV6: u.localV6,
                        verifyUDPChecksumV4: u.verifyUDPChecksumV4, verifyUDPChecksumV6: u.verifyUDPChecksumV6)
        for (id, index) in ifindex where id != u.uplink {
            guard let c = pipeline.ports.config(id), c.enabled, case .access(let vni) = c.kind,
                  let bd = pipeline.bridgeDomains.index(of: vni),
                  pipeline.bridgeDomains.domains[Int(bd)].vlan(for: id) == 0 else { continue }
            ports[index] = Port(bd: bd, vni: vni, maxFrame: c.mtu + Ethernet.headerLength,
                                completeChecksums: c.completeChecksums, tap: c.takesSuperFrames)
            portIndex[id] = index
        }
        for d in pipeline.bridgeDomains.domains where d.active {
            if let bd = pipeline.bridgeDomains.index(of: d.vni) { vnis[d.vni.value] = bd }
        }
        for (i, v) in pipeline.vteps.entries.enumerated() where v.active {
            let local = v.ip.isIPv4 ? u.localV4 : u.localV6
            vteps[UInt16(i)] = VTEP(remote: v.ip, nextHop: local == nil ? nil : v.nextHop)
        }
        fdb.reserveCapacity(pipeline.fdb.count)
        pipeline.fdb.forEachEntry { e in
            if let t = target(for: e) { fdb[e.key] = t }
        }
        for g in pipeline.fastGateways { gateways[g.bd] = g }
        for (k, t) in pipeline.fastHostRoutes {
            if case .remote(let v, _) = t, vteps[v] == nil { continue }
            routes[k] = t
        }
    }

    /// Where the fast path sends frames to `entry` (nil: it leaves them to the engine): a
    /// unicast entry toward a port or VTEP these tables hold.
    public func target(for entry: FDBEntry) -> Target? {
        guard !entry.mac.isMulticast else { return nil }
        switch entry.destination {
        case .port(let p): return portIndex[p].map { .port(ifindex: $0) }
        case .vtep(let v): return vteps[v] != nil ? .vtep(v) : nil
        }
    }
}

/// The fast path's BPF maps. `apply` writes the difference between two `FastPathTables`,
/// in an order that never lets XDP follow an entry to something not yet (or no longer) there.
public final class FastPathMaps {
    let configFD, portsFD, fdbFD, vtepsFD, vnisFD, gatewaysFD, routesFD: Int32

    public init(program: XDPProgram) throws {
        configFD = try program.mapFD("fast_config")
        portsFD = try program.mapFD("fast_ports")
        fdbFD = try program.mapFD("fast_fdb")
        vtepsFD = try program.mapFD("fast_vteps")
        vnisFD = try program.mapFD("fast_vnis")
        gatewaysFD = try program.mapFD("fast_gateways")
        routesFD = try program.mapFD("fast_routes")
    }

    /// Turns the fast path on (with `config`) or off (nil). Off, every frame goes to the engine.
    public func setEnabled(_ config: FastPathTables.Config?) throws {
        var v = vxsw_fast_config()
        if let c = config {
            v.enabled = 1
            v.uplink_ifindex = UInt32(bitPattern: c.uplinkIfindex)
            v.uplink_mtu = UInt32(c.uplinkMTU)
            v.sport_lo = c.sourcePorts.lowerBound
            v.sport_hi = c.sourcePorts.upperBound
            v.udp_port = c.udpPort.bigEndian
            v.udp6_zero_csum = c.udp6ZeroChecksum ? 1 : 0
            v.decap_complete_csum = c.completeDecapChecksums ? 1 : 0
            v.verify_udp_csum4 = c.verifyUDPChecksumV4 ? 1 : 0
            v.verify_udp_csum6 = c.verifyUDPChecksumV6 ? 1 : 0
            if let v4 = c.localV4 { Self.copy(v4.bytes, into: &v.local_v4); v.has_v4 = 1 }
            if let v6 = c.localV6 { Self.copy(v6.bytes, into: &v.local_v6); v.has_v6 = 1 }
            Self.copy(c.uplinkMAC.bytes, into: &v.uplink_mac)
            v.tap_uplink_ifindex = UInt32(bitPattern: c.tapUplinkIfindex)
            v.tap_gro = c.tapGRO ? 1 : 0
        }
        var key: UInt32 = 0
        try update(configFD, &key, Self.bytes(of: v), "fast_config")
    }

    /// The bytes of a map value struct (BPF/lib/fast_types.h), for `bpf_map_update_elem`.
    static func bytes<T>(of value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    /// Fills a C array member (a Swift tuple) from `bytes`.
    static func copy<T>(_ bytes: [UInt8], into field: inout T) {
        withUnsafeMutableBytes(of: &field) { dst in
            for (i, b) in bytes.prefix(dst.count).enumerated() { dst[i] = b }
        }
    }

    /// Writes what changed from `old` to `new` (the config included).
    public func apply(from old: FastPathTables, to new: FastPathTables, enabled: Bool) throws {
        // 1. FDB entries and routes that go or change target first: nothing points at a port/VTEP about to change.
        for (key, target) in old.fdb where new.fdb[key] != target { delete(fdbFD, key) }
        for (key, target) in old.routes where new.routes[key] != target {
            var k = Self.routeKey(key)
            _ = bpf_map_delete_elem(routesFD, &k)
        }
        // 2. Ports, VTEPs, VNIs that are new or changed.
        for (index, p) in new.ports where old.ports[index] != p {
            var v = vxsw_fast_port()
            v.bd = UInt32(p.bd)
            v.vni = p.vni.value
            v.max_frame = UInt32(p.maxFrame)
            v.complete_csum = p.completeChecksums ? 1 : 0
            v.tap = p.tap ? 1 : 0
            var k = UInt32(bitPattern: index)
            try update(portsFD, &k, Self.bytes(of: v), "fast_ports")
        }
        for (index, t) in new.vteps where old.vteps[index] != t {
            var k = UInt32(index)
            try update(vtepsFD, &k, Self.vtepValue(t), "fast_vteps")
        }
        for (vni, bd) in new.vnis where old.vnis[vni] != bd {
            var k = vni
            var v = UInt32(bd)
            try withUnsafeBytes(of: &v) { try update(vnisFD, &k, Array($0), "fast_vnis") }
        }
        for (bd, g) in new.gateways where old.gateways[bd] != g {
            var k = UInt32(bd)
            try update(gatewaysFD, &k, Self.gatewayValue(g), "fast_gateways")
        }
        // 3. FDB entries and routes that are new or changed; the last-seen stamp XDP writes starts at 0.
        for (key, target) in new.fdb where old.fdb[key] != target {
            var k = key
            try update(fdbFD, &k, Self.fdbValue(target), "fast_fdb")
        }
        for (key, target) in new.routes where old.routes[key] != target {
            var k = Self.routeKey(key)
            try update(routesFD, &k, Self.routeValue(target), "fast_routes")
        }
        // 4. What is gone: ports, VNIs, VTEPs (an array map: zeroed, never resolved).
        for index in old.ports.keys where new.ports[index] == nil {
            var k = UInt32(bitPattern: index)
            _ = bpf_map_delete_elem(portsFD, &k)
        }
        for bd in old.gateways.keys where new.gateways[bd] == nil {
            var k = UInt32(bd)
            _ = bpf_map_delete_elem(gatewaysFD, &k)
        }
        for vni in old.vnis.keys where new.vnis[vni] == nil {
            var k = vni
            _ = bpf_map_delete_elem(vnisFD, &k)
        }
        for index in old.vteps.keys where new.vteps[index] == nil {
            var k = UInt32(index)
            try update(vtepsFD, &k, Self.bytes(of: vxsw_fast_vtep()), "fast_vteps")
        }
        try setEnabled(enabled ? new.config : nil)
    }

    /// Writes one FDB entry (nil: deletes it): the fast path following one table change.
    public func setFDB(_ key: UInt64, _ target: FastPathTables.Target?) throws {
        guard let target else { return delete(fdbFD, key) }
        var k = key
        try update(fdbFD, &k, Self.fdbValue(target), "fast_fdb")
    }

    /// Writes many FDB entries (nil: deletes) with one BPF_MAP_UPDATE_BATCH / DELETE_BATCH per
    /// 4096, not a system call each: an EVPN feed of 1M MACs spent a quarter of vxsw's CPU in
    /// single updates. Where a batch stops (a full map, a key already gone) the rest of it is
    /// written one by one, so each failure is known. Returns the keys not written and the first error.
    public func setFDB(_ entries: [(key: UInt64, target: FastPathTables.Target?)]) -> (failed: [UInt64], error: Error?) {
        var failed: [UInt64] = [], firstError: Error?
        let chunk = 4096
        let updates = entries.compactMap { e in e.target.map { (key: e.key, target: $0) } }
        let deletes = entries.filter { $0.target == nil }.map(\.key)
        for start in stride(from: 0, to: updates.count, by: chunk) {
            let part = updates[start..<min(start + chunk, updates.count)]
            let keys = part.map(\.key)
            let values = part.flatMap { Self.fdbValue($0.target) }
            var count = UInt32(keys.count)
            let rc = keys.withUnsafeBytes { k in values.withUnsafeBytes { v in bpf_map_update_batch(fdbFD, k.baseAddress, v.baseAddress, &count, nil) } }
            guard rc != 0 else { continue }
            // EFAULT leaves `count` untrusted: then every entry of the chunk again, one by one.
            let done = errno == EFAULT ? 0 : min(Int(count), part.count)
            for e in part.dropFirst(done) {
                do { try setFDB(e.key, e.target) } catch { failed.append(e.key); firstError = firstError ?? error }
            }
        }
        for start in stride(from: 0, to: deletes.count, by: chunk) {
            let keys = Array(deletes[start..<min(start + chunk, deletes.count)])
            var count = UInt32(keys.count)
            let rc = keys.withUnsafeBytes { bpf_map_delete_batch(fdbFD, $0.baseAddress, &count, nil) }
            guard rc != 0 else { continue }
            // A key already gone (ENOENT) stops the batch; a delete cannot fail otherwise that matters.
            for key in keys.dropFirst(errno == EFAULT ? 0 : min(Int(count), keys.count)) { delete(fdbFD, key) }
        }
        return (failed, firstError)
    }

    /// Empties every fast-path map and turns the fast path off.
    public func clear(_ tables: FastPathTables) throws {
        try setEnabled(nil)
        try apply(from: tables, to: FastPathTables(), enabled: false)
    }

    /// Entries `fast_fdb` holds at most (BPF/lib/fast_types.h).
    public static let fdbCapacity = Int(VXSW_FAST_MAX_FDB)

    /// The last-seen stamps (monotonic seconds) XDP wrote for FDB entries used as a source;
    /// entries never seen on the fast path are left out.
    public func lastSeen() -> [UInt64: UInt32] {
        var out: [UInt64: UInt32] = [:]
        readFDB { key, v in
            let stamp = Self.le32(v, MemoryLayout<vxsw_fast_fdb>.offset(of: \.last_seen)!)
            if stamp != 0 { out[key] = stamp }
        }
        return out
    }

    /// Every FDB entry the map holds, by key (the consistency audit).
    public func fdbEntries() -> [UInt64: FastPathTables.Target] {
        var out: [UInt64: FastPathTables.Target] = [:]
        readFDB { key, v in
            let kind = Self.le32(v, MemoryLayout<vxsw_fast_fdb>.offset(of: \.kind)!)
            let target = Self.le32(v, MemoryLayout<vxsw_fast_fdb>.offset(of: \.target)!)
            switch kind {
            case UInt32(VXSW_FAST_PORT.rawValue): out[key] = .port(ifindex: Int32(bitPattern: target))
            case UInt32(VXSW_FAST_VTEP.rawValue): out[key] = .vtep(UInt16(truncatingIfNeeded: target))
            default: break
            }
        }
        return out
    }

    /// The little-endian word at byte `offset` of a value (a slice keeps its array's indices).
    static func le32(_ v: ArraySlice<UInt8>, _ offset: Int) -> UInt32 {
        let b = v.startIndex + offset
        return UInt32(v[b]) | UInt32(v[b + 1]) << 8 | UInt32(v[b + 2]) << 16 | UInt32(v[b + 3]) << 24
    }

    /// Calls `body` with each entry of `fast_fdb` (key, the value's bytes: `struct vxsw_fast_fdb`): 4096 entries per
    /// syscall (`BPF_MAP_LOOKUP_BATCH`); a kernel without it is read key by key.
    private func readFDB(_ body: (UInt64, ArraySlice<UInt8>) -> Void) {
        let chunk = 4096, size = MemoryLayout<vxsw_fast_fdb>.stride
        var keys = [UInt64](repeating: 0, count: chunk)
        var values = [UInt8](repeating: 0, count: chunk * size)
        // The batch token of a hash map is a bucket index (u32); 8 bytes leave room.
        var token: UInt64 = 0
        var first = true
        while true {
            var count = UInt32(chunk)
            var next: UInt64 = 0
            let rc = keys.withUnsafeMutableBytes { k in
                values.withUnsafeMutableBytes { v in
                    first ? bpf_map_lookup_batch(fdbFD, nil, &next, k.baseAddress, v.baseAddress, &count, nil)
                          : bpf_map_lookup_batch(fdbFD, &token, &next, k.baseAddress, v.baseAddress, &count, nil)
                }
            }
            let error = rc < 0 ? errno : 0
            for i in 0..<Int(count) { body(keys[i], values[(i * size)..<(i * size + size)]) }
            if rc < 0 {
                // ENOENT: that was the last batch. Anything else (before any entry): the kernel cannot batch.
                if error != ENOENT && first { readFDBOneByOne(body) }
                return
            }
            token = next
            first = false
        }
    }

    /// `readFDB` two syscalls per entry, for kernels without batch lookups.
    private func readFDBOneByOne(_ body: (UInt64, ArraySlice<UInt8>) -> Void) {
        var key: UInt64 = 0
        var next: UInt64 = 0
        var value = [UInt8](repeating: 0, count: MemoryLayout<vxsw_fast_fdb>.stride)
        var first = true
        while true {
            let rc = first ? bpf_map_get_next_key(fdbFD, nil, &next) : bpf_map_get_next_key(fdbFD, &key, &next)
            guard rc == 0 else { break }
            first = false
            key = next
            var k = key
            if value.withUnsafeMutableBytes({ bpf_map_lookup_elem(fdbFD, &k, $0.baseAddress) == 0 }) { body(key, value[...]) }
        }
    }

    static func fdbValue(_ target: FastPathTables.Target) -> [UInt8] {
        var v = vxsw_fast_fdb()
        switch target {
        case .port(let ifindex): v.kind = UInt32(VXSW_FAST_PORT.rawValue); v.target = UInt32(bitPattern: ifindex)
        case .vtep(let i): v.kind = UInt32(VXSW_FAST_VTEP.rawValue); v.target = UInt32(i)
        }
        return bytes(of: v)
    }

    static func gatewayValue(_ g: FastGateway) -> [UInt8] {
        var v = vxsw_fast_gateway()
        copy(g.mac.bytes, into: &v.mac)
        copy(g.routerMAC.bytes, into: &v.router_mac)
        v.vrf = UInt32(g.vrf)
        v.l3_vni = g.l3VNI?.value ?? 0
        if let a = g.ipv4 { copy(a.bytes, into: &v.v4); v.has_v4 = 1 }
        if let a = g.ipv6 { copy(a.bytes, into: &v.v6); v.has_v6 = 1 }
        v.l3 = g.isL3 ? 1 : 0
        return bytes(of: v)
    }

    /// The key of `fast_routes`: VRF index and the address as 16 bytes (IPv4 as ::ffff:a.b.c.d).
    static func routeKey(_ k: FastRouteKey) -> vxsw_fast_route_key {
        var key = vxsw_fast_route_key()
        key.vrf = UInt32(k.vrf)
        let b = (0..<8).map { UInt8(truncatingIfNeeded: k.ip.hi >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: k.ip.lo >> (56 - 8 * $0)) }
        copy(b, into: &key.addr)
        return key
    }

    static func routeValue(_ t: FastRouteTarget) -> [UInt8] {
        var v = vxsw_fast_route()
        switch t {
        case .local(let bd, let mac):
            v.kind = UInt32(VXSW_FAST_ROUTE_LOCAL.rawValue); v.target = UInt32(bd); copy(mac.bytes, into: &v.mac)
        case .remote(let vtep, let mac):
            v.kind = UInt32(VXSW_FAST_ROUTE_REMOTE.rawValue); v.target = UInt32(vtep); copy(mac.bytes, into: &v.mac)
        }
        return bytes(of: v)
    }

    static func vtepValue(_ t: FastPathTables.VTEP) -> [UInt8] {
        var v = vxsw_fast_vtep()
        if let mac = t.nextHop { copy(mac.bytes, into: &v.next_hop); v.resolved = 1 }
        v.ipv6 = t.remote.isIPv4 ? 0 : 1
        copy(t.remote.bytes, into: &v.remote)
        return bytes(of: v)
    }

    private func update<K: BitwiseCopyable>(_ fd: Int32, _ key: inout K, _ value: [UInt8], _ name: String) throws {
        let rc = value.withUnsafeBytes { bpf_map_update_elem(fd, &key, $0.baseAddress, 0) }
        guard rc == 0 else { throw DatapathError("write XDP map \(name)", errno: errno) }
    }

    private func delete(_ fd: Int32, _ key: UInt64) {
        var k = key
        _ = bpf_map_delete_elem(fd, &k)
    }
}
