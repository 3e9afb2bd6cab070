/// A remote VTEP: its underlay address and the next-hop MAC to reach it (its counters are
/// in `Counters.vteps`, by the same index).
public struct VTEP: Sendable {
    public var ip: IPAddress
    /// Underlay next hop's MAC, set by the control plane after neighbor resolution.
    public var nextHop: MACAddress?
    /// Set when a frame wanted this VTEP while it was unresolved; cleared on resolution.
    public var needsResolution = false
    public var active = true
    /// Learned from the data plane (`vtep.accept: any`): ages out, counted against
    /// `VTEPAdmission.maxLearned`. False for a VTEP the control plane gave (flood list, static
    /// entry, EVPN route, next hop); such an add promotes a learned one.
    public var learned = false

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
    /// Which source VTEPs are decapsulated from (`Pipeline.receiveOverlay`) and how many the
    /// data plane may add; the same in every copy (`TableUpdate.setVTEPAdmission`).
    public internal(set) var admission = VTEPAdmission()
    /// Active VTEPs with `learned` set: at most `admission.maxLearned`, so the control plane
    /// always finds `capacity - maxLearned` indices, whatever a spoofed storm did.
    public private(set) var learnedCount = 0

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

    /// Finds or creates the VTEP for `ip` for the control plane (unresolved when new); a
    /// learned one is promoted to known. Nil when full.
    public mutating func add(_ ip: IPAddress) -> UInt16? {
        if let i = index(of: ip) {
            if slots[Int(i)].learned { slots[Int(i)].learned = false; learnedCount -= 1 }
            return i
        }
        return create(ip, learned: false)
    }

    /// Sets the admission policy (`maxLearned` at most the capacity). Learned VTEPs over a
    /// lowered limit stay until they age out.
    mutating func setAdmission(_ a: VTEPAdmission) {
        admission = VTEPAdmission(accept: a.accept, maxLearned: min(max(a.maxLearned, 0), capacity))
    }

    /// Whether the data plane may add one more VTEP (`vtep.accept: any`, under `max-learned`).
    @inlinable public var learnsMore: Bool {
        admission.accept == .any && learnedCount < admission.maxLearned
    }

    /// Finds, or creates as learned from the data plane, the VTEP for `ip`; nil when
    /// admission does not take it (`accept: known`, or `max-learned` reached) or the table is full.
    public mutating func addLearned(_ ip: IPAddress) -> UInt16? {
        if let i = index(of: ip) { return i }
        guard learnsMore else { return nil }
        return create(ip, learned: true)
    }

    private mutating func create(_ ip: IPAddress, learned: Bool) -> UInt16? {
        let i: Int
        if let free = slots.firstIndex(where: { !$0.active }) {
            i = free; slots[i] = VTEP(ip: ip)
        } else {
            guard slots.count < capacity else { return nil }
            i = slots.count; slots.append(VTEP(ip: ip))
        }
        slots[i].learned = learned
        if learned { learnedCount += 1 }
        indexOfIP.set(hi: ip.hi, lo: ip.lo, UInt16(i))
        generation &+= 1
        return UInt16(i)
    }

    /// Frees a VTEP's index (the caller has removed it from FDB and flood lists).
    mutating func remove(_ ip: IPAddress) -> UInt16? {
        guard let i = indexOfIP.remove(hi: ip.hi, lo: ip.lo) else { return nil }
        lastIP = IPAddress(hi: .max, lo: .max)
        if slots[Int(i)].learned { learnedCount -= 1 }
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

    /// Active learned VTEPs, for aging (`LearnedVTEPAging`).
    public var learnedAddresses: [IPAddress] { learnedCount == 0 ? [] : slots.filter { $0.active && $0.learned }.map(\.ip) }
}

/// Which remote VTEPs a switch decapsulates from (`vtep.accept`, `vtep.max-learned`).
public struct VTEPAdmission: Sendable, Equatable {
    public enum Accept: String, Sendable, Equatable, CaseIterable {
        /// Only VTEPs the control plane gave: flood lists, static entries, EVPN routes.
        /// Anything else is dropped (`unknown_vtep`) before learning or delivery.
        case known
        /// Any source VTEP; those learned from the data plane age out and are capped.
        case any
    }

    public var accept: Accept
    /// Most VTEPs the data plane may add (`accept: any`); one more is dropped (`vtep_limit`).
    public var maxLearned: Int

    public static let defaultMaxLearned = 1024

    public init(accept: Accept = .known, maxLearned: Int = VTEPAdmission.defaultMaxLearned) {
        self.accept = accept
        self.maxLearned = maxLearned
    }
}
