import CVXSW
import Foundation
import Glibc
import Synchronization

/// The frame memory shared by every socket of the switch, so forwarding between ports
/// passes a frame address, not bytes. Allocated on the NIC's NUMA node when known.
public final class UMEM {
    public let memory: UnsafeMutableRawPointer
    public let frameSize: Int
    public let frameCount: Int
    public let ringSize: Int
    public var byteCount: Int { frameSize * frameCount }
    public let numaNode: Int32?

    let handle: OpaquePointer
    /// Fill and completion rings created with the UMEM; the first socket bound uses them.
    let firstFill: UnsafeMutablePointer<xsk_ring_prod>
    let firstComp: UnsafeMutablePointer<xsk_ring_cons>
    var firstRingsTaken = false
    private let numaAllocated: Bool

    public init(frameCount: Int, frameSize: Int, ringSize: Int, numaNode: Int32?) throws {
        self.frameCount = frameCount
        self.frameSize = frameSize
        self.ringSize = ringSize
        let bytes = frameCount * frameSize
        var mem: UnsafeMutableRawPointer?
        if let node = numaNode, numa_available() >= 0 {
            mem = numa_alloc_onnode(bytes, node)
            self.numaNode = node
        } else {
            self.numaNode = nil
        }
        numaAllocated = mem != nil
        if mem == nil {
            let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)
            guard let p, p != MAP_FAILED else { throw DatapathError("allocate UMEM (\(bytes) bytes)", errno: errno) }
            mem = p
        }
        memory = mem!
        // libxdp keeps the addresses of the ring structs: they live on the heap, not in Swift values.
        firstFill = .allocate(capacity: 1)
        firstComp = .allocate(capacity: 1)
        firstFill.initialize(to: xsk_ring_prod())
        firstComp.initialize(to: xsk_ring_cons())
        var cfg = xsk_umem_config()
        cfg.fill_size = UInt32(ringSize)
        cfg.comp_size = UInt32(ringSize)
        cfg.frame_size = UInt32(frameSize)
        cfg.frame_headroom = 0
        cfg.flags = 0
        var umem: OpaquePointer?
        let err = xsk_umem__create(&umem, memory, UInt64(bytes), firstFill, firstComp, &cfg)
        guard err == 0, let umem else {
            if numaAllocated { numa_free(memory, bytes) } else { munmap(memory, bytes) }
            firstFill.deallocate(); firstComp.deallocate()
            throw DatapathError("register UMEM", result: err,
                                hint: "AF_XDP needs root and CAP_IPC_LOCK for large UMEMs")
        }
        handle = umem
    }

    deinit {
        _ = xsk_umem__delete(handle)
        if numaAllocated { numa_free(memory, byteCount) } else { munmap(memory, byteCount) }
        firstFill.deallocate()
        firstComp.deallocate()
    }
}

/// The free frames of the UMEM: a stack of frame start addresses. Owned by the worker
/// thread; no locking and no allocation after creation.
public struct FramePool {
    @usableFromInline let stack: UnsafeMutablePointer<UInt64>
    @usableFromInline var count: Int
    public let capacity: Int
    @usableFromInline let frameMask: UInt64

    /// A pool that can hold all `frameCount` frames, starting with those numbered `frames`
    /// (default: all): each worker starts with its share of the UMEM.
    public init(frameCount: Int, frameSize: Int, frames: Range<Int>? = nil) {
        stack = .allocate(capacity: frameCount)
        capacity = frameCount
        frameMask = ~UInt64(frameSize - 1)
        let mine = frames ?? 0..<frameCount
        for (n, i) in mine.enumerated() { stack[n] = UInt64(i * frameSize) }
        count = mine.count
    }

    public func deallocate() { stack.deallocate() }

    public var available: Int { count }

    @inlinable public mutating func take() -> UInt64? {
        guard count > 0 else { return nil }
        count &-= 1
        return stack[count]
    }

    /// Returns the frame that holds `addr` (any address inside the frame).
    @inlinable public mutating func give(_ addr: UInt64) {
        stack[count] = addr & frameMask
        count &+= 1
    }
}

/// Free frames between workers' pools. A worker takes frames from the kernel's completion
/// rings into its own pool; with several workers frames drift from those that transmit to
/// those that receive. A pool with more than its share gives a chunk here, one running low
/// takes a chunk: a lock taken per chunk of frames, not per frame.
public final class FrameDepot: @unchecked Sendable {
    private var pool: FramePool
    private let lock = NSLock()
    private let held = Atomic<Int>(0)
    /// Frames one transfer moves at most.
    let chunk: Int

    init(frameCount: Int, frameSize: Int, chunk: Int) {
        pool = FramePool(frameCount: frameCount, frameSize: frameSize, frames: 0..<0)
        self.chunk = max(1, chunk)
    }

    deinit { pool.deallocate() }

    /// Frames in the depot now (a hint, read without the lock).
    public var available: Int { held.load(ordering: .relaxed) }

    /// Moves `n` frames from `from` into the depot.
    func give(_ n: Int, from: UnsafeMutablePointer<FramePool>) {
        lock.withLock {
            for _ in 0..<n { guard let f = from.pointee.take() else { break }; pool.give(f) }
            held.store(pool.available, ordering: .relaxed)
        }
    }

    /// Moves up to `chunk` frames from the depot into `to`.
    func take(into to: UnsafeMutablePointer<FramePool>) {
        lock.withLock {
            for _ in 0..<chunk { guard let f = pool.take() else { break }; to.pointee.give(f) }
            held.store(pool.available, ordering: .relaxed)
        }
    }
}
