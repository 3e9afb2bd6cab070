import CVXSW
import VXCore

/// `FrameIO` over the shared UMEM, one worker's frame pool and the sockets' tx rings. A thin view the worker
/// builds once; every method is a few loads and stores, no syscall.
@usableFromInline
struct XSKFrameIO: FrameIO {
    @usableFromInline let memory: UnsafeMutableRawPointer
    @usableFromInline let frameSize: Int
    @usableFromInline let allocationHeadroom: Int
    @usableFromInline let pool: UnsafeMutablePointer<FramePool>
    @usableFromInline let queues: UnsafeMutablePointer<QueueState>
    /// Queue index used to transmit on each port (-1: none), indexed by PortID.raw.
    @usableFromInline let txQueue: UnsafeMutablePointer<Int32>
    /// Tap ports, named in `txQueue` by `TapQueue.txSlot(ofTap:)` (`Worker+Taps.swift`).
    @usableFromInline let taps: UnsafeMutablePointer<TapQueue>

    @inlinable init(memory: UnsafeMutableRawPointer, frameSize: Int, allocationHeadroom: Int,
                    pool: UnsafeMutablePointer<FramePool>, queues: UnsafeMutablePointer<QueueState>,
                    txQueue: UnsafeMutablePointer<Int32>, taps: UnsafeMutablePointer<TapQueue>) {
        self.memory = memory; self.frameSize = frameSize; self.allocationHeadroom = allocationHeadroom
        self.pool = pool; self.queues = queues; self.txQueue = txQueue; self.taps = taps
    }

    @inlinable mutating func allocateFrame() -> UInt64? { pool.pointee.take() }

    @inlinable mutating func releaseFrame(_ addr: UInt64) { pool.pointee.give(addr) }

    @inlinable mutating func transmit(_ addr: UInt64, length: Int, on port: PortID) -> Bool {
        let qi = txQueue[Int(port.raw)]
        guard qi >= 0 else {
            guard let tap = TapQueue.tap(ofTxSlot: qi) else { return false }
            return queueForTap(tap, addr, length: length)
        }
        let q = queues + Int(qi)
        if let staged = q.pointee.staged {
            // A tx ring other workers use too: written under its lock when the batch is submitted.
            guard q.pointee.stagedCount < QueueState.stageCapacity else { return false }
            staged[q.pointee.stagedCount] = FrameDescriptor(addr: addr, length: length)
            q.pointee.stagedCount &+= 1
            return true
        }
        var idx: UInt32 = 0
        guard xsk_ring_prod__reserve(q.pointee.tx, 1, &idx) == 1 else { return false }
        let desc = xsk_ring_prod__tx_desc(q.pointee.tx, idx)!
        desc.pointee.addr = addr
        desc.pointee.len = UInt32(truncatingIfNeeded: length)
        desc.pointee.options = 0
        q.pointee.pendingTx &+= 1
        return true
    }

    /// Queues a frame for a tap port; it is sent (coalesced) when the batch is submitted.
    @inlinable mutating func queueForTap(_ index: Int, _ addr: UInt64, length: Int) -> Bool {
        let t = taps + index
        guard t.pointee.pendingCount < TapQueue.txCapacity else { return false }
        t.pointee.pending[t.pointee.pendingCount] = FrameDescriptor(addr: addr, length: length)
        t.pointee.pendingCount &+= 1
        return true
    }
}
