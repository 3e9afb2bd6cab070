// Network-order loads and stores at byte offsets of raw frame memory.
// Every header view is built on these four helpers; they are unaligned-safe.

extension UnsafeRawPointer {
    @inlinable @inline(__always)
    public func loadBE16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inlinable @inline(__always)
    public func loadBE32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}

extension UnsafeMutableRawPointer {
    @inlinable @inline(__always)
    public func loadBE16(_ offset: Int) -> UInt16 { UnsafeRawPointer(self).loadBE16(offset) }
    @inlinable @inline(__always)
    public func loadBE32(_ offset: Int) -> UInt32 { UnsafeRawPointer(self).loadBE32(offset) }
    @inlinable @inline(__always)
    public func storeBE16(_ value: UInt16, _ offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }
    @inlinable @inline(__always)
    public func storeBE32(_ value: UInt32, _ offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }
}
