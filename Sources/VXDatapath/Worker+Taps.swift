import CVXSW
import Glibc
import VXCore

/// Tap ports in the worker loop: whole super-frames in through `recvmmsg` (cut into UMEM
/// frames by software GSO, then the pipeline sees ordinary frames), and out through the GRO
/// coalescer and `sendmmsg` with a virtio-net header.
///
/// A tap's transmit slot in `txQueue` is `TapQueue.txSlot(ofTap:)`.
extension WorkerState {
    static var maxTaps: Int { 256 }

    /// Adds a tap port's packet socket to the loop. Returns its tap index.
    @discardableResult
    mutating func registerTap(fd: Int32, port: PortID, receives: Bool) -> Int {
        let index = (0..<tapCount).first { !taps[$0].active } ?? tapCount
        precondition(index < Self.maxTaps, "too many tap ports")
        taps[index] = TapQueue(fd: fd, port: port.raw, receives: receives)
        if index == tapCount { tapCount += 1 }
        if receives { tapReadiness.add(socket: fd, index: index) }
        txQueue[Int(port.raw)] = TapQueue.txSlot(ofTap: index)
        return index
    }

    /// Takes a tap out of the loop; frames still queued for it go back to the pool.
    mutating func unregisterTap(_ index: Int) {
        let t = taps + index
        if t.pointee.receives { tapReadiness.remove(socket: t.pointee.fd) }
        for i in 0..<t.pointee.pendingCount { pool.pointee.give(t.pointee.pending[i].addr) }
        t.pointee.pendingCount = 0
        if txQueue[Int(t.pointee.port)] == TapQueue.txSlot(ofTap: index) { txQueue[Int(t.pointee.port)] = -1 }
        t.pointee.active = false
        t.pointee.deallocate()
    }

    /// Moves the kernel's receive-buffer drops of every tap into the pipeline's drop counters.
    mutating func collectTapKernelDrops() {
        for i in 0..<tapCount where taps[i].active && taps[i].receives {
            let n = PacketSocket.takeKernelDrops(fd: taps[i].fd)
            if n > 0 { processor.countDrops(.socketOverflow, port: PortID(taps[i].port), count: n) }
        }
    }

    // MARK: Receive

    /// Receives one `recvmmsg` batch of whole frames from tap `index` and runs them through
    /// the pipeline in batches of at most `batch.count` frames. Returns the frames handled.
    @inlinable
    mutating func pollTap(_ index: Int, batch: UnsafeMutableBufferPointer<FrameDescriptor>, now: UInt32,
                          io: inout XSKFrameIO) -> Int {
        let t = taps + index
        let port = PortID(t.pointee.port)
        for i in 0..<TapQueue.rxSlots { t.pointee.rxMsgs[i].msg_hdr.msg_flags = 0 }
        let got = Int(cvxsw_recvmmsg(t.pointee.fd, t.pointee.rxMsgs, UInt32(TapQueue.rxSlots), Int32(MSG_DONTWAIT)))
        guard got > 0 else { return 0 }
        t.pointee.counters.rxCalls &+= 1
        let room = frameSize - Self.frameHeadroom
        var count = 0
        var handled = 0
        for m in 0..<got {
            let slot = t.pointee.rxBuffers + m * TapQueue.rxSlotBytes
            let length = Int(t.pointee.rxMsgs[m].msg_len) - VirtioNetHeader.size
            if t.pointee.rxMsgs[m].msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0 {
                processor.countDrops(.tooBig, port: port, count: 1)
                continue
            }
            guard length >= Ethernet.headerLength else {
                processor.countDrops(.runt, port: port, count: 1)
                continue
            }
            let header = VirtioNetHeader(loadingFrom: slot)
            let frame = slot + VirtioNetHeader.size
            if !header.isGSO {
                guard length <= room else {
                    processor.countDrops(.tooBig, port: port, count: 1)
                    continue
                }
                guard let addr = pool.pointee.take() else {
                    processor.countDrops(.noBuffer, port: port, count: 1)
                    continue
                }
                let start = addr &+ UInt64(Self.frameHeadroom)
                (memory + Int(start)).copyMemory(from: frame, byteCount: length)
                // The header says exactly which checksum is partial (the pipeline need not guess).
                guard Segmenter.completeChecksum(memory + Int(start), length: length, header: header) else {
                    pool.pointee.give(addr)
                    processor.countDrops(.badOffload, port: port, count: 1)
                    continue
                }
                batch[count] = FrameDescriptor(addr: start, length: length)
                count &+= 1
            } else {
                var segmenter: Segmenter
                do { segmenter = try Segmenter(frame: frame, length: length, header: header) } catch {
                    processor.countDrops(.badOffload, port: port, count: 1)
                    continue
                }
                t.pointee.counters.rxSuperFrames &+= 1
                // Guest to guest on this host, or (with a tunnel tap) to a remote VTEP: the
                // super-frame goes whole, as the Linux bridge and kernel vxlan pass it (frames
                // before it in this batch go first, so a flow keeps its order).
                let tunnelRoom = tunnel.pointee.fd >= 0 ? tunnel.pointee.headers : nil
                if let route = processor.superFrameDestination(segmenter, from: port, tunnelHeader: tunnelRoom, now: now) {
                    if count > 0 { handled &+= run(batch, count: count, from: port, now: now, io: &io); count = 0 }
                    switch route {
                    case .port(let out): sendWhole(slot, length: length &+ VirtioNetHeader.size, to: out)
                    case .overlay(let headerLength): sendTunnelled(frame, length: length, headerLength: headerLength,
                                                                   segments: segmenter.segmentCount)
                    }
                    handled &+= 1
                    continue
                }
                // A segment must fit one UMEM frame (a jumbo MSS may not): else none is cut.
                guard segmenter.maxSegmentLength <= room else {
                    processor.countDrops(.tooBig, port: port, count: 1)
                    continue
                }
                var produced = 0
                while true {
                    if count == batch.count {
                        handled &+= run(batch, count: count, from: port, now: now, io: &io)
                        count = 0
                    }
                    guard let addr = pool.pointee.take() else {
                        processor.countDrops(.noBuffer, port: port, count: UInt64(segmenter.segmentCount &- produced))
                        break
                    }
                    let start = addr &+ UInt64(Self.frameHeadroom)
                    guard let n = segmenter.next(into: memory + Int(start), capacity: room) else {
                        pool.pointee.give(addr)
                        break
                    }
                    t.pointee.counters.rxSegments &+= 1
                    produced &+= 1
                    batch[count] = FrameDescriptor(addr: start, length: n)
                    count &+= 1
                }
            }
            if count == batch.count {
                handled &+= run(batch, count: count, from: port, now: now, io: &io)
                count = 0
            }
        }
        if count > 0 { handled &+= run(batch, count: count, from: port, now: now, io: &io) }
        return handled
    }

    /// Runs `count` frames of `batch` through the pipeline; flushes taps whose queue filled up
    /// (a super-frame to a local tap can queue a hundred segments).
    @inlinable
    mutating func run(_ batch: UnsafeMutableBufferPointer<FrameDescriptor>, count: Int, from port: PortID, now: UInt32,
                      io: inout XSKFrameIO) -> Int {
        processor.process(UnsafeMutableBufferPointer(rebasing: batch[0..<count]), from: port, now: now, io: &io)
        for i in 0..<tapCount where taps[i].active && taps[i].pendingCount > TapQueue.txCapacity / 2 { flushTap(i) }
        return count
    }

    // MARK: Transmit

    /// Sends a received super-frame (its virtio-net header first, as it came) to tap port `out`,
    /// after what that tap already has queued.
    @inlinable
    mutating func sendWhole(_ message: UnsafeMutableRawPointer, length: Int, to out: PortID) {
        guard let index = TapQueue.tap(ofTxSlot: txQueue[Int(out.raw)]) else {
            return processor.countDrops(.portDown, port: out, count: 1)
        }
        flushTap(index)
        let t = taps + index
        t.pointee.counters.txCalls &+= 1
        if send(t.pointee.fd, message, length, Int32(MSG_DONTWAIT)) == length {
            t.pointee.counters.txFrames &+= 1
            t.pointee.counters.txSuperFrames &+= 1
        } else {
            processor.countDrops(Self.sendFailure(errno), port: out, count: 1)
        }
    }

    /// Writes an encapsulated super-frame to the tunnel tap: the headers the pipeline wrote
    /// in `tunnel.headers`, then the guest's frame, in one `writev` (nothing copied).
    /// A refusal is a counted drop on the uplink; a header the kernel rejects (EINVAL)
    /// turns the tunnel off for this worker, so what follows is segmented, not lost.
    @inlinable
    mutating func sendTunnelled(_ frame: UnsafeMutableRawPointer, length: Int, headerLength: Int, segments: Int) {
        // Frames already queued for the uplink's AF_XDP ring leave first: the kernel handles
        // this write at once, and a flow's packets must reach the wire in order.
        flushTx(port: tunnel.pointee.uplink)
        var iov = (iovec(iov_base: tunnel.pointee.headers, iov_len: headerLength), iovec(iov_base: frame, iov_len: length))
        let total = headerLength &+ length
        let sent = withUnsafePointer(to: &iov) { $0.withMemoryRebound(to: iovec.self, capacity: 2) { writev(tunnel.pointee.fd, $0, 2) } }
        if sent == total {
            tunnel.pointee.counters.superFrames &+= 1
            tunnel.pointee.counters.segments &+= UInt64(truncatingIfNeeded: segments)
            return
        }
        let error = errno
        tunnel.pointee.counters.refused &+= 1
        processor.countDrops(error == EINVAL ? .badOffload : Self.sendFailure(error), port: PortID(tunnel.pointee.uplink), count: 1)
        if error == EINVAL { tunnel.pointee.fd = -1 }
    }

    /// Why a tap refused a frame: its queue is full (the guest does not drain it in time: a
    /// bridge drops there too), the frame exceeds its MTU, or the tap is gone.
    @usableFromInline static func sendFailure(_ error: Int32) -> DropReason {
        switch error {
        case EMSGSIZE: return .tooBig
        case ENXIO, ENETDOWN, ENODEV: return .portDown
        default: return .txRingFull      // ENOBUFS (its qdisc dropped it), EAGAIN (socket buffer full)
        }
    }

    /// Sends every frame queued for tap `index`: consecutive TCP segments of a flow are
    /// merged into super-frames (GRO); everything else goes as it is, in order per flow.
    @inlinable
    mutating func flushTap(_ index: Int) {
        let t = taps + index
        let n = t.pointee.pendingCount
        guard n > 0 else { return }
        t.pointee.pendingCount = 0
        for i in 0..<n {
            let f = t.pointee.pending[i]
            let p = memory + Int(f.addr)
            // Frames of this batch were checksum-completed (decap, VM ports) or written whole
            // (software GSO), so the coalescer may merge them.
            switch t.pointee.coalescer.pointee.add(p, length: f.length, checksumValid: true) {
            case .held(let flushed):
                pool.pointee.give(f.addr)
                // A flow that had to leave: its buffer is reused by the next `add`, send it now.
                if let out = flushed {
                    queueSuperFrame(t, out.frame, out.length, out.header)
                    sendQueued(t)
                }
            case .notCoalescable(let flushFirst):
                // What the same flow holds leaves before this frame, so the flow keeps its order.
                if let out = flushFirst { queueSuperFrame(t, out.frame, out.length, out.header) }
                t.pointee.queueMessage(VirtioNetHeader(), p, length: f.length)
                t.pointee.txRelease[t.pointee.txReleaseCount] = f.addr
                t.pointee.txReleaseCount &+= 1
                if flushFirst != nil { sendQueued(t) }
            }
        }
        while let (data, length, header) = t.pointee.coalescer.pointee.nextFlushed() {
            queueSuperFrame(t, data, length, header)
        }
        sendQueued(t)
    }

    @inlinable
    mutating func queueSuperFrame(_ t: UnsafeMutablePointer<TapQueue>, _ data: UnsafeMutableRawPointer, _ length: Int,
                                  _ header: VirtioNetHeader) {
        t.pointee.queueMessage(header, data, length: length)
        if header.isGSO { t.pointee.counters.txSuperFrames &+= 1 }
    }

    /// One `sendmmsg` for the queued messages; then the UMEM frames they pointed at are free.
    /// A message the kernel refuses (its socket buffer is full) is a counted drop (the
    /// pipeline already counted its segments as transmitted when they were queued).
    @inlinable
    mutating func sendQueued(_ t: UnsafeMutablePointer<TapQueue>) {
        let total = t.pointee.txCount
        let port = PortID(t.pointee.port)
        var sent = 0
        var failures = 0
        while sent < total {
            let r = Int(cvxsw_sendmmsg(t.pointee.fd, t.pointee.txMsgs + sent, UInt32(total - sent), Int32(MSG_DONTWAIT)))
            t.pointee.counters.txCalls &+= 1
            if r > 0 { sent &+= r; continue }
            // The message at `sent` was refused: count it by why and go on with the next one.
            processor.countDrops(Self.sendFailure(errno), port: port, count: 1)
            failures &+= 1
            sent &+= 1
        }
        t.pointee.counters.txFrames &+= UInt64(total - failures)
        for i in 0..<t.pointee.txReleaseCount { pool.pointee.give(t.pointee.txRelease[i]) }
        t.pointee.txReleaseCount = 0
        t.pointee.txCount = 0
    }
}
