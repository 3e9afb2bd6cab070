/// The underlay side of the switch: local VTEP addresses, the VXLAN UDP port and the uplink.
public struct UnderlayConfig: Sendable {
    /// Local VTEP IPv4 address (v4-mapped) used as outer source toward IPv4 VTEPs.
    public var localV4: IPAddress?
    /// Local VTEP IPv6 address used as outer source toward IPv6 VTEPs.
    public var localV6: IPAddress?
    /// VXLAN destination port (IANA 4789; Linux's historic default is 8472).
    public var udpPort: UInt16 = VXLAN.defaultPort
    public var uplink: PortID
    public var uplinkMAC: MACAddress
    /// Largest outer IP packet the uplink carries.
    public var uplinkMTU: Int = 1500
    /// Send outer IPv6 UDP checksum 0 (RFC 6935/6936 allow it for tunnels) instead of computing it.
    public var udp6ZeroChecksum = false
    /// Verify non-zero outer UDP checksums over IPv4 / IPv6 and drop wrong ones (`bad_udp_checksum`).
    /// A zero checksum ("none": always allowed over IPv4, allowed for tunnels over IPv6 by
    /// RFC 6935/6936) is accepted either way.
    public var verifyUDPChecksumV4 = false
    public var verifyUDPChecksumV6 = true
    /// Outer UDP source ports, chosen by inner flow hash for ECMP entropy (RFC 7348 §5).
    public var sourcePortRange: ClosedRange<UInt16> = 49152...65535
    /// Complete inner TCP/UDP checksums after decapsulation.
    public var completeDecapChecksums = false

    public init(uplink: PortID, uplinkMAC: MACAddress, localV4: IPAddress? = nil, localV6: IPAddress? = nil) {
        self.uplink = uplink
        self.uplinkMAC = uplinkMAC
        self.localV4 = localV4
        self.localV6 = localV6
    }

    /// Whether `ip` is one of the local VTEP addresses.
    @inlinable public func isLocal(_ ip: IPAddress) -> Bool { ip == localV4 || ip == localV6 }
}
