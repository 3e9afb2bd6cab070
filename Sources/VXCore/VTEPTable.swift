/// A remote VTEP: its underlay address and the next-hop MAC to reach it (its counters are
/// in `Counters.vteps`, by the same index).
public struct VTEP: Sendable {
    public var ip: IPAddress
    /// Underlay next hop's MAC, set by the control plane after neighbor resolution.
    public var nextHop: MACAddress?
    /// Set when a frame wanted this VTEP while it was unresolved; cleared on resolution.
    public var needsResolution = false
    public var active = true

    public init(ip: IPAddress) { self.ip = ip }
}

/// Remote VTEP addresses ↔ dense indices (UInt16), as FDB destinations and flood targets use them.
public struct VTEPTable: Sendable {
    @usableFromInline var slots: [VTEP] = []
    public var entries: [VTEP] { slots }
    @usableFromInline var indexOfIP: IndexMap
    @usableFromInline var lastIP = IPAddress(hi: .max, lo: .max)
    @usableFromInline var lastIndex: UInt16 = 0
    public let capacity: Int
    /// Bumped by every add, remove and next-hop change: lets a reader (the fast-path mirror)
    /// see that a MAC install created a VTEP on the way.
    public private(set) var generation: UInt64 = 0

    public init(capacity: Int) {
        self.capacity = min(capacity, Int(UInt16.max))
        slots.reserveCapacity(self.capacity)
        indexOfIP = IndexMap(capacity: min(self.capacity, 256))
    }

    @inlinable public mutating func index(of ip: IPAddress) -> UInt16? {
        if ip == lastIP { return lastIndex }
        guard let i = indexOfIP.value(hi: ip.hi, lo: ip.lo) else { return nil }
        lastIP = ip; lastIndex = i
        return i
    }

    /// Finds or creates the VTEP for `ip` (unresolved when new); nil when full.
    public mutating func add(_ ip: IPAddress) -> UInt16? {
        if let i = index(of: ip) { return i }
        let i: Int
        if let free = slots.firstIndex(where: { !$0.active }) {
            i = free; slots[i] = VTEP(ip: ip)
        } else {
            guard slots.count < capacity else { return nil }
            i = slots.count; slots.append(VTEP(ip: ip))
        }
        indexOfIP.set(hi: ip.hi, lo: ip.lo, UInt16(i))
        generation &+= 1
        return UInt16(i)
    }

    /// Frees a VTEP's index (the caller has removed it from FDB and flood lists).
    mutating func remove(_ ip: IPAddress) -> UInt16? {
        guard let i = indexOfIP.remove(hi: ip.hi, lo: ip.lo) else { return nil }
        lastIP = IPAddress(hi: .max, lo: .max)
        slots[Int(i)] = VTEP(ip: ip)
        slots[Int(i)].active = false
        generation &+= 1
        return i
    }

    /// Sets (or clears) the next-hop MAC after neighbor resolution.
    @discardableResult
    public mutating func setNextHop(_ ip: IPAddress, _ mac: MACAddress?) -> Bool {
        guard let i = index(of: ip) else { return false }
        if slots[Int(i)].nextHop != mac { generation &+= 1 }
        slots[Int(i)].nextHop = mac
        if mac != nil { slots[Int(i)].needsResolution = false }
        return true
    }

    /// VTEPs that frames wanted while no next hop was known: the control plane resolves them.
    public var needingResolution: [IPAddress] {
        entries.filter { $0.active && $0.nextHop == nil && $0.needsResolution }.map(\.ip)
    }

    public subscript(index: UInt16) -> VTEP { entries[Int(index)] }
}
