import Foundation
import NIOCore
import NIOPosix
import VXCore
import XCTest
@testable import VXEVPN

/// Sessions over loopback, no root needed: two vxsw speakers, or a scripted raw peer.
final class SessionTests: XCTestCase {
    let vni = VNI(100)!
    let mac = MACAddress("02:00:00:00:00:aa")!

    /// Speaker A listens on `listen` (port 0); its passive peer is `peerAddress`.
    func makeListener(asn: UInt32, listen: IPAddress, peerAddress: IPAddress, peerAS: UInt32,
                      configure: (inout EVPNConfig) -> Void = { _ in }) async throws -> (EVPNSpeaker, RecordingDataplane) {
        var c = EVPNConfig(asn: asn, routerID: IPAddress("10.0.0.1")!, vtep: IPAddress("192.0.2.1")!, listenAddress: listen,
                           peers: [PeerConfig(address: peerAddress, remoteAS: peerAS, passive: true)])
        c.listenPort = 0
        configure(&c)
        return try await launch(c)
    }

    func makeConnector(asn: UInt32, routerID: String, to: IPAddress, port: Int, from: IPAddress, peerAS: UInt32,
                       configure: (inout EVPNConfig) -> Void = { _ in }) async throws -> (EVPNSpeaker, RecordingDataplane) {
        var c = EVPNConfig(asn: asn, routerID: IPAddress(routerID)!, vtep: IPAddress("192.0.2.2")!,
                           peers: [PeerConfig(address: to, remoteAS: peerAS, port: port, localAddress: from)])
        c.connectRetrySeconds = 0.5
        configure(&c)
        return try await launch(c)
    }

    func launch(_ c: EVPNConfig) async throws -> (EVPNSpeaker, RecordingDataplane) {
        let dp = RecordingDataplane()
        let s = EVPNSpeaker(config: c, dataplane: dp)
        s.setLocalVNIs([vni])
        try await s.start()
        return (s, dp)
    }

    func established(_ s: EVPNSpeaker) async throws -> Bool { try await s.summary().peers.first?.state == .established }

    func testTwoSpeakersOverIPv6EBGP() async throws {
        let lo6 = IPAddress("::1")!
        let (a, dpA) = try await makeListener(asn: 65001, listen: lo6, peerAddress: lo6, peerAS: 4_200_000_002)
        let port = try XCTUnwrap(a.listeningPort)
        let (b, dpB) = try await makeConnector(asn: 4_200_000_002, routerID: "10.0.0.2", to: lo6, port: port, from: lo6, peerAS: 65001) {
            // eBGP between different ASes: use A's RT explicitly (auto RTs differ, as with FRR).
            $0.vnis = [VNIConfig(vni: 100, importRTs: [.as2(65001, 100)], exportRTs: [.as2(65001, 100)])]
        }
        try await Lab.wait(10, "established") {
            let ua = try await established(a), ub = try await established(b)
            return ua && ub
        }
        a.localMACLearned(vni: vni, mac: mac, ip: IPAddress("10.9.9.9"))
        try await Lab.wait(5, "B installs A's MAC") { dpB.macs[VNIMAC(vni, mac)]?.vtep == IPAddress("192.0.2.1") }
        XCTAssertEqual(dpB.flood[vni], [IPAddress("192.0.2.1")!])
        XCTAssertEqual(dpA.flood[vni], [IPAddress("192.0.2.2")!])
        // The VM moves to B: sequence 1, A withdraws its route and installs B's.
        b.localMACLearned(vni: vni, mac: mac, ip: IPAddress("10.9.9.9"))
        try await Lab.wait(5, "A follows the move") { dpA.macs[VNIMAC(vni, mac)]?.seq == 1 }
        try await Lab.wait(5, "B drops the remote entry") { dpB.macs[VNIMAC(vni, mac)] == nil }
        let routes = try await b.evpnRoutes(routeType: 2)
        XCTAssertTrue(routes.routes.allSatisfy { $0.local }, routes.formatted())
        // `route vni N`: the VNI's table, ours and the received routes it imports; none for a VNI A lacks.
        let inVNI = try await a.evpnRoutes(vni: vni)
        XCTAssertTrue(inVNI.routes.contains { !$0.local && $0.routeType == 2 }, inVNI.formatted())
        XCTAssertTrue(inVNI.routes.contains { $0.local && $0.routeType == 3 }, inVNI.formatted())
        let otherVNI = try await a.evpnRoutes(vni: VNI(200)!)
        XCTAssertTrue(otherVNI.routes.isEmpty, otherVNI.formatted())
        let json = try JSONEncoder().encode(try await a.summary())
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains("\"state\":\"Established\""))
        await b.stop()
        try await Lab.wait(5, "A drops B's routes after Cease") { dpA.macs.isEmpty && (dpA.flood[vni] ?? []).isEmpty }
        await a.stop()
    }

    func testGracefulRestartHelperKeepsRoutesThenFlushes() async throws {
        let lo = IPAddress("127.0.0.1")!, lo2 = IPAddress("127.0.0.2")!
        let (a, dpA) = try await makeListener(asn: 65001, listen: lo, peerAddress: lo2, peerAS: 65001)
        let port = try XCTUnwrap(a.listeningPort)
        func startB(restarting: Bool, macs: [MACAddress]) async throws -> EVPNSpeaker {
            let (b, _) = try await makeConnector(asn: 65001, routerID: "10.0.0.2", to: lo, port: port, from: lo2, peerAS: 65001) {
                $0.gracefulRestart.restartTime = 2
                $0.gracefulRestart.restarting = restarting
            }
            for m in macs { b.localMACLearned(vni: vni, mac: m) }
            return b
        }
        let m2 = MACAddress("02:00:00:00:00:bb")!
        let b1 = try await startB(restarting: false, macs: [mac, m2])
        try await Lab.wait(10, "A has B's MACs") { dpA.macs.count == 2 }
        await b1.abort() // B's control plane dies: no NOTIFICATION
        try await Lab.wait(5, "A sees the session down") { try await !established(a) }
        XCTAssertEqual(dpA.macs.count, 2, "stale routes must keep forwarding")
        let stale = try await a.summary().peers.first?.gracefulRestartStale
        XCTAssertEqual(stale, true)
        // show bgp neighbors: the drop without a NOTIFICATION, and how long the stale routes have left.
        let down = try await neighbor(a)
        XCTAssertEqual(down.lastResetDueTo, "Peer closed the session")
        XCTAssertNil(down.lastNotificationReason)
        XCTAssertLessThanOrEqual(try XCTUnwrap(down.gracefulRestartInfo.timers.restartTimerRemaining), 2)
        XCTAssertEqual(down.gracefulRestartInfo.timers.receivedRestartTimer, 2)
        // B comes back with only one MAC: after its End-of-RIB the other one is flushed.
        let b2 = try await startB(restarting: true, macs: [mac])
        try await Lab.wait(10, "stale MAC flushed after End-of-RIB") { dpA.macs.count == 1 && dpA.macs[VNIMAC(vni, mac)] != nil }
        // B dies again and stays away: everything goes after the 2 s restart time.
        await b2.abort()
        try await Lab.wait(2, "down") { try await !established(a) }
        XCTAssertEqual(dpA.macs.count, 1)
        try await Lab.wait(6, "flushed after restart time") { dpA.macs.isEmpty }
        await b1.stop(); await b2.stop(); await a.stop()
    }

    /// Both sides active and listening: the connection collision (RFC 4271 §6.8) leaves one
    /// session, and it stays up.
    func testCollisionLeavesOneSession() async throws {
        func freePort(_ host: String) throws -> Int {
            let ch = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: host, port: 0).wait()
            defer { try? ch.close().wait() }
            return ch.localAddress?.port ?? 0
        }
        let ipA = IPAddress("127.0.0.1")!, ipB = IPAddress("127.0.0.5")!
        let portA = try freePort("127.0.0.1"), portB = try freePort("127.0.0.5")
        func config(_ me: IPAddress, _ myPort: Int, _ id: String, _ other: IPAddress, _ otherPort: Int) -> EVPNConfig {
            var c = EVPNConfig(asn: 65001, routerID: IPAddress(id)!, vtep: me, listenAddress: me,
                               peers: [PeerConfig(address: other, remoteAS: 65001, port: otherPort, localAddress: me)])
            c.listenPort = myPort
            c.connectRetrySeconds = 0.2
            return c
        }
        // Both listen before either connects, so the two connections cross.
        let dpA = RecordingDataplane()
        let a = EVPNSpeaker(config: config(ipA, portA, "10.0.0.1", ipB, portB), dataplane: dpA)
        let b = EVPNSpeaker(config: config(ipB, portB, "10.0.0.2", ipA, portA), dataplane: RecordingDataplane())
        a.setLocalVNIs([vni]); b.setLocalVNIs([vni])
        try await a.startListener(); try await b.startListener()
        try await a.startPeers(); try await b.startPeers()
        try await Lab.wait(10, "established") {
            let ua = try await established(a), ub = try await established(b)
            return ua && ub
        }
        b.localMACLearned(vni: vni, mac: mac)
        try await Lab.wait(5, "route over the surviving session") { dpA.macs[VNIMAC(vni, mac)] != nil }
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let sa = try await a.summary().peers[0], sb = try await b.summary().peers[0]
        XCTAssertEqual(sa.state, .established); XCTAssertEqual(sb.state, .established)
        XCTAssertGreaterThanOrEqual(sa.upDownSeconds, 1, "session flapped: \(sa.lastError ?? "")")
        await a.stop(); await b.stop()
    }

    // MARK: scripted raw peer

    /// A blocking TCP client that speaks BGP by hand.
    final class RawPeer {
        let fd: Int32
        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var src = sockaddr_in(); src.sin_family = sa_family_t(AF_INET); src.sin_addr.s_addr = inet_addr("127.0.0.3")
            var dst = sockaddr_in(); dst.sin_family = sa_family_t(AF_INET); dst.sin_port = in_port_t(UInt16(port).bigEndian)
            dst.sin_addr.s_addr = inet_addr("127.0.0.1")
            var tv = timeval(tv_sec: 8, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let ok = withUnsafePointer(to: &src) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
                && withUnsafePointer(to: &dst) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
            if !ok { close(fd); throw NSError(domain: "raw", code: Int(errno)) }
        }
        deinit { close(fd) }
        func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        func send(_ m: BGPMessage) { send(m.encode()) }
        /// Reads messages until one matches, or nil on EOF/timeout.
        func receive(until match: (BGPMessage) -> Bool) -> BGPMessage? {
            var buf = [UInt8]()
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                while let len = try? BGPMessage.frameLength(buf), buf.count >= len {
                    let msg = try? BGPMessage.decode(Array(buf[0..<len]))
                    buf.removeFirst(len)
                    if let msg, match(msg) { return msg }
                }
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { return nil }
                buf += chunk[0..<n]
            }
        }
    }

    func rawSession(hold: UInt16 = 90, asn: UInt32 = 65003) async throws -> (EVPNSpeaker, RecordingDataplane, RawPeer) {
        let (a, dp) = try await makeListener(asn: 65001, listen: IPAddress("127.0.0.1")!, peerAddress: IPAddress("127.0.0.3")!, peerAS: 65003)
        let raw = try RawPeer(port: try XCTUnwrap(a.listeningPort))
        raw.send(.open(BGPOpen(asn: asn, holdTime: hold, routerID: 0x0A00_0003, capabilities: [.multiprotocol(.l2vpnEVPN)])))
        return (a, dp, raw)
    }

    /// A raw session past the table's End-of-RIB, ready for UPDATEs.
    func establishedRawSession() async throws -> (EVPNSpeaker, RecordingDataplane, RawPeer) {
        let (a, dp, raw) = try await rawSession()
        raw.send(.keepalive)
        XCTAssertNotNil(raw.receive { $0 == .update(.endOfRIB(.l2vpnEVPN)) }, "End-of-RIB after the table")
        return (a, dp, raw)
    }

    /// The attributes of a route the raw peer (AS 65003) announces into VNI 100; MP_REACH left to the test.
    func remoteRouteAttributes() -> PathAttributes {
        var attrs = PathAttributes()
        attrs.origin = .igp; attrs.asPath = [ASPathSegment(.sequence, [65003])]
        attrs.extendedCommunities = [.routeTarget(.as2(65001, 100)), .vxlanEncapsulation]
        return attrs
    }

    func notification(_ m: BGPMessage?) -> BGPNotification? { if case .notification(let n)? = m { return n } else { return nil } }
    func isNotification(_ m: BGPMessage) -> Bool { notification(m) != nil }

    func testWrongPeerASGetsOpenError() async throws {
        let (a, _, raw) = try await rawSession(asn: 65099)
        let n = notification(raw.receive(until: isNotification))
        XCTAssertEqual(n?.code, 2); XCTAssertEqual(n?.subcode, 2)
        await a.stop()
    }

    func testHoldTimerExpiry() async throws {
        let (a, _, raw) = try await rawSession(hold: 3)
        raw.send(.keepalive)
        let start = Date()
        let n = notification(raw.receive(until: isNotification))
        XCTAssertEqual(n?.code, 4)
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 2)
        await a.stop()
    }

    /// Every message restarts the hold timer (RFC 4271 §4.2): keepalives each second keep a
    /// 3 s session up past its first deadline; once they stop, it expires 3 s after the last.
    func testHoldTimerRestartsWithEveryMessage() async throws {
        let (a, _, raw) = try await rawSession(hold: 3)
        let start = Date()
        for _ in 0..<6 {
            raw.send(.keepalive)
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
        raw.send(.keepalive)
        let last = Date()
        let n = notification(raw.receive(until: isNotification))
        XCTAssertEqual(n?.code, 4)
        XCTAssertGreaterThan(last.timeIntervalSince(start), 5.5, "the session outlived its first deadline")
        XCTAssertGreaterThan(Date().timeIntervalSince(last), 2, "expired a hold time after the last message")
        XCTAssertLessThan(Date().timeIntervalSince(last), 4.5)
        XCTAssertTrue(raw.receive(until: { _ in true }) == nil, "closed after the NOTIFICATION")
        await a.stop()
    }

    /// The UPDATEs that arrive in one socket read share one dataplane batch (the switch hands
    /// their MACs to its tables at once), which ends when the read does.
    func testTheUpdatesOfOneReadShareOneBatch() async throws {
        let (a, dp, raw) = try await establishedRawSession()
        var attrs = remoteRouteAttributes()
        var bytes: [UInt8] = []
        let macs = (1...20).map { MACAddress(2, 0, 0, 0, 1, UInt8($0)) }
        for m in macs {
            attrs.mpReach = MPReachNLRI(nextHop: IPAddress("192.0.2.3")!, routes: [.macIP(EVPNMACIPRoute(rd: .as2(65003, 1), mac: m, label1: 100))])
            bytes += BGPMessage.update(BGPUpdate(attributes: attrs)).encode()
        }
        let before = dp.batches
        raw.send(bytes)
        try await Lab.wait(5, "all 20 installed") { macs.allSatisfy { dp.macs[VNIMAC(vni, $0)] != nil } }
        // One write of ~2 KB is one read, or two when it lands in pieces: never one batch per UPDATE.
        XCTAssertLessThanOrEqual(dp.batches - before, 2, "batches for 20 UPDATEs of one write")
        XCTAssertGreaterThanOrEqual(dp.largestBatch, 10, "MACs in the largest batch")
        await a.stop()
    }

    func testMalformedUpdatesOnALiveSession() async throws {
        let (a, dp, raw) = try await establishedRawSession()
        var attrs = remoteRouteAttributes()
        attrs.mpReach = MPReachNLRI(nextHop: IPAddress("192.0.2.3")!, routes: [.macIP(EVPNMACIPRoute(rd: .as2(65003, 1), mac: mac, label1: 100))])
        raw.send(.update(BGPUpdate(attributes: attrs)))
        try await Lab.wait(5, "installed") { dp.macs[VNIMAC(vni, mac)] != nil }
        // ORIGIN 7: treat-as-withdraw, the session stays up.
        var bad = BGPMessage.update(BGPUpdate(attributes: attrs)).encode()
        let originAt = try XCTUnwrap((0..<bad.count - 3).first { bad[$0] == 0x40 && bad[$0 + 1] == 1 && bad[$0 + 2] == 1 })
        bad[originAt + 3] = 7
        raw.send(bad)
        try await Lab.wait(5, "treat-as-withdraw removed the MAC") { dp.macs[VNIMAC(vni, mac)] == nil }
        let up = try await established(a)
        XCTAssertTrue(up)
        // A repeated MP_REACH_NLRI: UPDATE Message Error / Malformed Attribute List, session reset.
        var twice = BGPMessage.update(BGPUpdate(attributes: attrs)).encode()
        let mpLen = Int(twice[23 + 2]) << 8 | Int(twice[23 + 3])
        twice.insert(contentsOf: twice[23..<(23 + 4 + mpLen)], at: 23)
        let total = twice.count, attrLen = Int(twice[21]) << 8 | Int(twice[22]) + 4 + mpLen
        twice[16] = UInt8(total >> 8); twice[17] = UInt8(total & 0xFF)
        twice[21] = UInt8(attrLen >> 8); twice[22] = UInt8(attrLen & 0xFF)
        raw.send(twice)
        let n = notification(raw.receive(until: isNotification))
        XCTAssertEqual(n?.code, 3); XCTAssertEqual(n?.subcode, 1)
        await a.stop()
    }
}
