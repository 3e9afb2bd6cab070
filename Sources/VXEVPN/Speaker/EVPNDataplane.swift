import VXCore

/// What the speaker asks of the switch. Called on the speaker's event loop, in order; the
/// switch copies what it needs into its own state and returns quickly.
public protocol EVPNDataplane: AnyObject {
    /// A remote MAC (best route): forward (vni, mac) to `vtep`. Called again when the VTEP,
    /// IPs or sequence change. `ips` (all of the MAC's, sorted; IPv4 and IPv6) feed ARP/ND
    /// suppression; an IP no longer listed is no longer the MAC's.
    func installRemoteMAC(vni: VNI, mac: MACAddress, ips: [IPAddress], vtep: IPAddress, seq: UInt32)
    /// No remote route left for (vni, mac), or the MAC is local now.
    func withdrawRemoteMAC(vni: VNI, mac: MACAddress)
    /// Head-end replication list of the VNI (type-3 routes).
    func addFloodVTEP(vni: VNI, vtep: IPAddress)
    func removeFloodVTEP(vni: VNI, vtep: IPAddress)
    /// A host route learned from a remote VTEP's MAC/IP route with an L3 VNI (symmetric IRB):
    /// route `ip` (/32 or /128) in the VRF of L3 VNI `vrf` to `vtep`, inner destination
    /// `routerMAC`. Called again when the best VTEP or router MAC changes.
    func installRemoteHostRoute(vrf: VNI, ip: IPAddress, vtep: IPAddress, routerMAC: MACAddress)
    /// No remote route left for `ip` in the VRF.
    func withdrawRemoteHostRoute(vrf: VNI, ip: IPAddress)
    /// A prefix learned from a remote VTEP's type-5 route (RFC 9136, interface-less): route
    /// `prefix` in the VRF of L3 VNI `vrf` to `vtep`, inner destination `routerMAC`.
    func installRemotePrefixRoute(vrf: VNI, prefix: IPPrefix, vtep: IPAddress, routerMAC: MACAddress)
    /// No type-5 route left for `prefix` in the VRF.
    func withdrawRemotePrefixRoute(vrf: VNI, prefix: IPPrefix)
    /// A MAC moved `moves` times within dup-addr-detection's time: it is a duplicate, found on
    /// a local learn (`local`; `vtep`: where it was before) or on a remote route (from `vtep`);
    /// `frozen`: it is neither advertised nor installed until cleared.
    func duplicateMACDetected(vni: VNI, mac: MACAddress, moves: Int, local: Bool, vtep: IPAddress?, frozen: Bool)
    /// The same for an IP (a local VM's, from its ARP/ND, claimed by remote routes too).
    func duplicateIPDetected(vni: VNI, ip: IPAddress, moves: Int, local: Bool, vtep: IPAddress?, frozen: Bool)
    /// A local VM's IP (learned from its ARP/ND) left with its MAC: its neighbour entry goes
    /// (only while it still maps to `mac`).
    func localNeighborRemoved(vni: VNI, ip: IPAddress, mac: MACAddress)
    /// The RIB starts and ends the changes of one UPDATE (or of a peer's routes going away), and
    /// a session those of all the UPDATEs of one socket read: the switch may queue the MAC
    /// installs and withdrawals in between and apply them together (one UPDATE carries ~100
    /// MACs, one read up to ~60 UPDATEs: one table update, not thousands). Nested calls pair
    /// up; everything runs on the speaker's one event loop, so batches never interleave.
    func beginBatch()
    func endBatch()
}

extension EVPNDataplane {
    public func beginBatch() {}
    public func endBatch() {}
    public func duplicateMACDetected(vni: VNI, mac: MACAddress, moves: Int, local: Bool, vtep: IPAddress?, frozen: Bool) {}
    public func duplicateIPDetected(vni: VNI, ip: IPAddress, moves: Int, local: Bool, vtep: IPAddress?, frozen: Bool) {}
    public func localNeighborRemoved(vni: VNI, ip: IPAddress, mac: MACAddress) {}
}
