/// Index of a port in the switch's port table (uplink and access ports alike).
public struct PortID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: UInt16
    @inlinable public init(_ raw: UInt16) { self.raw = raw }
    @inlinable public init(_ raw: Int) { self.raw = UInt16(truncatingIfNeeded: raw) }
    public var description: String { String(raw) }
    public static func < (a: PortID, b: PortID) -> Bool { a.raw < b.raw }
}

/// One received frame: its address in the frame memory (UMEM offset, pointing at the
/// first byte of the Ethernet header) and its length. A packet is this, never an object.
public struct FrameDescriptor: Sendable {
    public var addr: UInt64
    public var length: Int
    @inlinable public init(addr: UInt64, length: Int) { self.addr = addr; self.length = length }
}

/// What the pipeline needs from the I/O layer. The AF_XDP datapath (VXDatapath) and the
/// tests' synthetic ports implement it; the pipeline is generic over it, never `any FrameIO`.
///
/// Frame memory is one region split into `frameSize` buffers; an address is an offset
/// into it, and `addr & ~(frameSize - 1)` is the start of the buffer holding it. Bytes
/// before `addr` inside the buffer are headroom that encapsulation may use.
public protocol FrameIO {
    /// Start of the frame memory (the UMEM).
    var memory: UnsafeMutableRawPointer { get }
    /// Size of one frame buffer, a power of two (e.g. 4096).
    var frameSize: Int { get }
    /// Headroom the I/O layer leaves before data in frames it hands out from `allocateFrame`.
    var allocationHeadroom: Int { get }
    /// Takes a free frame buffer and returns its start address; nil when none are free.
    mutating func allocateFrame() -> UInt64?
    /// Gives back a frame (any address inside it) that will not be transmitted.
    mutating func releaseFrame(_ addr: UInt64)
    /// Queues `length` bytes at `addr` for transmission on `port`. Ownership of the frame
    /// passes to the I/O layer when this returns true; on false the caller still owns it.
    mutating func transmit(_ addr: UInt64, length: Int, on port: PortID) -> Bool
}
