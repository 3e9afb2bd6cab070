/// `struct virtio_net_hdr` (virtio 1.x §5.1.6, legacy layout without `num_buffers`), the
/// 10 bytes in front of every frame on a tap opened with IFF_VNET_HDR and on an AF_PACKET
/// socket with PACKET_VNET_HDR. Little-endian on the wire (the packet socket and a tap
/// with TUNSETVNETLE use the host's order; vxsw runs on x86 and arm64, both little-endian).
///
///     0 flags  1 gso_type  2 hdr_len  4 gso_size  6 csum_start  8 csum_offset
///
/// flags NEEDS_CSUM: the L4 checksum is partial, complete it over [csum_start, end) and
/// store it at csum_start + csum_offset. gso_type ≠ NONE: a super-frame to be cut into
/// segments of gso_size payload bytes (see `Segmenter`).
public struct VirtioNetHeader: Equatable, Sendable {
    public var flags: UInt8
    public var gsoType: UInt8
    /// Length of the headers (L2 + L3 + L4) as the sender saw them; a hint, not trusted.
    public var hdrLen: UInt16
    /// Payload bytes per segment (TCP MSS, UDP payload per datagram).
    public var gsoSize: UInt16
    public var csumStart: UInt16
    public var csumOffset: UInt16

    public static let size = 10

    public static let flagNeedsCsum: UInt8 = 1
    public static let flagDataValid: UInt8 = 2

    public static let gsoNone: UInt8 = 0
    public static let gsoTCPv4: UInt8 = 1
    /// UFO: one UDP datagram sent as IP fragments.
    public static let gsoUDP: UInt8 = 3
    public static let gsoTCPv6: UInt8 = 4
    /// USO: each segment is its own UDP datagram.
    public static let gsoUDPL4: UInt8 = 5
    /// Or-ed into gsoType: the TCP super-frame has CWR set (only its first segment keeps it).
    public static let gsoECN: UInt8 = 0x80
    /// Or-ed into gsoType (virtio 1.4, Linux 6.17): the packet is UDP-tunnelled over IPv4 /
    /// IPv6 and the GSO type names what is inside (`VirtioTunnelHeader`).
    public static let gsoUDPTunnelIPv4: UInt8 = 0x20
    public static let gsoUDPTunnelIPv6: UInt8 = 0x40
    /// flags: the outer UDP checksum is partial too (the pseudo-header sum), complete it per segment.
    public static let flagUDPTunnelCsum: UInt8 = 8

    @inlinable
    public init(flags: UInt8 = 0, gsoType: UInt8 = VirtioNetHeader.gsoNone, hdrLen: UInt16 = 0, gsoSize: UInt16 = 0,
                csumStart: UInt16 = 0, csumOffset: UInt16 = 0) {
        self.flags = flags; self.gsoType = gsoType; self.hdrLen = hdrLen
        self.gsoSize = gsoSize; self.csumStart = csumStart; self.csumOffset = csumOffset
    }

    /// Reads the 10 bytes at `p`.
    @inlinable public init(loadingFrom p: UnsafeRawPointer) {
        flags = p.load(as: UInt8.self)
        gsoType = p.load(fromByteOffset: 1, as: UInt8.self)
        hdrLen = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        gsoSize = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        csumStart = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        csumOffset = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
    }

    /// Writes the 10 bytes at `p`.
    @inlinable public func store(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: flags, as: UInt8.self)
        p.storeBytes(of: gsoType, toByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: hdrLen.littleEndian, toByteOffset: 2, as: UInt16.self)
        p.storeBytes(of: gsoSize.littleEndian, toByteOffset: 4, as: UInt16.self)
        p.storeBytes(of: csumStart.littleEndian, toByteOffset: 6, as: UInt16.self)
        p.storeBytes(of: csumOffset.littleEndian, toByteOffset: 8, as: UInt16.self)
    }

    /// gsoType without the ECN bit.
    @inlinable public var gsoKind: UInt8 { gsoType & ~VirtioNetHeader.gsoECN }
    @inlinable public var isGSO: Bool { gsoKind != VirtioNetHeader.gsoNone }
    @inlinable public var needsChecksum: Bool { flags & VirtioNetHeader.flagNeedsCsum != 0 }
}
