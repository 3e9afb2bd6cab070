import XCTest
@testable import VXCore

/// A slot whose hash is its key: a key's top bits pick its home slot, so a test can place
/// entries on purpose (collisions, runs that wrap past the last slot).
private struct TestSlot: HashSlot, Equatable {
    var key: UInt64
    var value: Int

    static var empty: TestSlot { TestSlot(key: .max, value: 0) }
    var isEmpty: Bool { key == .max }
    static func hash(_ key: UInt64) -> UInt64 { key }
    var hash: UInt64 { key }
    func holds(_ key: UInt64) -> Bool { self.key == key }
}

/// The one open-addressing table behind the FDB, `IndexMap` and `NeighborTable`.
final class HashTableTests: XCTestCase {
    /// In a table of 8 slots the home of a key is its top 3 bits.
    private func key(home: Int, _ id: UInt64) -> UInt64 { UInt64(home) << 61 | id }

    /// Every entry sits at its home or after it with no free slot in between (what lookups rely on).
    private func assertRunsUnbroken(_ t: OpenHashTable<TestSlot>, file: StaticString = #filePath, line: UInt = #line) {
        for i in 0..<t.slotCount where !t[i].isEmpty {
            var j = t.home(t[i].hash)
            while j != i {
                XCTAssertFalse(t[j].isEmpty, "a hole at \(j) between slot \(i) and its home", file: file, line: line)
                j = (j + 1) & t.mask
            }
        }
    }

    /// The sizes `Sources/VXCore/README.md` states memory per MAC and per table with.
    func testSlotSizesAreTheStatedOnes() {
        XCTAssertEqual(MemoryLayout<FDBEntry>.stride, 24)
        XCTAssertEqual(MemoryLayout<IndexMap.Slot>.stride, 24)
        XCTAssertEqual(MemoryLayout<NeighborTable.Slot>.stride, 24)
        XCTAssertEqual(FDB(capacity: 131_072, bridgeDomains: 1).slotCount, 262_144)
        XCTAssertEqual(NeighborTable(capacity: 24_576).table.slotCount, 32_768)
    }

    func testSizedForCapacityAtThreeQuartersAndInsertsStopThere() {
        XCTAssertEqual(OpenHashTable<TestSlot>(capacity: 6).slotCount, 8)
        XCTAssertEqual(OpenHashTable<TestSlot>(capacity: 7).slotCount, 16)
        XCTAssertEqual(OpenHashTable<TestSlot>(capacity: 1000).slotCount, 2048)
        XCTAssertEqual(OpenHashTable<TestSlot>(capacity: 1).slotCount, 8, "at least 8 slots")
        var t = OpenHashTable<TestSlot>(capacity: 6)
        for i in 0..<6 { XCTAssertNotNil(t.insert(TestSlot(key: key(home: 3, UInt64(i)), value: i))) }
        XCTAssertNil(t.insert(TestSlot(key: key(home: 0, 99), value: 0)), "full at the capacity asked for")
        XCTAssertEqual(t.count, 6)
        for i in 0..<6 { XCTAssertEqual(t.find(key(home: 3, UInt64(i))).map { t[$0].value }, i) }
        assertRunsUnbroken(t)
    }

    func testInsertFindUpdateRemove() {
        var t = OpenHashTable<TestSlot>(capacity: 6)
        let a = key(home: 2, 1), b = key(home: 2, 2)
        XCTAssertNil(t.find(a))
        XCTAssertEqual(t.insert(TestSlot(key: a, value: 10)), 2)
        XCTAssertEqual(t.insert(TestSlot(key: b, value: 20)), 3, "a collision goes to the next slot")
        t[t.find(b)!].value = 21
        XCTAssertEqual(t[t.find(b)!].value, 21)
        t.remove(at: t.find(a)!)
        XCTAssertNil(t.find(a))
        XCTAssertEqual(t.find(b), 2, "backward shift moved b home")
        XCTAssertTrue(t[3].isEmpty, "no tombstone left behind")
        XCTAssertEqual(t.count, 1)
    }

    func testRunWrapsPastTheLastSlotAndShiftsBackAcrossIt() {
        var t = OpenHashTable<TestSlot>(capacity: 6)
        let a = key(home: 6, 1), b = key(home: 7, 2), c = key(home: 6, 3), d = key(home: 0, 4)
        for (i, k) in [a, b, c, d].enumerated() { _ = t.insert(TestSlot(key: k, value: i)) }
        XCTAssertEqual([a, b, c, d].map { t.find($0) }, [6, 7, 0, 1], "c wraps to slot 0, d is pushed to 1")
        t.remove(at: 6)
        // b stays (its home 7 lies after the hole), c comes back to 6 across the end, d home to 0.
        XCTAssertEqual([b, c, d].map { t.find($0) }, [7, 6, 0])
        XCTAssertNil(t.find(a))
        XCTAssertTrue(t[1].isEmpty)
        assertRunsUnbroken(t)
        t.remove(at: t.find(b)!)
        XCTAssertEqual([c, d].map { t.find($0) }, [6, 0], "nothing may move into 7: c's home is 6, d's is 0")
        assertRunsUnbroken(t)
    }

    func testRemovingEverythingLeavesEverySlotFree() {
        var t = OpenHashTable<TestSlot>(capacity: 6)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var keys: [UInt64] = []
            while keys.count < 6 {
                let k = rng.next() & ~1 // never .max
                if t.find(k) == nil { _ = t.insert(TestSlot(key: k, value: 0)); keys.append(k) }
            }
            for k in keys.shuffled(using: &rng) { t.remove(at: t.find(k)!) }
        }
        XCTAssertEqual(t.count, 0)
        XCTAssertTrue((0..<t.slotCount).allSatisfy { t[$0].isEmpty })
    }

    func testMatchesADictionaryUnderRandomOperations() {
        var t = OpenHashTable<TestSlot>(capacity: 48) // 64 slots: long runs, many wraps
        var model: [UInt64: Int] = [:]
        var rng = SystemRandomNumberGenerator()
        // 80 keys for 48 places: inserts meet a full table, runs collide and wrap.
        let keys = (0..<80).map { _ in rng.next() & ~1 }
        for step in 0..<50_000 {
            let k = keys[Int(rng.next() % UInt64(keys.count))]
            switch rng.next() % 8 {
            case 0...3:
                if let i = t.find(k) {
                    t[i].value = step
                    model[k] = step
                } else if t.insert(TestSlot(key: k, value: step)) != nil {
                    model[k] = step
                } else {
                    XCTAssertEqual(model.count, 48, "only a full table refuses")
                }
            case 4...6:
                if let i = t.find(k) { t.remove(at: i) }
                XCTAssertEqual(t.find(k), nil)
                model[k] = nil
            default:
                if step % 1000 == 0 {
                    let bit = rng.next() % 60
                    XCTAssertEqual(t.removeAll { $0.key >> bit & 1 == 1 }, model.keys.filter { $0 >> bit & 1 == 1 }.count)
                    model = model.filter { $0.key >> bit & 1 == 0 }
                }
            }
            XCTAssertEqual(t.count, model.count)
            if step % 997 == 0 { assertRunsUnbroken(t) }
        }
        for k in keys { XCTAssertEqual(t.find(k).map { t[$0].value }, model[k]) }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: t.map { ($0.key, $0.value) }), model, "iteration sees every entry once")
    }

    func testACopyDoesNotSeeTheOriginalsWrites() {
        var t = OpenHashTable<TestSlot>(capacity: 6)
        _ = t.insert(TestSlot(key: key(home: 1, 1), value: 1))
        let copy = t
        t[t.find(key(home: 1, 1))!].value = 2
        _ = t.insert(TestSlot(key: key(home: 1, 2), value: 3))
        XCTAssertEqual(copy[copy.find(key(home: 1, 1))!].value, 1)
        XCTAssertNil(copy.find(key(home: 1, 2)))
        XCTAssertEqual(copy.count, 1)
        var grown = t.resized(capacity: 100)
        XCTAssertEqual(grown.slotCount, 256)
        XCTAssertEqual(grown.find(key(home: 1, 2)).map { grown[$0].value }, 3)
        grown.remove(at: grown.find(key(home: 1, 1))!)
        XCTAssertNotNil(t.find(key(home: 1, 1)))
    }
}
