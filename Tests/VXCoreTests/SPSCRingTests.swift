import Foundation
import VXCore
import XCTest

final class SPSCRingTests: XCTestCase {
    func testFullAndEmpty() {
        let ring = SPSCRing<Int>(capacity: 3)
        XCTAssertEqual(ring.capacity, 4, "rounded up to a power of two")
        for i in 0..<4 { XCTAssertTrue(ring.push(i)) }
        XCTAssertFalse(ring.push(4), "full: not stored")
        XCTAssertEqual(ring.pop(), 0)
        XCTAssertTrue(ring.push(4))
        XCTAssertEqual((0..<4).compactMap { _ in ring.pop() }, [1, 2, 3, 4])
        XCTAssertNil(ring.pop())
    }

    /// One producer thread, one consumer thread, a million elements (with class payloads,
    /// so a lost or doubled element would also show as a leak or a crash): all arrive, in order.
    func testOneProducerOneConsumerAcrossThreads() {
        final class Box { let n: Int; init(_ n: Int) { self.n = n } }
        let ring = SPSCRing<Box>(capacity: 256)
        let total = 1_000_000
        let producer = Thread {
            for i in 0..<total { while !ring.push(Box(i)) { sched_yield() } }
        }
        producer.start()
        var expected = 0
        while expected < total {
            if let b = ring.pop() {
                XCTAssertEqual(b.n, expected)
                if b.n != expected { return }
                expected += 1
            } else {
                sched_yield()
            }
        }
        XCTAssertTrue(ring.isEmpty)
    }
}
