import XCTest
@testable import VXCore

final class FDBTests: XCTestCase {
    func makeFDB(limit: Int? = nil) -> FDB {
        var f = FDB(capacity: 64, bridgeDomains: 4, eventCapacity: 8)
        f.configure(bd: 0, vni: VNI(unchecked: 100), macLimit: limit)
        f.configure(bd: 1, vni: VNI(unchecked: 200), macLimit: nil)
        return f
    }

    func testLearnRefreshMoveAndEvents() {
        var f = makeFDB()
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macA, port: PortID(1), now: 10), .learned)
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macA, port: PortID(1), now: 11), .refreshed)
        XCTAssertEqual(f.entry(bd: 0, mac: macA)?.lastSeen, 11)
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macA, port: PortID(2), now: 12), .moved)
        XCTAssertEqual(f.lookup(bd: 0, mac: macA), .port(PortID(2)))
        XCTAssertNil(f.lookup(bd: 1, mac: macA), "bridge domains are separate key spaces")
        let ev = f.events.drain()
        XCTAssertEqual(ev.map(\.kind), [.learned, .moved])
        XCTAssertEqual(ev[0].vni.value, 100)
        XCTAssertEqual(ev[1].destination, .port(PortID(2)))
    }

    func testARefreshInTheSameSecondWritesNothing() {
        var f = makeFDB()
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macA, port: PortID(1), now: 10), .learned)
        let copy = f
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macA, port: PortID(1), now: 10), .refreshed)
        XCTAssertTrue(f.slots.storage === copy.slots.storage, "no write, so no copy of the slots")
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macA, port: PortID(1), now: 11), .refreshed)
        XCTAssertFalse(f.slots.storage === copy.slots.storage, "a new second is written, into f's own slots")
        XCTAssertEqual(f.entry(bd: 0, mac: macA)?.lastSeen, 11)
        XCTAssertEqual(copy.entry(key: FDBEntry.key(bd: 0, mac: macA))?.lastSeen, 10)
    }

    func testStaticAndStickyAreNeverOverwrittenByLearning() {
        var f = makeFDB()
        f.addStatic(bd: 0, mac: macA, destination: .port(PortID(1)))
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macA, port: PortID(2), now: 1), .kept)
        XCTAssertEqual(f.learnRemote(bd: 0, mac: macA, vtep: 0, now: 1), .kept)
        XCTAssertFalse(f.installEVPN(bd: 0, mac: macA, vtep: 0, sequence: 5))
        XCTAssertEqual(f.lookup(bd: 0, mac: macA), .port(PortID(1)))
        XCTAssertEqual(f.age(now: 100_000, budget: f.slotCount), 0, "static never ages")
        XCTAssertTrue(f.removeStatic(bd: 0, mac: macA))
        XCTAssertNil(f.lookup(bd: 0, mac: macA))
    }

    func testEVPNInstallMobilityAndWithdraw() {
        var f = makeFDB()
        XCTAssertTrue(f.installEVPN(bd: 0, mac: macB, vtep: 3, sequence: 4))
        XCTAssertEqual(f.learnRemote(bd: 0, mac: macB, vtep: 5, now: 1), .kept, "data-plane remote learn never overwrites EVPN")
        _ = f.events.drain()
        // The VM moved here: a local learn is a move and bumps the mobility sequence above the remote's.
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macB, port: PortID(1), now: 2), .moved)
        XCTAssertEqual(f.entry(bd: 0, mac: macB)?.sequence, 5)
        XCTAssertEqual(f.entry(bd: 0, mac: macB)?.origin, .localLearned)
        XCTAssertEqual(f.events.drain().map(\.kind), [.moved])
        // And back: a higher-sequence route displaces the local entry (event).
        XCTAssertTrue(f.installEVPN(bd: 0, mac: macB, vtep: 3, sequence: 6))
        XCTAssertEqual(f.events.drain().map(\.kind), [.moved])
        XCTAssertFalse(f.withdrawEVPN(bd: 0, mac: macB, vtep: 9), "withdraw from another VTEP is ignored")
        XCTAssertTrue(f.withdrawEVPN(bd: 0, mac: macB, vtep: 3))
        XCTAssertNil(f.lookup(bd: 0, mac: macB))
        XCTAssertEqual(f.events.drain().map(\.kind), [.removed])
    }

    func testRemoteLearnMovesLearnedEntries() {
        var f = makeFDB()
        XCTAssertEqual(f.learnRemote(bd: 0, mac: macC, vtep: 1, now: 1), .learned)
        XCTAssertEqual(f.learnRemote(bd: 0, mac: macC, vtep: 2, now: 2), .moved)
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macC, port: PortID(4), now: 3), .moved)
        XCTAssertEqual(f.lookup(bd: 0, mac: macC), .port(PortID(4)))
    }

    func testMACLimit() {
        var f = makeFDB(limit: 2)
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macA, port: PortID(1), now: 0), .learned)
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macB, port: PortID(1), now: 0), .learned)
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macC, port: PortID(1), now: 0), .limited)
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macA, port: PortID(2), now: 0), .moved, "known MACs still move")
        f.addStatic(bd: 0, mac: macD, destination: .port(PortID(3)))
        XCTAssertEqual(f.learnedEntries(bd: 0), 2, "static entries do not count against the limit")
        XCTAssertEqual(f.learnLocal(bd: 1, mac: macC, port: PortID(1), now: 0), .learned, "limit is per VNI")
    }

    func testIncrementalAging() {
        var f = makeFDB()
        for i in 0..<20 {
            _ = f.learnLocal(bd: 0, mac: MACAddress(raw: 0x0200_0000_0000 | UInt64(i)), port: PortID(1), now: i < 10 ? 0 : 250)
            _ = f.events.drain()
        }
        let remote = MACAddress(raw: 0x0600_0000_0001)
        f.installEVPN(bd: 0, mac: remote, vtep: 0, sequence: 0)
        _ = f.events.drain()
        var removed = 0
        var calls = 0
        var aged: [FDBEvent] = []
        while calls * 4 < f.slotCount * 2 { removed += f.age(now: 301, budget: 4); aged += f.events.drain(); calls += 1 }
        XCTAssertEqual(removed, 10)
        XCTAssertEqual(f.count, 11)
        XCTAssertNotNil(f.lookup(bd: 0, mac: remote), "EVPN entries never age")
        XCTAssertEqual(aged.count, 10)
        XCTAssertTrue(aged.allSatisfy { $0.kind == .aged })
    }

    /// Back-pressure (issue 10): with the event ring full (the owner has not taken the events
    /// yet) nothing is learned, moved or aged that could not be reported; the next frame (or
    /// aging round) does it once there is room. Control changes never wait: the ring grows.
    func testAFullEventRingDefersLearningMovesAndAgingNothingIsLost() {
        var f = makeFDB() // a ring of 8
        let macs = (0..<20).map { MACAddress(raw: 0x0200_0000_0000 | UInt64($0)) }
        let first = macs.map { f.learnLocal(bd: 0, mac: $0, port: PortID(1), now: 0) }
        XCTAssertEqual(first.filter { $0 == .learned }.count, 8)
        XCTAssertEqual(first.filter { $0 == .deferred }.count, 12)
        XCTAssertEqual(f.count, 8)
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macs[0], port: PortID(2), now: 0), .deferred, "a move waits too")
        XCTAssertEqual(f.lookup(bd: 0, mac: macs[0]), .port(PortID(1)))
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macs[0], port: PortID(1), now: 0), .refreshed, "known sources still forward and refresh")
        let pinned = MACAddress(raw: 0x0200_0000_0F00)
        XCTAssertTrue(f.addStatic(bd: 0, mac: pinned, destination: .port(PortID(3))))
        XCTAssertEqual(f.events.count, 9, "a control change is never held back: the ring grows")
        var reported = Set(f.events.drain().map(\.mac))
        XCTAssertEqual(reported.count, 9)
        // Each source's next frame learns it, as room comes back.
        for m in macs where f.learnLocal(bd: 0, mac: m, port: PortID(1), now: 0) == .deferred {
            reported.formUnion(f.events.drain().map(\.mac))
            XCTAssertEqual(f.learnLocal(bd: 0, mac: m, port: PortID(1), now: 0), .learned)
        }
        reported.formUnion(f.events.drain().map(\.mac))
        XCTAssertEqual(f.learnedEntries(bd: 0), 20)
        XCTAssertEqual(reported, Set(macs + [pinned]), "every learned MAC was reported")
        // Aging pauses while the ring is full and goes on where it stopped.
        var aged = 0, removed = 0, rounds = 0
        while removed < 20 && rounds < 100 {
            removed += f.age(now: 1000, budget: f.slotCount)
            XCTAssertLessThanOrEqual(f.events.count, 8)
            aged += f.events.drain().filter { $0.kind == .aged }.count
            rounds += 1
        }
        XCTAssertEqual(removed, 20)
        XCTAssertEqual(aged, 20, "an aged event for every MAC removed")
        XCTAssertGreaterThan(rounds, 2)
    }

    /// A port's MAC limit: new sources and moves onto the port stop at it; other ports, remote
    /// learning, static entries and the VNI are not affected; leaving the port frees room.
    func testPortMACLimit() {
        var f = FDB(capacity: 64, bridgeDomains: 4, eventCapacity: 64, ports: 8)
        f.configure(bd: 0, vni: VNI(unchecked: 100), macLimit: nil)
        f.configure(bd: 1, vni: VNI(unchecked: 200), macLimit: nil)
        f.configure(port: PortID(1), macLimit: 2)
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macA, port: PortID(1), now: 0), .learned)
        XCTAssertEqual(f.learnLocal(bd: 1, mac: macB, port: PortID(1), now: 0), .learned, "all the port's VNIs count")
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macC, port: PortID(1), now: 0), .portLimited)
        XCTAssertNil(f.lookup(bd: 0, mac: macC))
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macC, port: PortID(2), now: 0), .learned, "the limit is per port")
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macC, port: PortID(1), now: 0), .portLimited, "a move onto the port counts")
        XCTAssertEqual(f.lookup(bd: 0, mac: macC), .port(PortID(2)))
        XCTAssertEqual(f.learnRemote(bd: 0, mac: macD, vtep: 1, now: 0), .learned)
        XCTAssertTrue(f.addStatic(bd: 0, mac: MACAddress(raw: 0x0200_0000_0099), destination: .port(PortID(1))))
        XCTAssertEqual(f.learnedEntries(port: PortID(1)), 2, "static entries do not count")
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macA, port: PortID(2), now: 0), .moved, "leaving the port frees a place")
        XCTAssertEqual(f.learnedEntries(port: PortID(1)), 1)
        XCTAssertEqual(f.learnLocal(bd: 0, mac: macC, port: PortID(1), now: 0), .moved)
        XCTAssertTrue(f.installEVPN(bd: 0, mac: macC, vtep: 3, sequence: 9), "a route displaces a local MAC")
        XCTAssertEqual(f.learnedEntries(port: PortID(1)), 1)
        XCTAssertEqual(f.flush(port: PortID(1)), 1)
        XCTAssertEqual(f.learnedEntries(port: PortID(1)), 0)
        f.configure(port: PortID(1), macLimit: nil)
        for i in 0..<10 { XCTAssertEqual(f.learnLocal(bd: 0, mac: MACAddress(raw: 0x0200_0000_1000 | UInt64(i)), port: PortID(1), now: 0), .learned) }
        XCTAssertEqual(f.learnedEntries(port: PortID(1)), 10)
    }

    func testFlushes() {
        var f = makeFDB()
        _ = f.learnLocal(bd: 0, mac: macA, port: PortID(1), now: 0)
        _ = f.learnLocal(bd: 1, mac: macA, port: PortID(1), now: 0)
        f.addStatic(bd: 0, mac: macB, destination: .port(PortID(1)))
        _ = f.learnRemote(bd: 0, mac: macC, vtep: 7, now: 0)
        f.installEVPN(bd: 1, mac: macD, vtep: 7, sequence: 1)
        XCTAssertEqual(f.flush(port: PortID(1)), 2)
        XCTAssertNotNil(f.lookup(bd: 0, mac: macB))
        XCTAssertEqual(f.flush(vtep: 7), 2)
        XCTAssertEqual(f.flush(bd: 0, everything: true), 1)
        XCTAssertEqual(f.count, 0)
    }

    /// Random operations against a Dictionary model: probing and backward-shift deletion stay right.
    func testMatchesModelUnderChurn() {
        var f = FDB(capacity: 200, bridgeDomains: 2, eventCapacity: 1, ports: 16)
        var model: [UInt64: FDBDestination] = [:]
        var rng = SystemRandomNumberGenerator()
        for step in 0..<5000 {
            let bd = UInt16.random(in: 0...1, using: &rng)
            let mac = MACAddress(raw: 0x0200_0000_0000 | UInt64.random(in: 0..<300, using: &rng))
            let key = FDBEntry.key(bd: bd, mac: mac)
            if Bool.random(using: &rng) {
                let port = PortID(UInt16.random(in: 1...4, using: &rng))
                let r = f.learnLocal(bd: bd, mac: mac, port: port, now: 0)
                XCTAssertNotEqual(r, .deferred, "the events are taken every step")
                if r != .full { model[key] = .port(port) }
            } else {
                if f.addStatic(bd: bd, mac: mac, destination: .port(PortID(9))) {
                    XCTAssertTrue(f.removeStatic(bd: bd, mac: mac))
                    model[key] = nil
                } else {
                    // Only a new key is refused, and only when the table holds its capacity.
                    XCTAssertNil(model[key])
                    XCTAssertEqual(f.count, 200)
                }
            }
            _ = f.events.drain()
            if step % 500 == 0 {
                for (k, d) in model { XCTAssertEqual(f.lookup(bd: UInt16(k >> 48), mac: MACAddress(raw: k)), d) }
                XCTAssertEqual(f.count, model.count)
                for p in 1...4 {
                    XCTAssertEqual(f.learnedEntries(port: PortID(UInt16(p))), model.values.filter { $0 == .port(PortID(UInt16(p))) }.count,
                                   "per-port learned counts follow every learn, move and removal")
                }
            }
        }
    }
}
