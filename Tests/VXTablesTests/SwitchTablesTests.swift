import VXCore
import VXTables
import XCTest

/// A worker's copy kept by hand: what a real worker does between batches with its job ring.
private final class Copy: TableSubscriber {
    var tables: SwitchPipeline
    var received: [TableUpdate] = []
    init(_ tables: SwitchPipeline) { self.tables = tables }
    func tablesChanged(_ updates: [TableUpdate]) {
        received += updates
        for u in updates { XCTAssertTrue(tables.apply(u), "the owner passed on only what it could apply: \(u)") }
    }
    func waitUntilApplied() {}
}

final class SwitchTablesTests: XCTestCase {
    let underlay = UnderlayConfig(uplink: PortID(0), uplinkMAC: MACAddress(raw: 0x02_00_00_00_00_01),
                                  localV4: IPAddress("192.0.2.1"), localV6: nil)
    let vni = VNI(100)!
    let mac = MACAddress(raw: 0x02_00_00_00_01_01)
    let remote = IPAddress("192.0.2.2")!

    private func make() -> (SwitchTables, Copy) {
        let owner = SwitchTables(SwitchPipeline(underlay: underlay, fdbCapacity: 1024))
        var worker = SwitchPipeline(underlay: underlay, fdbCapacity: 1024)
        worker.createsVTEPs = false
        let copy = Copy(worker)
        owner.subscribe(copy)
        return (owner, copy)
    }

    func testUpdatesReachTheSubscriberInOrderAndOnlyWhenPossible() {
        let (owner, copy) = make()
        XCTAssertEqual(owner.apply([.addStaticVTEP(vni, mac, remote), .addVNI(vni, learnRemote: false, macLimit: nil),
                                    .addFlood(vni, remote, .static), .addStaticVTEP(vni, mac, remote)]),
                       [false, true, true, true], "a MAC in a VNI not yet configured is refused")
        XCTAssertEqual(copy.received.count, 3)
        XCTAssertEqual(owner.rejected, 1)
        // Both copies gave the VNI and the VTEP the same dense indices.
        let ownerIndex = owner.read { p in
            var p = p
            return (p.bridgeDomains.index(of: self.vni), p.vteps.index(of: self.remote))
        }
        XCTAssertEqual(ownerIndex.0, copy.tables.bridgeDomains.index(of: vni))
        XCTAssertEqual(ownerIndex.1, copy.tables.vteps.index(of: remote))
        XCTAssertEqual(owner.read { $0.fdbRows(now: 0).count }, 1)
        XCTAssertFalse(owner.apply(.removeFlood(vni, remote, origin: .evpn)), "only an EVPN entry is removed as EVPN's")
        XCTAssertTrue(owner.apply(.removeFlood(vni, remote, origin: .static)))
        XCTAssertEqual(copy.tables.bridgeDomains.domains[0].floodList, [])
    }

    func testWorkerLearningReachesTheOwnersCopy() {
        let (owner, copy) = make()
        owner.apply([.addVNI(vni, learnRemote: true, macLimit: nil), .setPort(PortID(1), PortConfig(kind: .access(vni)))])
        var w = copy.tables
        _ = w.fdb.learnLocal(bd: 0, mac: mac, port: PortID(1), now: 10)
        let ring = SPSCRing<DataplaneReport>(capacity: 16)
        w.publishReports(into: ring)
        var reports: [DataplaneReport] = []
        while let r = ring.pop() { reports.append(r) }
        XCTAssertEqual(reports.count, 1)
        owner.absorb(reports)
        let rows = owner.read { $0.fdbRows(now: 12) }
        XCTAssertEqual(rows.map(\.mac), [mac])
        XCTAssertEqual(rows.first?.port, PortID(1))
        XCTAssertEqual(rows.first?.age, 2, "the owner keeps the worker's last-seen")
        // Aged on the worker: gone from the owner too.
        w.fdb.ageLimit = 5
        _ = w.age(now: 100, budget: w.fdb.slotCount)
        w.publishReports(into: ring)
        reports = []
        while let r = ring.pop() { reports.append(r) }
        owner.absorb(reports)
        XCTAssertEqual(owner.read { $0.fdbRows(now: 100).count }, 0)
    }

    /// Two workers (a worker per queue): what one learns reaches the other's copy through the
    /// owner, and a MAC both saw move ends where the owner's order puts it in every copy.
    func testWithTwoWorkersWhatOneLearnsReachesTheOther() {
        let (owner, first) = make()
        var second = SwitchPipeline(underlay: underlay, fdbCapacity: 1024)
        second.createsVTEPs = false
        let other = Copy(second)
        owner.subscribe(other)
        owner.apply([.addVNI(vni, learnRemote: true, macLimit: nil),
                     .setPort(PortID(1), PortConfig(kind: .access(vni))), .setPort(PortID(2), PortConfig(kind: .access(vni)))])
        func reports(_ copy: Copy, _ learn: (inout SwitchPipeline) -> Void) -> [DataplaneReport] {
            learn(&copy.tables)
            let ring = SPSCRing<DataplaneReport>(capacity: 16)
            copy.tables.publishReports(into: ring)
            var out: [DataplaneReport] = []
            while let r = ring.pop() { out.append(r) }
            return out
        }
        owner.absorb(reports(first) { _ = $0.fdb.learnLocal(bd: 0, mac: mac, port: PortID(1), now: 10) })
        XCTAssertEqual(other.tables.fdbRows(now: 10).first?.port, PortID(1), "the other worker forwards to it without flooding")
        XCTAssertEqual(first.tables.fdbRows(now: 10).first?.port, PortID(1))
        // Both see it move at once, to different ports: the owner takes first's report, then
        // other's, and every copy ends at other's port.
        let a = reports(first) { _ = $0.fdb.learnLocal(bd: 0, mac: mac, port: PortID(2), now: 11) }
        let b = reports(other) { _ = $0.fdb.learnLocal(bd: 0, mac: mac, port: PortID(1), now: 11) }
        owner.absorb(a + b)
        let final = owner.read { $0.fdbRows(now: 11).first?.port }
        XCTAssertEqual(first.tables.fdbRows(now: 11).first?.port, final)
        XCTAssertEqual(other.tables.fdbRows(now: 11).first?.port, final)
        XCTAssertTrue(first.tables.fdb.events.count == 0 && other.tables.fdb.events.count == 0,
                      "what the owner fans out is not reported back")
    }

    func testAVTEPSeenByRemoteLearningIsAddedForEveryCopy() {
        let (owner, copy) = make()
        owner.apply([.addVNI(vni, learnRemote: true, macLimit: nil), .setVTEPAdmission(VTEPAdmission(accept: .any))])
        owner.absorb([.vtepSeen(remote), .vtepSeen(remote)])
        XCTAssertEqual(copy.received.last, .addVTEP(remote))
        XCTAssertEqual(copy.received.filter { $0 == .addVTEP(remote) }.count, 1, "added once")
        XCTAssertNotNil(copy.tables.vteps.index(of: remote))
        XCTAssertEqual(owner.read { p in var p = p; return p.vteps.index(of: self.remote) }, copy.tables.vteps.index(of: remote))
        // Aged out by the owner: gone from every copy; a VTEP the control plane gave is refused.
        var aging = LearnedVTEPAging()
        XCTAssertEqual(owner.read { aging.expired($0, now: 10, idle: 5) }, [])
        let gone = owner.read { aging.expired($0, now: 15, idle: 5) }
        XCTAssertEqual(gone, [.ageVTEP(remote)])
        XCTAssertEqual(owner.apply(gone + [.addFlood(vni, remote, .static), .ageVTEP(remote)]), [true, true, false])
        XCTAssertFalse(copy.tables.vteps[copy.tables.vteps.index(of: remote)!].learned)
    }

    func testUnderKnownAVTEPSeenIsNotAdded() {
        let (owner, copy) = make()
        owner.apply(.addVNI(vni, learnRemote: true, macLimit: nil))
        owner.absorb([.vtepSeen(remote)])
        XCTAssertFalse(copy.received.contains(.addVTEP(remote)))
        XCTAssertNil(copy.tables.vteps.index(of: remote))
        XCTAssertEqual(owner.rejected, 0, "not even tried")
    }

    func testRefreshFromTheFastPathNeverLearns() {
        let (owner, _) = make()
        owner.apply(.addVNI(vni, learnRemote: false, macLimit: nil))
        XCTAssertFalse(owner.apply(.refreshLearned(vni, mac, stamp: 50)), "an unknown MAC is not learned by a refresh")
        XCTAssertEqual(owner.read { $0.fdbRows(now: 50).count }, 0)
    }
}
