import VXCore

/// A local MAC the switch learned (or that moved here), or one it no longer has (aged,
/// removed), or a local IP it learned: what `EVPNSpeaker.localMACsChanged` turns into type-2 announcements and withdrawals.
public struct LocalMACChange: Sendable, Equatable {
    public var vni: VNI
    public var mac: MACAddress
    /// True: learned or moved here; false: gone.
    public var learned: Bool
    /// A static entry: advertised sticky (RFC 7432 §15.2).
    public var sticky: Bool
    /// A local IP learned from the VM's ARP/ND at `mac` (`learned` true): a MAC/IP route.
    public var ip: IPAddress?

    public init(vni: VNI, mac: MACAddress, learned: Bool, sticky: Bool = false) {
        self.vni = vni; self.mac = mac; self.learned = learned; self.sticky = sticky
    }

    /// `ip` is at `mac` (a local VM's ARP/ND).
    public init(vni: VNI, mac: MACAddress, ip: IPAddress) {
        self.vni = vni; self.mac = mac; self.learned = true; self.sticky = false; self.ip = ip
    }
}

/// Changes queued for the speaker's loop: `items[head...]` are still to be taken; `scheduled`
/// while a turn is on its way.
struct LocalMACQueue {
    var items: [LocalMACChange] = []
    var head = 0
    var scheduled = false
}
