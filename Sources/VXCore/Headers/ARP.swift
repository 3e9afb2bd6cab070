/// ARP over Ethernet for IPv4 (RFC 826), 28 bytes after the Ethernet header.
///
///     0 htype (1)  2 ptype (0x0800)  4 hlen (6)  5 plen (4)  6 op (1 request, 2 reply)
///     8 sender MAC  14 sender IP  18 target MAC  24 target IP
public enum ARP {
    public static let etherType: UInt16 = 0x0806
    public static let length = 28
    public static let opRequest: UInt16 = 1
    public static let opReply: UInt16 = 2

    /// True when the 28 bytes at `p` are an Ethernet/IPv4 ARP request.
    @inlinable public static func isIPv4Request(_ p: UnsafeRawPointer) -> Bool {
        // htype 1, ptype 0x0800 | hlen 6, plen 4, op 1
        p.loadBE32(0) == 0x0001_0800 && p.loadBE32(4) == 0x0604_0001
    }
    @inlinable public static func senderMAC(_ p: UnsafeRawPointer) -> MACAddress { MACAddress(loadingFrom: p + 8) }
    /// Sender IPv4 address, host order.
    @inlinable public static func senderIP(_ p: UnsafeRawPointer) -> UInt32 { p.loadBE32(14) }
    @inlinable public static func targetIP(_ p: UnsafeRawPointer) -> UInt32 { p.loadBE32(24) }

    /// Turns the request at `p` into the reply "`targetIP` is at `mac`", addressed to the
    /// requester: op 2, sender = (mac, target IP), target = the old sender.
    @inlinable public static func makeReply(_ p: UnsafeMutableRawPointer, mac: MACAddress) {
        let requesterMAC = senderMAC(p), requesterIP = senderIP(p), ip = targetIP(p)
        p.storeBE16(opReply, 6)
        mac.store(to: p + 8)
        p.storeBE32(ip, 14)
        requesterMAC.store(to: p + 18)
        p.storeBE32(requesterIP, 24)
    }
}
