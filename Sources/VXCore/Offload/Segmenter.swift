/// Software GSO: cuts a super-frame from a virtio-net guest (up to 64 KB, with a
/// `VirtioNetHeader` in front) into wire-sized Ethernet frames before VXLAN encapsulation.
///
///     super-frame  | eth [tag] | ip | tcp/udp |  payload 0 | payload 1 | ... | payload n-1 |
///     segment i    | eth [tag] | ip'| tcp'/udp' | payload i |      (gso_size bytes, the last shorter)
///
/// Per segment: IPv4 total length, id + i and header checksum; IPv6 payload length; TCP
/// sequence + i × gso_size, FIN/PSH only on the last segment, CWR only on the first; UDP
/// (USO, gso UDP_L4) length; the L4 checksum computed in full. Headers and payload are
/// copied once into the caller's buffer; the super-frame is only read.
///
/// Refused with a `SegmentationError` before anything is written: UFO (gso UDP), IPv6
/// extension headers, IPv4 fragments, headers past the end. IPv4 options are copied to
/// every segment. hdr_len is only checked to lie inside the frame: guests fill it loosely,
/// so the headers are parsed, as the kernel does.
///
///     var s = try Segmenter(frame: p, length: n, header: h)
///     while let len = s.next(into: buf, capacity: frameSize) { transmit(buf, len) }
public struct Segmenter {
    /// The super-frame (its Ethernet header) and its length, as validated.
    public let frame: UnsafeRawPointer
    public let length: Int
    /// The virtio-net header it came with.
    public let header: VirtioNetHeader
    public let layout: OffloadLayout
    public let gsoSize: Int
    public let segmentCount: Int
    @usableFromInline let firstSequence: UInt32
    @usableFromInline let firstID: UInt16
    @usableFromInline let tcpFlags: UInt8
    @usableFromInline var nextIndex = 0

    /// Validates the super-frame of `length` bytes at `frame` (starting at its Ethernet
    /// header, after the virtio header) against `header`.
    @inlinable
    public init(frame: UnsafeRawPointer, length: Int, header: VirtioNetHeader) throws(SegmentationError) {
        let kind = header.gsoKind
        let ecn = header.gsoType & VirtioNetHeader.gsoECN != 0
        switch kind {
        case VirtioNetHeader.gsoNone: throw .notGSO
        case VirtioNetHeader.gsoTCPv4, VirtioNetHeader.gsoTCPv6: break
        case VirtioNetHeader.gsoUDPL4: if ecn { throw .unsupportedGSOType }
        case VirtioNetHeader.gsoUDP: throw .ufoUnsupported
        default: throw .unsupportedGSOType
        }
        guard header.gsoSize != 0 else { throw .gsoSizeZero }
        guard Int(header.hdrLen) <= length else { throw .badHeaderLength }
        let layout = try OffloadLayout.parse(frame, length: length)
        switch kind {
        case VirtioNetHeader.gsoTCPv4: guard layout.isTCP, layout.isIPv4 else { throw .notTCP }
        case VirtioNetHeader.gsoTCPv6: guard layout.isTCP, !layout.isIPv4 else { throw .notTCP }
        default: guard !layout.isTCP else { throw .notUDP }
        }
        self.frame = frame
        self.length = length
        self.header = header
        self.layout = layout
        self.gsoSize = Int(header.gsoSize)
        let payload = layout.payloadLength
        self.segmentCount = payload <= gsoSize ? 1 : (payload &+ gsoSize &- 1) / gsoSize
        let l4 = frame + layout.l4
        self.firstSequence = layout.isTCP ? TCP.sequence(l4) : 0
        self.tcpFlags = layout.isTCP ? TCP.flags(l4) : 0
        self.firstID = layout.isIPv4 ? (frame + layout.l3).loadBE16(4) : 0
    }

    /// The reason `init` would refuse this super-frame, or nil.
    @inlinable
    public static func validate(frame: UnsafeRawPointer, length: Int, header: VirtioNetHeader) -> SegmentationError? {
        do throws(SegmentationError) {
            _ = try Segmenter(frame: frame, length: length, header: header)
            return nil
        } catch {
            return error
        }
    }

    /// Length of the longest segment (the first): the capacity `next` needs.
    @inlinable public var maxSegmentLength: Int { layout.payload &+ Swift.min(gsoSize, layout.payloadLength) }
    /// Bytes of all its segments on the wire (each repeats the headers).
    @inlinable public var wireBytes: Int { length &+ (segmentCount &- 1) &* layout.payload }
    /// True when every segment has been written.
    @inlinable public var isFinished: Bool { nextIndex >= segmentCount }

    /// Writes the next segment, a complete Ethernet frame, to `dst` and returns its length;
    /// nil when all are written, or when it does not fit in `capacity` (then `isFinished`
    /// stays false and nothing is written: compare `maxSegmentLength` with the frame size once).
    @inlinable
    public mutating func next(into dst: UnsafeMutableRawPointer, capacity: Int) -> Int? {
        guard nextIndex < segmentCount else { return nil }
        let i = nextIndex
        let offset = i &* gsoSize
        let chunk = Swift.min(gsoSize, layout.payloadLength &- offset)
        let n = layout.payload &+ chunk
        guard n <= capacity else { return nil }
        dst.copyMemory(from: frame, byteCount: layout.payload)
        (dst + layout.payload).copyMemory(from: frame + layout.payload + offset, byteCount: chunk)

        let ip = dst + layout.l3, seg = dst + layout.l4
        let l4Length = n &- layout.l4
        if layout.isIPv4 {
            ip.storeBE16(UInt16(truncatingIfNeeded: n &- layout.l3), 2)
            ip.storeBE16(firstID &+ UInt16(truncatingIfNeeded: i), 4)
            ip.storeBE16(0, 10)
            ip.storeBE16(Checksum.ipv4Header(ip, length: layout.ipHeaderLength), 10)
        } else {
            ip.storeBE16(UInt16(truncatingIfNeeded: l4Length), 4)
        }
        if layout.isTCP {
            seg.storeBE32(firstSequence &+ UInt32(truncatingIfNeeded: offset), 4)
            var flags = tcpFlags
            if i != segmentCount &- 1 { flags &= ~(TCP.flagFIN | TCP.flagPSH) }
            if i != 0 { flags &= ~TCP.flagCWR }
            TCP.setFlags(seg, flags)
        } else {
            seg.storeBE16(UInt16(truncatingIfNeeded: l4Length), 4)
        }
        let field = layout.checksumField
        seg.storeBE16(0, field)
        let pseudo = layout.pseudoHeader(UnsafeRawPointer(dst), l4Length: l4Length)
        seg.storeBE16(Checksum.l4(pseudo: pseudo, seg, count: l4Length, udp: !layout.isTCP), field)
        nextIndex &+= 1
        return n
    }

    /// For a frame that is not GSO: completes a partial checksum (NEEDS_CSUM) in place.
    /// When csum_start / csum_offset name the TCP/UDP checksum of the outer IP packet, that
    /// is `ChecksumCompletion.complete` (pseudo-header recomputed from the IP header, Ethernet
    /// padding ignored). Anything else (IPv6 extension headers, a guest's own tunnel whose
    /// inner checksum is the partial one) is completed the kernel's way: the field holds the
    /// pseudo-header sum; sum [csum_start, end) and store the inverse (0 sent as 0xFFFF).
    /// Returns false only when NEEDS_CSUM is set and csum_start / csum_offset point past
    /// the frame: a malformed frame to drop.
    @inlinable @discardableResult
    public static func completeChecksum(_ frame: UnsafeMutableRawPointer, length: Int, header: VirtioNetHeader) -> Bool {
        guard header.needsChecksum else { return true }
        let start = Int(header.csumStart), field = start &+ Int(header.csumOffset)
        guard field &+ 2 <= length else { return false }
        if let layout = try? OffloadLayout.parse(frame, length: length),
           layout.l4 == start, layout.checksumField == Int(header.csumOffset),
           ChecksumCompletion.complete(frame, length: length) {
            return true
        }
        frame.storeBE16(Checksum.l4(pseudo: 0, frame + start, count: length &- start, udp: true), field)
        return true
    }
}
