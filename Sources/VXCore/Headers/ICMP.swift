/// ICMP (RFC 792) and ICMPv6 (RFC 4443) error and echo messages a router sends.
///
///     0 type  1 code  2 checksum  4 unused / MTU (frag needed: low 16 bits; PTB: 32 bits) or echo id+seq
///     8 as much of the offending packet as fits (IPv4: 576 bytes in all, IPv6: 1280)
public enum ICMP {
    public static let protocolNumber: UInt8 = 1
    public static let headerLength = 8
    public static let typeEchoReply: UInt8 = 0
    public static let typeUnreachable: UInt8 = 3
    public static let codeNetUnreachable: UInt8 = 0
    public static let codeFragmentationNeeded: UInt8 = 4
    public static let typeEchoRequest: UInt8 = 8
    public static let typeTimeExceeded: UInt8 = 11
    /// Largest ICMPv4 error datagram (RFC 1812 §4.3.2.3) and ICMPv6 error packet (RFC 4443 §2.4(c)).
    public static let maxErrorV4 = 576
    public static let maxErrorV6 = 1280

    public static let v6Unreachable: UInt8 = 1
    public static let v6PacketTooBig: UInt8 = 2
    public static let v6TimeExceeded: UInt8 = 3
    public static let v6EchoRequest: UInt8 = 128
    public static let v6EchoReply: UInt8 = 129
}
