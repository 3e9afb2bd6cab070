import VXCore

/// A local MAC the switch learned (or that moved here), or one it no longer has (aged,
/// removed): what `EVPNSpeaker.localMACsChanged` turns into type-2 announcements and withdrawals.
public struct LocalMACChange: Sendable, Equatable {
    public var vni: VNI
    public var mac: MACAddress
    /// True: learned or moved here; false: gone.
    public var learned: Bool
    /// A static entry: advertised sticky (RFC 7432 §15.2).
    public var sticky: Bool

    public init(vni: VNI, mac: MACAddress, learned: Bool, sticky: Bool = false) {
        self.vni = vni; self.mac = mac; self.learned = learned; self.sticky = sticky
    }
}

/// Changes queued for the speaker's loop: `items[head...]` are still to be taken; `scheduled`
/// while a turn is on its way.
struct LocalMACQueue {
    var items: [LocalMACChange] = []
    var head = 0
    var scheduled = false
}
