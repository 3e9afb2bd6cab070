/// Software GRO for TCP toward a virtio-net guest: consecutive segments of one flow, from
/// one batch for one output port, are merged into a super-frame that the guest receives
/// with a `VirtioNetHeader` (GSO TCPv4/TCPv6, gso_size = MSS), as the Linux bridge + tap
/// would hand it over.
///
///     add(segment) ──► same 5-tuple held?
///        no, mergeable  ─► free slot (or flush the oldest) ─► copy whole frame   .held
///        yes, next in sequence, same headers ─► append payload                  .held
///        yes, mergeable but not next / headers differ ─► flush it, start anew   .held(flushed:)
///        not mergeable (SYN/FIN/RST/URG, no payload, IP options, checksum not known valid, not TCP)
///                                          ─► flush it first, send the frame  .notCoalescable(flushFirst:)
///     end of batch: while let (p, n, hdr) = c.nextFlushed() { write hdr + p[0..<n] }
///
/// Mergeable segments of one flow have the same MACs and VLAN tag, the same IPv4 TOS, TTL
/// and DF (no options, no fragments) or IPv6 traffic class, flow label and hop limit, the
/// same ack, window, flags (PSH allowed on the last) and TCP options byte for byte, and
/// follow in sequence exactly; every segment but the last carries exactly the first one's
/// payload length (the MSS). A flow is closed by a PSH or a shorter segment.
///
/// Output (see `Limits.partialChecksum`): IPv4 total length and header checksum (id of the
/// first segment), or IPv6 payload length; the TCP checksum left partial, with the
/// pseudo-header sum in the field, NEEDS_CSUM and csum_start / csum_offset, which is what
/// the kernel's GRO hands to tun/virtio (the guest never verifies it: the data was checked
/// segment by segment). A flow of one segment is handed back unchanged with gso NONE and
/// DATA_VALID.
///
/// Storage, allocated once in init: `flows + 1` buffers of 64 KB + headers (the extra one holds
/// a flushed super-frame while its slot takes the new segment). A pointer handed out by
/// `add`'s verdict or `nextFlushed` stays valid until the next `add`.
public struct TCPCoalescer: ~Copyable {
    public struct Limits: Sendable {
        /// Flows held at once (slots).
        public var flows: Int
        /// Segments merged into one super-frame at most.
        public var maxSegments: Int
        /// The IP length field of a super-frame at most (IPv4 total length, IPv6 payload length); ≤ 65535.
        public var maxIPLength: Int
        /// True: the TCP checksum is left partial (NEEDS_CSUM). False: computed in full over the
        /// super-frame (one more pass over the payload) and DATA_VALID set, for a guest that
        /// did not negotiate VIRTIO_NET_F_GUEST_CSUM.
        public var partialChecksum: Bool

        public init(flows: Int = 8, maxSegments: Int = 64, maxIPLength: Int = 65_535, partialChecksum: Bool = true) {
            self.flows = flows; self.maxSegments = maxSegments; self.maxIPLength = maxIPLength
            self.partialChecksum = partialChecksum
        }
    }

    @usableFromInline struct Slot {
        @usableFromInline var buffer: UnsafeMutableRawPointer
        @usableFromInline var inUse = false
        /// Bytes stored: the headers and all payload so far (the super-frame's length).
        @usableFromInline var length = 0
        @usableFromInline var layout = OffloadLayout(l3: 0, l4: 0, payload: 0, end: 0, isIPv4: true, isTCP: true)
        @usableFromInline var mss = 0
        @usableFromInline var segments = 0
        @usableFromInline var nextSequence: UInt32 = 0
        /// A PSH or short segment ended the flow: the next one starts anew.
        @usableFromInline var closed = false
        @usableFromInline var age: UInt64 = 0

        @inlinable init(buffer: UnsafeMutableRawPointer) { self.buffer = buffer }
    }

    public let limits: Limits
    @usableFromInline let slots: UnsafeMutablePointer<Slot>
    @usableFromInline let storage: UnsafeMutableRawPointer
    /// The buffer of the last flushed super-frame (no slot's).
    @usableFromInline var spare: UnsafeMutableRawPointer
    @usableFromInline var clock: UInt64 = 0
    @usableFromInline var held = 0
    /// Flows held now.
    @inlinable public var heldFlows: Int { held }

    /// Bytes per buffer: Ethernet + one tag + an IPv6 header + 65535 bytes of IP payload,
    /// cache-line rounded.
    public static let bufferSize = (Ethernet.headerLength + Ethernet.tagLength + IPv6.headerLength + 65_535 + 63) & ~63

    public init(limits: Limits = Limits()) {
        precondition(limits.flows >= 1 && limits.maxSegments >= 1, "at least one flow and one segment")
        var l = limits
        l.maxIPLength = Swift.min(l.maxIPLength, 65_535)
        self.limits = l
        let size = TCPCoalescer.bufferSize
        storage = UnsafeMutableRawPointer.allocate(byteCount: size * (l.flows + 1), alignment: 64)
        slots = UnsafeMutablePointer<Slot>.allocate(capacity: l.flows)
        for i in 0..<l.flows { (slots + i).initialize(to: Slot(buffer: storage + i * size)) }
        spare = storage + l.flows * size
    }

    deinit {
        slots.deinitialize(count: limits.flows)
        slots.deallocate()
        storage.deallocate()
    }

    /// Offers the TCP segment of `length` bytes at `frame` (an Ethernet frame). `checksumValid`:
    /// its TCP checksum is known to be right (completed or verified by the caller); without
    /// it the segment is never merged.
    @inlinable
    public mutating func add(_ frame: UnsafeRawPointer, length: Int, checksumValid: Bool) -> CoalesceVerdict {
        guard let layout = try? OffloadLayout.parse(frame, length: length), layout.isTCP else {
            return .notCoalescable(flushFirst: nil)
        }
        let found = flow(of: frame, layout)
        guard checksumValid, mergeable(frame, layout) else {
            guard let s = found else { return .notCoalescable(flushFirst: nil) }
            return .notCoalescable(flushFirst: evict(s))
        }
        if let s = found {
            if append(s, frame, layout) { return .held(flushed: nil) }
            let out = evict(s)
            start(s, frame, layout)
            return .held(flushed: out)
        }
        var oldest = 0
        for i in 0..<limits.flows {
            if !slots[i].inUse { start(i, frame, layout); return .held(flushed: nil) }
            if slots[i].age < slots[oldest].age { oldest = i }
        }
        let out = evict(oldest)
        start(oldest, frame, layout)
        return .held(flushed: out)
    }

    /// The held super-frames, oldest flow first, each with its header fixed up; nil when none
    /// is left. Call at the end of every batch (and write each before the next `add`).
    @inlinable
    public mutating func nextFlushed() -> (UnsafeMutableRawPointer, Int, VirtioNetHeader)? {
        guard held > 0 else { return nil }
        var oldest = -1
        for i in 0..<limits.flows where slots[i].inUse {
            if oldest < 0 || slots[i].age < slots[oldest].age { oldest = i }
        }
        let out = finish(oldest)
        slots[oldest].inUse = false
        held &-= 1
        return out
    }

    // MARK: - Flows

    /// The slot holding the same 5-tuple (addresses, TCP ports) as the segment, if any.
    @inlinable
    func flow(of frame: UnsafeRawPointer, _ layout: OffloadLayout) -> Int? {
        guard held > 0 else { return nil }
        let ports = frame.loadUnaligned(fromByteOffset: layout.l4, as: UInt32.self)
        let (addr, count) = layout.isIPv4 ? (12, 8) : (8, 32)
        for i in 0..<limits.flows {
            let s = slots[i]
            guard s.inUse, s.layout.isIPv4 == layout.isIPv4,
                  s.buffer.loadUnaligned(fromByteOffset: s.layout.l4, as: UInt32.self) == ports,
                  TCPCoalescer.equal(s.buffer + s.layout.l3 + addr, frame + layout.l3 + addr, count: count) else { continue }
            return i
        }
        return nil
    }

    /// Can start or join a flow at all: payload, no SYN/FIN/RST/URG, no IPv4 options, fits the limit.
    @inlinable
    func mergeable(_ frame: UnsafeRawPointer, _ layout: OffloadLayout) -> Bool {
        let flags = TCP.flags(frame + layout.l4)
        return flags & (TCP.flagSYN | TCP.flagFIN | TCP.flagRST | TCP.flagURG) == 0
            && layout.payloadLength > 0
            && (!layout.isIPv4 || layout.ipHeaderLength == IPv4.headerLength)
            && layout.end &- (layout.isIPv4 ? layout.l3 : layout.l4) <= limits.maxIPLength
    }

    /// Copies the segment into slot `i` as a new flow.
    @inlinable
    mutating func start(_ i: Int, _ frame: UnsafeRawPointer, _ layout: OffloadLayout) {
        let s = slots + i
        s.pointee.buffer.copyMemory(from: frame, byteCount: layout.end)
        s.pointee.length = layout.end
        s.pointee.layout = layout
        s.pointee.mss = layout.payloadLength
        s.pointee.segments = 1
        s.pointee.nextSequence = TCP.sequence(frame + layout.l4) &+ UInt32(truncatingIfNeeded: layout.payloadLength)
        let flags = TCP.flags(frame + layout.l4)
        s.pointee.closed = flags & TCP.flagPSH != 0
        clock &+= 1
        s.pointee.age = clock
        if !s.pointee.inUse { s.pointee.inUse = true; held &+= 1 }
    }

    /// Appends the segment's payload to slot `i` when it continues the flow exactly.
    @inlinable
    mutating func append(_ i: Int, _ frame: UnsafeRawPointer, _ layout: OffloadLayout) -> Bool {
        let s = slots + i
        let first = s.pointee.layout, p = s.pointee.buffer
        let payload = layout.payloadLength
        guard !s.pointee.closed, s.pointee.segments < limits.maxSegments, payload <= s.pointee.mss,
              s.pointee.length &- (first.isIPv4 ? first.l3 : first.l4) &+ payload <= limits.maxIPLength,
              layout.l3 == first.l3, layout.payload == first.payload else { return false }
        let ip = frame + layout.l3, hip = UnsafeRawPointer(p + first.l3)
        let tcp = frame + layout.l4, htcp = UnsafeRawPointer(p + first.l4)
        // L2: MACs, tag, EtherType.
        guard TCPCoalescer.equal(frame, p, count: layout.l3) else { return false }
        if layout.isIPv4 {
            // ver/ihl + TOS; flags/fragment + TTL + protocol (addresses matched the flow).
            guard ip.loadUnaligned(as: UInt16.self) == hip.loadUnaligned(as: UInt16.self),
                  ip.loadUnaligned(fromByteOffset: 6, as: UInt32.self) == hip.loadUnaligned(fromByteOffset: 6, as: UInt32.self)
            else { return false }
        } else {
            // version, traffic class, flow label; next header + hop limit.
            guard ip.loadUnaligned(as: UInt32.self) == hip.loadUnaligned(as: UInt32.self),
                  ip.loadUnaligned(fromByteOffset: 6, as: UInt16.self) == hip.loadUnaligned(fromByteOffset: 6, as: UInt16.self)
            else { return false }
        }
        let flags = TCP.flags(tcp), heldFlags = TCP.flags(htcp)
        guard TCP.sequence(tcp) == s.pointee.nextSequence,
              tcp.loadUnaligned(fromByteOffset: 8, as: UInt32.self) == htcp.loadUnaligned(fromByteOffset: 8, as: UInt32.self), // ack
              tcp.load(fromByteOffset: 12, as: UInt8.self) == htcp.load(fromByteOffset: 12, as: UInt8.self), // data offset
              flags & ~TCP.flagPSH == heldFlags & ~(TCP.flagPSH | TCP.flagCWR), // CWR only on the first
              tcp.loadUnaligned(fromByteOffset: 14, as: UInt16.self) == htcp.loadUnaligned(fromByteOffset: 14, as: UInt16.self), // window
              TCPCoalescer.equal(tcp + TCP.headerLength, htcp + TCP.headerLength, count: layout.payload &- layout.l4 &- TCP.headerLength)
        else { return false }
        (p + s.pointee.length).copyMemory(from: frame + layout.payload, byteCount: payload)
        s.pointee.length &+= payload
        s.pointee.segments &+= 1
        s.pointee.nextSequence &+= UInt32(truncatingIfNeeded: payload)
        if flags & TCP.flagPSH != 0 { TCP.setFlags(p + first.l4, heldFlags | TCP.flagPSH) }
        s.pointee.closed = flags & TCP.flagPSH != 0 || payload < s.pointee.mss
        return true
    }

    /// Finishes slot `i`'s super-frame and moves it to the spare buffer; the slot is then
    /// free (its buffer is the former spare).
    @inlinable
    mutating func evict(_ i: Int) -> (frame: UnsafeMutableRawPointer, length: Int, header: VirtioNetHeader) {
        let out = finish(i)
        swap(&slots[i].buffer, &spare)
        slots[i].inUse = false
        held &-= 1
        return out
    }

    /// Fixes up the length fields and the checksums of slot `i`'s super-frame.
    @inlinable
    func finish(_ i: Int) -> (frame: UnsafeMutableRawPointer, length: Int, header: VirtioNetHeader) {
        let s = slots[i], p = s.buffer, layout = s.layout
        guard s.segments > 1 else {
            return (p, s.length, VirtioNetHeader(flags: VirtioNetHeader.flagDataValid))
        }
        let ip = p + layout.l3, tcp = p + layout.l4
        let l4Length = s.length &- layout.l4
        if layout.isIPv4 {
            ip.storeBE16(UInt16(truncatingIfNeeded: s.length &- layout.l3), 2)
            ip.storeBE16(0, 10)
            ip.storeBE16(Checksum.ipv4Header(ip, length: IPv4.headerLength), 10)
        } else {
            ip.storeBE16(UInt16(truncatingIfNeeded: l4Length), 4)
        }
        let pseudo = layout.pseudoHeader(UnsafeRawPointer(p), l4Length: l4Length)
        var header = VirtioNetHeader(gsoType: layout.isIPv4 ? VirtioNetHeader.gsoTCPv4 : VirtioNetHeader.gsoTCPv6,
                                     hdrLen: UInt16(truncatingIfNeeded: layout.payload),
                                     gsoSize: UInt16(truncatingIfNeeded: s.mss))
        if TCP.flags(tcp) & TCP.flagCWR != 0 { header.gsoType |= VirtioNetHeader.gsoECN }
        if limits.partialChecksum {
            tcp.storeBE16(pseudo, 16)
            header.flags = VirtioNetHeader.flagNeedsCsum
            header.csumStart = UInt16(truncatingIfNeeded: layout.l4)
            header.csumOffset = 16
        } else {
            tcp.storeBE16(0, 16)
            tcp.storeBE16(Checksum.l4(pseudo: pseudo, tcp, count: l4Length, udp: false), 16)
            header.flags = VirtioNetHeader.flagDataValid
        }
        return (p, s.length, header)
    }

    /// Byte-for-byte equality of two short ranges (headers, options, addresses).
    @inlinable
    static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        var i = 0
        while i &+ 8 <= count {
            guard a.loadUnaligned(fromByteOffset: i, as: UInt64.self) == b.loadUnaligned(fromByteOffset: i, as: UInt64.self) else { return false }
            i &+= 8
        }
        while i < count {
            guard a.load(fromByteOffset: i, as: UInt8.self) == b.load(fromByteOffset: i, as: UInt8.self) else { return false }
            i &+= 1
        }
        return true
    }
}

/// What `TCPCoalescer.add` did with a segment. A super-frame carried here is to be written
/// (with its header) before the segment's own flow goes on: it stays valid until the next `add`.
public enum CoalesceVerdict {
    /// Copied into the coalescer: release the frame. `flushed`: a held super-frame that had
    /// to leave (its flow did not continue, or all slots were full): write it now.
    case held(flushed: (frame: UnsafeMutableRawPointer, length: Int, header: VirtioNetHeader)?)
    /// Send the frame as it is (gso NONE), after `flushFirst`, the held super-frame of the
    /// same 5-tuple if there was one, so the flow is not reordered.
    case notCoalescable(flushFirst: (frame: UnsafeMutableRawPointer, length: Int, header: VirtioNetHeader)?)
}
