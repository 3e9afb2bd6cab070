import VXCore
import XCTest

/// `show mac` on a large table: pages in slot order that together list every entry once,
/// and counts per VNI without rows.
final class FDBPageTests: XCTestCase {
    func testPagesListEveryEntryOnceAndCountsAgree() {
        let underlay = UnderlayConfig(uplink: PortID(0), uplinkMAC: MACAddress(raw: 0x02_00_00_00_00_01),
                                      localV4: IPAddress("192.0.2.1"), localV6: nil)
        var p = SwitchPipeline(underlay: underlay, fdbCapacity: 4096)
        let a = VNI(100)!, b = VNI(200)!, vtep = IPAddress("192.0.2.9")!
        p.apply(.addVNI(a, learnRemote: false, macLimit: nil))
        p.apply(.addVNI(b, learnRemote: false, macLimit: nil))
        p.apply(.setPort(PortID(1), PortConfig(kind: .access(a))))
        for i in 0..<1000 {
            XCTAssertTrue(p.apply(.installEVPN(i % 2 == 0 ? a : b, MACAddress(raw: 0x0A_00_00_00_00_00 | UInt64(i + 1)), vtep: vtep, sequence: 0)))
        }
        XCTAssertTrue(p.apply(.addStaticPort(a, MACAddress(raw: 0x02_00_00_00_09_09), PortID(1))))

        var seen: [MACAddress] = []
        var from: Int? = 0
        var pages = 0
        while let start = from {
            let (rows, next) = p.fdbRowsPage(now: 0, from: start, limit: 64)
            XCTAssertLessThanOrEqual(rows.count, 64)
            seen += rows.map(\.mac)
            from = next
            pages += 1
        }
        XCTAssertEqual(seen.count, 1001)
        XCTAssertEqual(Set(seen).count, 1001, "no entry twice")
        XCTAssertGreaterThanOrEqual(pages, 16)

        var onlyB = 0
        from = 0
        while let start = from {
            let (rows, next) = p.fdbRowsPage(now: 0, vni: b, from: start, limit: 100)
            XCTAssertTrue(rows.allSatisfy { $0.vni == b })
            onlyB += rows.count
            from = next
        }
        XCTAssertEqual(onlyB, 500)

        let counts = p.fdbCounts()
        XCTAssertEqual(counts[a]?.remote, 500)
        XCTAssertEqual(counts[a]?.local, 1, "the static MAC points at a port")
        XCTAssertEqual(counts[a]?.byOrigin[.static], 1)
        XCTAssertEqual(counts[b]?.byOrigin[.evpn], 500)
    }
}

/// `fdb.max-entries` is what the table holds, not the 3/4 of its power-of-two slots.
final class FDBCapacityTests: XCTestCase {
    func testTheTableHoldsExactlyItsCapacity() {
        var f = FDB(capacity: 1000, bridgeDomains: 1)
        for i in 0..<1000 { XCTAssertEqual(f.learnLocal(bd: 0, mac: MACAddress(raw: 0x0200_0000_0000 | UInt64(i)), port: PortID(1), now: 0), .learned) }
        XCTAssertEqual(f.learnLocal(bd: 0, mac: MACAddress(raw: 0x0200_0001_0000), port: PortID(1), now: 0), .full)
        XCTAssertEqual(f.count, 1000)
        XCTAssertGreaterThanOrEqual(f.slotCount * 3 / 4, 1000, "at most 3/4 of the slots in use")
    }
}
