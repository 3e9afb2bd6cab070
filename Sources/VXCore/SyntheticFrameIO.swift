/// An in-memory `FrameIO` for tests and microbenchmarks: one malloc'd region of
/// `frameCount` buffers of `frameSize` bytes, a free list, and the transmissions per port.
/// Releasing a frame that is not in use traps (it would be a double free in a UMEM).
public struct SyntheticFrameIO: FrameIO {
    @usableFromInline final class Region {
        @usableFromInline let base: UnsafeMutableRawPointer
        init(bytes: Int) { base = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096) }
        deinit { base.deallocate() }
    }

    public struct Transmission: Sendable {
        public var port: PortID
        public var addr: UInt64
        public var length: Int
        @inlinable init(port: PortID, addr: UInt64, length: Int) { self.port = port; self.addr = addr; self.length = length }
    }

    @usableFromInline let region: Region
    @inlinable public var memory: UnsafeMutableRawPointer { region.base }
    public let frameSize: Int
    public let frameCount: Int
    public let allocationHeadroom: Int
    @usableFromInline var free: [UInt64]
    @usableFromInline var inUse: [Bool]
    /// Frames handed to `transmit`, in order; they stay in use until `collect` or `recycle`.
    public var transmitted: [Transmission] = []
    /// Ports whose tx ring is "full": `transmit` returns false.
    public var fullPorts: Set<PortID> = []

    public init(frameCount: Int = 256, frameSize: Int = 2048, allocationHeadroom: Int = 256) {
        precondition(frameSize & (frameSize - 1) == 0, "frame size must be a power of two")
        self.frameSize = frameSize
        self.frameCount = frameCount
        self.allocationHeadroom = allocationHeadroom
        region = Region(bytes: frameCount * frameSize)
        free = (0..<frameCount).reversed().map { UInt64($0 * frameSize) }
        inUse = Array(repeating: false, count: frameCount)
        transmitted.reserveCapacity(frameCount)
    }

    public var freeCount: Int { free.count }

    @inlinable public mutating func allocateFrame() -> UInt64? {
        guard let a = free.popLast() else { return nil }
        inUse[Int(a) / frameSize] = true
        return a
    }

    @inlinable public mutating func releaseFrame(_ addr: UInt64) {
        let i = Int(addr) / frameSize
        precondition(i < frameCount && inUse[i], "release of a frame not in use: \(addr)")
        inUse[i] = false
        free.append(UInt64(i * frameSize))
    }

    @inlinable public mutating func transmit(_ addr: UInt64, length: Int, on port: PortID) -> Bool {
        if !fullPorts.isEmpty && fullPorts.contains(port) { return false }
        precondition(inUse[Int(addr) / frameSize], "transmit of a frame not in use: \(addr)")
        precondition(Int(addr) % frameSize + length <= frameSize, "frame runs past its buffer")
        transmitted.append(Transmission(port: port, addr: addr, length: length))
        return true
    }

    /// Copies `bytes` into a fresh frame `headroom` bytes in (default: `allocationHeadroom`),
    /// as the rx ring would hand it over.
    public mutating func receive(_ bytes: [UInt8], headroom: Int? = nil) -> FrameDescriptor {
        guard let base = allocateFrame() else { preconditionFailure("no free frame") }
        let addr = base + UInt64(headroom ?? allocationHeadroom)
        precondition(Int(addr) % frameSize + bytes.count <= frameSize, "frame too large")
        bytes.withUnsafeBytes { (memory + Int(addr)).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return FrameDescriptor(addr: addr, length: bytes.count)
    }

    public func bytes(at addr: UInt64, length: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: memory + Int(addr), count: length))
    }

    /// The transmitted frames' bytes by port, in order; frees them.
    public mutating func collect() -> [(port: PortID, bytes: [UInt8])] {
        let out = transmitted.map { (port: $0.port, bytes: bytes(at: $0.addr, length: $0.length)) }
        recycle()
        return out
    }

    /// Frees every transmitted frame without reading it (benchmarks: "tx completion").
    @inlinable public mutating func recycle() {
        for t in transmitted { releaseFrame(t.addr) }
        transmitted.removeAll(keepingCapacity: true)
    }
}
