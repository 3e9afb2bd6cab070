/// Where a route sends a packet.
public enum RouteNextHop: Sendable, Equatable {
    /// A connected subnet (an anycast gateway's): the destination host's MAC comes from the
    /// hosts the gateway learned in the L2 VNI, or the neighbour table.
    case connected(VNI)
    /// One host in a local L2 VNI, at `mac`.
    case host(VNI, MACAddress)
    /// Symmetric IRB: a remote VTEP's router MAC, reached through the VRF's L3 VNI.
    case remote(vtep: IPAddress, routerMAC: MACAddress)
}

/// The longest-prefix-match tables of every VRF, IPv4 and IPv6: one preallocated
/// `OpenHashTable` (`HashTable.swift`) keyed by (VRF, family, prefix length, masked address),
/// and per VRF and family a bitmap of the prefix lengths present. A lookup probes the lengths
/// present longest first: one hash probe per distinct length in the VRF (a VRF with
/// connected /24s and /64s and host routes costs 2 probes, or 1 for a host route hit).
/// No allocation after `init`, no class or closure per lookup.
///
/// Slots are 32 bytes: the address (16), a tag (VRF, length, family, next-hop kind, bridge
/// domain or VTEP index) and the next-hop MAC. `capacity` routes, all VRFs together; a full
/// table refuses an install.
public struct RouteTable: Sendable {
    @usableFromInline static let empty = UInt64.max

    /// What `lookup` returns: the kind and its index (bridge domain or VTEP) and MAC.
    public struct Hop: Sendable, Equatable {
        public enum Kind: UInt8, Sendable { case connected, host, remote }
        public var kind: Kind
        /// Bridge domain (connected, host) or VTEP index (remote).
        public var index: UInt16
        /// Host MAC or remote router MAC (0 for connected).
        public var mac: MACAddress

        @inlinable public init(kind: Kind, index: UInt16, mac: MACAddress) {
            self.kind = kind; self.index = index; self.mac = mac
        }
    }

    @usableFromInline struct Slot: Sendable, HashSlot {
        @usableFromInline var hi: UInt64
        @usableFromInline var lo: UInt64
        /// vrf << 56 | length << 48 | v4 << 47 | kind << 40 | index; `RouteTable.empty` when free.
        @usableFromInline var tag: UInt64
        @usableFromInline var mac: UInt64

        @inlinable init(hi: UInt64, lo: UInt64, tag: UInt64, mac: UInt64) {
            self.hi = hi; self.lo = lo; self.tag = tag; self.mac = mac
        }

        @inlinable static var empty: Slot { Slot(hi: 0, lo: 0, tag: RouteTable.empty, mac: 0) }
        @inlinable var isEmpty: Bool { tag == RouteTable.empty }
        /// The key part of the tag: VRF, length, family.
        @inlinable var keyTag: UInt64 { tag & 0xFFFF_8000_0000_0000 }
        @inlinable static func hash(_ key: (tag: UInt64, hi: UInt64, lo: UInt64)) -> UInt64 {
            hash128(key.hi, key.lo, extra: key.tag)
        }
        @inlinable var hash: UInt64 { Slot.hash((keyTag, hi, lo)) }
        @inlinable func holds(_ key: (tag: UInt64, hi: UInt64, lo: UInt64)) -> Bool {
            lo == key.lo && hi == key.hi && keyTag == key.tag
        }
        @inlinable var hop: Hop {
            Hop(kind: Hop.Kind(rawValue: UInt8(truncatingIfNeeded: tag >> 40) & 3) ?? .connected,
                index: UInt16(truncatingIfNeeded: tag), mac: MACAddress(raw: mac))
        }
    }

    @usableFromInline var table: OpenHashTable<Slot>
    /// Per VRF: bit L set when an IPv4 route of length L exists (0...32).
    @usableFromInline var lengths4: [UInt64]
    /// Per VRF, three words: bit L of word L / 64 set when an IPv6 route of length L exists (0...128).
    @usableFromInline var lengths6: [UInt64]
    /// Per VRF and length (33 IPv4 then 129 IPv6): how many routes, to clear a bit when the last goes.
    var lengthCounts: [UInt32]
    public let vrfCapacity: Int
    public var count: Int { table.count }
    public var maxEntries: Int { table.maxEntries }

    public init(capacity: Int, vrfs: Int) {
        table = OpenHashTable(capacity: capacity)
        vrfCapacity = vrfs
        lengths4 = Array(repeating: 0, count: vrfs)
        lengths6 = Array(repeating: 0, count: vrfs * 3)
        lengthCounts = Array(repeating: 0, count: vrfs * 162)
    }

    @inlinable static func keyTag(vrf: UInt8, length: UInt8, v4: Bool) -> UInt64 {
        UInt64(vrf) << 56 | UInt64(length) << 48 | (v4 ? 1 << 47 : 0)
    }

    /// The longest route of VRF `vrf` that holds `ip`, or nil.
    @inlinable public func lookup(vrf: UInt8, _ ip: IPAddress) -> Hop? {
        let v = Int(vrf)
        if ip.isIPv4 {
            var bits = lengths4[v]
            while bits != 0 {
                let length = UInt8(truncatingIfNeeded: 63 &- bits.leadingZeroBitCount)
                bits &= ~(1 &<< UInt64(length))
                let a = ip.masked(to: length)
                if let i = table.find((RouteTable.keyTag(vrf: vrf, length: length, v4: true), a.hi, a.lo)) {
                    return table[i].hop
                }
            }
            return nil
        }
        var word = 2
        while word >= 0 {
            var bits = lengths6[v &* 3 &+ word]
            while bits != 0 {
                let bit = 63 &- bits.leadingZeroBitCount
                bits &= ~(1 &<< UInt64(bit))
                let length = UInt8(truncatingIfNeeded: word &* 64 &+ bit)
                let a = ip.masked(to: length)
                if let i = table.find((RouteTable.keyTag(vrf: vrf, length: length, v4: false), a.hi, a.lo)) {
                    return table[i].hop
                }
            }
            word &-= 1
        }
        return nil
    }

    /// The route for exactly `prefix` in `vrf`, or nil.
    public func route(vrf: UInt8, _ prefix: IPPrefix) -> Hop? {
        let a = prefix.address
        return table.find((RouteTable.keyTag(vrf: vrf, length: prefix.length, v4: prefix.isIPv4), a.hi, a.lo))
            .map { table[$0].hop }
    }

    /// Installs (or replaces) the route for `prefix` in `vrf`; false when the table is full.
    @discardableResult
    public mutating func set(vrf: UInt8, _ prefix: IPPrefix, _ hop: Hop) -> Bool {
        let key = RouteTable.keyTag(vrf: vrf, length: prefix.length, v4: prefix.isIPv4)
        let tag = key | UInt64(hop.kind.rawValue) << 40 | UInt64(hop.index)
        let a = prefix.address
        if let i = table.find((key, a.hi, a.lo)) {
            table[i].tag = tag
            table[i].mac = hop.mac.raw
            return true
        }
        guard table.insert(Slot(hi: a.hi, lo: a.lo, tag: tag, mac: hop.mac.raw)) != nil else { return false }
        countLength(vrf: vrf, prefix.length, v4: prefix.isIPv4, by: 1)
        return true
    }

    /// Removes the route for `prefix` in `vrf`; returns what it was.
    @discardableResult
    public mutating func remove(vrf: UInt8, _ prefix: IPPrefix) -> Hop? {
        let a = prefix.address
        guard let i = table.find((RouteTable.keyTag(vrf: vrf, length: prefix.length, v4: prefix.isIPv4), a.hi, a.lo))
        else { return nil }
        let old = table[i].hop
        table.remove(at: i)
        countLength(vrf: vrf, prefix.length, v4: prefix.isIPv4, by: -1)
        return old
    }

    /// Removes every route `matches` accepts (a VRF going away, a VTEP or domain removed); returns how many.
    @discardableResult
    mutating func removeAll(where matches: (UInt8, IPPrefix, Hop) -> Bool) -> Int {
        let doomed = entries().filter { matches($0.vrf, $0.prefix, $0.hop) }
        for e in doomed { remove(vrf: e.vrf, e.prefix) }
        return doomed.count
    }

    mutating func countLength(vrf: UInt8, _ length: UInt8, v4: Bool, by delta: Int) {
        let v = Int(vrf), l = Int(length)
        let c = v * 162 + (v4 ? l : 33 + l)
        lengthCounts[c] = UInt32(Int(lengthCounts[c]) + delta)
        let on = lengthCounts[c] != 0
        if v4 {
            if on { lengths4[v] |= 1 << UInt64(l) } else { lengths4[v] &= ~(1 << UInt64(l)) }
        } else {
            let w = v * 3 + l / 64, bit = UInt64(l % 64)
            if on { lengths6[w] |= 1 << bit } else { lengths6[w] &= ~(1 << bit) }
        }
    }

    /// Every route (unordered), for show commands, tests and removals.
    public func entries() -> [(vrf: UInt8, prefix: IPPrefix, hop: Hop)] {
        table.map { s in
            let length = Int(s.tag >> 48 & 0xFF)
            return (UInt8(truncatingIfNeeded: s.tag >> 56),
                    IPPrefix(IPAddress(hi: s.hi, lo: s.lo), length: length)!, s.hop)
        }
    }
}
