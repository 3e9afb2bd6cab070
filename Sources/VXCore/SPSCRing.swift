import Synchronization

/// A bounded single-producer single-consumer ring: one thread pushes, one other thread pops,
/// without a lock (acquire/release on the two indices). The control plane reaches a worker
/// through one (`TableUpdate`s and socket jobs), and the worker reports back through another
/// (`DataplaneReport`s). Neither side ever waits for the other; a full ring is the
/// producer's to handle (wait, or count a loss).
public final class SPSCRing<Element>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Element>
    private let mask: Int
    public let capacity: Int
    /// Next index the consumer reads.
    private let head = Atomic<Int>(0)
    /// Next index the producer writes.
    private let tail = Atomic<Int>(0)

    /// - Parameter capacity: rounded up to a power of two.
    public init(capacity: Int) {
        var n = 1
        while n < max(2, capacity) { n <<= 1 }
        self.capacity = n
        mask = n - 1
        slots = .allocate(capacity: n)
    }

    deinit {
        while pop() != nil {}
        slots.deallocate()
    }

    /// Producer only. False when the ring is full (the element is not stored).
    @discardableResult
    public func push(_ element: Element) -> Bool {
        let t = tail.load(ordering: .relaxed)
        guard t &- head.load(ordering: .acquiring) < capacity else { return false }
        (slots + (t & mask)).initialize(to: element)
        tail.store(t &+ 1, ordering: .releasing)
        return true
    }

    /// Consumer only. Nil when the ring is empty.
    public func pop() -> Element? {
        let h = head.load(ordering: .relaxed)
        guard h != tail.load(ordering: .acquiring) else { return nil }
        let element = (slots + (h & mask)).move()
        head.store(h &+ 1, ordering: .releasing)
        return element
    }

    /// Elements waiting (exact for either side's own view; a moment's estimate for others).
    public var count: Int { tail.load(ordering: .acquiring) &- head.load(ordering: .acquiring) }
    public var isEmpty: Bool { count == 0 }
}
