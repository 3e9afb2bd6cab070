import XCTest
@testable import VXCore

/// Local neighbour learning (`Pipeline+LocalNeighbors.swift`): a VM's ARP and ND from a local
/// port put its IP in the neighbour table and a `.neighborLearned` report toward the owner
/// (EVPN MAC/IP routes); DAD and ARP probes are not learned.
final class LocalNeighborLearningTests: XCTestCase {
    func makeLearningSwitch() -> (SwitchPipeline, SyntheticFrameIO) {
        var (sw, io) = makeSwitch()
        sw.learnsNeighbors = true
        return (sw, io)
    }

    func testOffByDefault() {
        var (sw, io) = makeSwitch()
        _ = pass(&sw, &io, from: p1, [ND.arp(), ND.solicitation()])
        XCTAssertEqual(sw.neighborRows(), [], "without EVPN nothing would withdraw them")
    }

    func reports(_ sw: inout SwitchPipeline) -> [LearnedHost] {
        let ring = SPSCRing<DataplaneReport>(capacity: 64)
        sw.publishReports(into: ring)
        var out: [LearnedHost] = []
        while let r = ring.pop() { if case .neighborLearned(let n) = r { out.append(n) } }
        return out
    }

    /// A neighbour advertisement for `target` from `mac`, with a target link-layer option `option`.
    static func advertisement(target: String, mac: MACAddress, option: MACAddress? = nil, hopLimit: UInt8 = 255) -> [UInt8] {
        let src = IPAddress(target)!.bytes, dst = IPAddress("ff02::1")!.bytes
        var icmp: [UInt8] = [136, 0, 0, 0, 0x20, 0, 0, 0] + src + (option.map { [2, 1] + $0.bytes } ?? [])
        let c = referenceChecksum(src + dst + [0, 0] + be16(icmp.count) + [0, 0, 0, 58] + icmp)
        icmp[2] = UInt8(c >> 8); icmp[3] = UInt8(c & 0xFF)
        let ip: [UInt8] = [0x60, 0, 0, 0] + be16(icmp.count) + [58, hopLimit] + src + dst
        return Build.ethernet(dst: MACAddress(0x33, 0x33, 0, 0, 0, 1), src: mac, type: 0x86DD) + ip + icmp
    }

    func testARPSenderIsLearnedOnceAndReported() {
        var (sw, io) = makeLearningSwitch()
        _ = pass(&sw, &io, from: p1, [ND.arp()])
        XCTAssertEqual(sw.neighbor(vni: vniA, ip: IPAddress("10.0.0.1")!), macA)
        XCTAssertEqual(reports(&sw), [LearnedHost(vni: vniA, ip: IPAddress("10.0.0.1")!, mac: macA)])
        _ = pass(&sw, &io, from: p1, [ND.arp(), ND.arp(op: 2, dst: macB)])
        XCTAssertEqual(reports(&sw), [], "known at that MAC: no report again")
        XCTAssertEqual(sw.absorb(.neighborLearned(LearnedHost(vni: vniA, ip: IPAddress("10.0.0.1")!, mac: macA))),
                       .installNeighbor(vniA, IPAddress("10.0.0.1")!, macA), "the owner hands it to every copy")
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testGratuitousARPFromANewMACReplacesTheEntry() {
        var (sw, io) = makeLearningSwitch()
        XCTAssertTrue(sw.installNeighbor(vni: vniA, ip: IPAddress("10.0.0.1")!, mac: macD)) // a remote MAC had it
        _ = pass(&sw, &io, from: p1, [ND.arp(sender: ND.requesterIP, target: ND.requesterIP)])
        XCTAssertEqual(sw.neighbor(vni: vniA, ip: IPAddress("10.0.0.1")!), macA, "suppression answers with the new MAC")
        XCTAssertEqual(reports(&sw).map(\.mac), [macA])
    }

    func testProbesAndDADAreNotLearned() {
        var (sw, io) = makeLearningSwitch()
        _ = pass(&sw, &io, from: p1, [ND.arp(sender: [0, 0, 0, 0]), ND.solicitation(source: "::"),
                                       ND.solicitation(corruptChecksum: true), ND.solicitation(hopLimit: 64)])
        XCTAssertEqual(sw.neighborRows(), [])
        XCTAssertEqual(reports(&sw), [])
    }

    func testNDSolicitationAndAdvertisementAreLearned() {
        var (sw, io) = makeLearningSwitch()
        _ = pass(&sw, &io, from: p1, [ND.solicitation()])
        XCTAssertEqual(sw.neighbor(vni: vniA, ip: IPAddress("fd00::1")!), macA, "NS source at its source link-layer address")
        // An NA: the target at its target link-layer option (which wins over the Ethernet source).
        _ = pass(&sw, &io, from: p2, [Self.advertisement(target: "fd00::7", mac: macB, option: macC)])
        XCTAssertEqual(sw.neighbor(vni: vniA, ip: IPAddress("fd00::7")!), macC)
        _ = pass(&sw, &io, from: p2, [Self.advertisement(target: "fd00::8", mac: macB)])
        XCTAssertEqual(sw.neighbor(vni: vniA, ip: IPAddress("fd00::8")!), macB, "no option: the Ethernet source")
        XCTAssertEqual(reports(&sw).map(\.ip), ["fd00::1", "fd00::7", "fd00::8"].map { IPAddress($0)! })
        XCTAssertEqual(io.freeCount, io.frameCount)
    }

    func testOptionParsingIsBounded() {
        var icmp: [UInt8] = [136, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 16) + [2, 0, 1, 2, 3, 4, 5, 6]
        XCTAssertNil(icmp.withUnsafeBytes { ICMPv6.linkLayerAddress($0.baseAddress!, length: $0.count, option: 2) }, "length 0")
        icmp[25] = 2
        XCTAssertNil(icmp.withUnsafeBytes { ICMPv6.linkLayerAddress($0.baseAddress!, length: $0.count, option: 2) }, "past the end")
        icmp[25] = 1
        XCTAssertEqual(icmp.withUnsafeBytes { ICMPv6.linkLayerAddress($0.baseAddress!, length: $0.count, option: 2) },
                       MACAddress(1, 2, 3, 4, 5, 6))
    }
}
