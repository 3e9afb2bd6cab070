import XCTest
@testable import VXCore

/// The flat maps that replaced `Dictionary` for VNI → bridge domain and IP → VTEP.
final class IndexMapTests: XCTestCase {
    func testMatchesDictionaryUnderRandomInsertsUpdatesAndRemoves() {
        var map = IndexMap(capacity: 4)
        var reference: [IPAddress: UInt16] = [:]
        var rng = SystemRandomNumberGenerator()
        // Few distinct keys so probe runs collide, wrap and shift back on removal.
        let keys = (0..<300).map { i in i % 3 == 0 ? IPAddress(hi: UInt64(i), lo: 7) : IPAddress(v4: UInt32(i)) }
        for _ in 0..<20_000 {
            let k = keys[Int.random(in: 0..<keys.count, using: &rng)]
            if Bool.random(using: &rng) {
                let v = UInt16.random(in: 0..<UInt16.max, using: &rng)
                map.set(hi: k.hi, lo: k.lo, v)
                reference[k] = v
            } else {
                XCTAssertEqual(map.remove(hi: k.hi, lo: k.lo), reference.removeValue(forKey: k))
            }
            XCTAssertEqual(map.count, reference.count)
        }
        for k in keys { XCTAssertEqual(map.value(hi: k.hi, lo: k.lo), reference[k]) }
    }

    func testBridgeDomainTableKeepsVNIIndexAndLearnRemoteFlagInStep() {
        var t = BridgeDomainTable(capacity: 8)
        let a = t.add(VNI(100)!, learnRemote: true, macLimit: nil)!
        let b = t.add(VNI(200)!, learnRemote: false, macLimit: nil)!
        XCTAssertEqual(t.index(of: VNI(100)!), a)
        XCTAssertEqual(t.index(of: VNI(200)!), b)
        XCTAssertNil(t.index(of: VNI(300)!))
        XCTAssertTrue(t.learnsRemote[Int(a)])
        XCTAssertFalse(t.learnsRemote[Int(b)])
        _ = t.add(VNI(100)!, learnRemote: false, macLimit: nil) // update
        XCTAssertFalse(t.learnsRemote[Int(a)])
        XCTAssertEqual(t.remove(VNI(200)!), b)
        XCTAssertNil(t.index(of: VNI(200)!))
        let c = t.add(VNI(300)!, learnRemote: true, macLimit: nil)!
        XCTAssertEqual(c, b, "a freed index is reused")
        XCTAssertTrue(t.learnsRemote[Int(c)])
        for i in 0..<Int(t.capacity) { XCTAssertEqual(t.learnsRemote[i], i < t.domains.count && t.domains[i].learnRemote) }
    }

    func testVTEPTableFindsManyAddressesAfterRemovals() {
        var t = VTEPTable(capacity: 1000)
        let ips = (0..<600).map { IPAddress(v4: 0x0A01_0000 | UInt32($0)) }
        let idx = ips.map { t.add($0)! }
        for (ip, i) in zip(ips, idx) { XCTAssertEqual(t.index(of: ip), i) }
        for ip in ips where ip.v4 % 2 == 0 { _ = t.remove(ip) }
        for (ip, i) in zip(ips, idx) { XCTAssertEqual(t.index(of: ip), ip.v4 % 2 == 0 ? nil : i) }
    }
}
