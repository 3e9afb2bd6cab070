import Foundation
import VXConfig
import VXEVPN
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// Issue 9: live migration, the daily operation of a hypervisor cluster. A real qemu guest is
/// migrated (`migrate tcp:…` over QMP) from one hypervisor to another while a peer pings it
/// every 10 ms and holds a TCP connection to it; once with two vxsw hypervisors, once with two
/// Linux bridge + kernel vxlan + FRR (`advertise-all-vni`) hypervisors as the baseline, in one
/// fabric through one FRR route reflector and with the same peer hypervisor.
///
/// ```
///   hv1: vxsw  ══ mg0 (migration) ══  hv2: vxsw          VNI 1000: guest gv 198.19.10.50 moves hv1 → hv2 → hv1
///   hv4: FRR + br2000/vx2000 ══ mg0 ══ hv5: FRR + br...  VNI 2000: guest gb 198.19.20.50 moves hv4 → hv5
///   hv3: FRR + kernel bridge: peers vm31 (VNI 1000, 198.19.10.31) and vm32 (VNI 2000, 198.19.20.32)
///   rr: FRR route reflector; all on the underlay 198.18.0.0/24 (hv N = 198.18.0.N)
/// ```
/// The vxsw guest then moves back, so the first host, which lost the MAC to a higher sequence,
/// has to learn it anew and outbid that sequence. The source qemu stays paused (`postmigrate`) until the measurement and the EVPN checks are
/// done, so the source stops forwarding to its tap because of the target's MAC mobility
/// sequence, not because the tap went away. Then the source qemu is stopped (its tap goes).
final class LiveMigrationTests: XCTestCase {
    static let pingInterval = 0.01
    /// vxsw's target from issue 9.
    static let maxLossSeconds = 1.0
    /// vxsw may lose at most this much more than the bridge in the same run. Here the bridge
    /// loses ~0.1 s and the longest gap between replies moves by ~0.1 s from run to run; on this
    /// 2-vCPU host shared with builds a TCG guest or a daemon can miss its slice for a few hundred
    /// ms more. 0.5 s leaves room for that and still fails a switch that converges by a timer
    /// (BGP, FDB aging: seconds) instead of by the guest's announcement.
    static let toleranceOverBridge = 0.5

    override func setUpWithError() throws {
        try RealVMRig.skipUnlessAvailable()
        try requireEVPNFabric()
    }

    func testGuestMigratesBetweenVxswHostsKeepingItsConnections() throws {
        let f = try makeFabric("lm")
        defer { f.close() }
        var qemus: [QemuGuest] = []
        defer { qemus.forEach { $0.stop() } }

        let rr = try f.addNode("rr", host: 254, kind: .routeReflector)
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1000])
        let hv2 = try f.addNode("hv2", host: 2, kind: .vxsw, vnis: [1000])
        let hv3 = try f.addNode("hv3", host: 3, kind: .frr, vnis: [1000, 2000])
        let hv4 = try f.addNode("hv4", host: 4, kind: .frr, vnis: [2000])
        let hv5 = try f.addNode("hv5", host: 5, kind: .frr, vnis: [2000])
        let vm31 = try f.addVM("vm31", on: "hv3", vni: 1000, address: "198.19.10.31")
        let vm32 = try f.addVM("vm32", on: "hv3", vni: 2000, address: "198.19.20.32")
        let vxswPair = Pair(name: "vxsw", source: hv1, target: hv2, vni: 1000, link: "198.18.91", peer: vm31,
                            mac: "52:54:00:79:00:01", address: "198.19.10.50")
        let bridgePair = Pair(name: "Linux bridge", source: hv4, target: hv5, vni: 2000, link: "198.18.92", peer: vm32,
                              mac: "52:54:00:79:00:02", address: "198.19.20.50")
        for pair in [vxswPair, bridgePair] { try pair.addMigrationLink() }

        let clients = [hv1, hv2, hv3, hv4, hv5]
        try f.startFRR("rr", bgpdConfig: f.frrRouteReflectorConfig(rr, clients: clients.map(\.address)))
        for hv in [hv3, hv4, hv5] { try f.startFRR(hv.name, bgpdConfig: f.frrLeafConfig(hv, peers: [rr.address])) }
        for hv in [hv1, hv2] { try f.startVxsw(hv.name, peers: [rr.address]) }

        // Both guests boot at once (TCG: tens of seconds on this shared host).
        var running: [String: QemuGuest] = [:]
        for pair in [vxswPair, bridgePair] {
            let guest = try QemuGuest(name: "\(labTag)-\(pair.source.name)-g", namespace: pair.source.namespace, tap: "tapg",
                                      mac: pair.mac, ipv4CIDR: pair.address + "/24")
            qemus.append(guest)
            try guest.waitForTap()
            try f.attachTap(guest.tap, on: pair.source, vni: pair.vni)
            running[pair.name] = guest
        }
        guard f.expect(30, "every hypervisor's session to the RR is Established", { f.routeReflectorSessionsUp(rr, clients) }) else { return }
        for guest in running.values { try guest.waitUntilBooted(timeout: 180) }

        // The bridge's move, vxsw's, and vxsw's back again (the source learns the guest anew
        // and must outbid the sequence it lost to).
        var outcomes: [(Pair, Outcome)] = []
        for pair in [bridgePair, vxswPair, vxswPair.reversed()] {
            let source = running[pair.name]!
            let (outcome, target) = try migrate(source, pair, in: f) { qemus.append($0) }
            running[pair.name] = target
            outcomes.append((pair, outcome))
            print("live migration, \(pair.label): \(outcome.summary)")
            if pair.source.kind == .vxsw { checkVxswEVPN(f, pair, before: outcome.sourceSequence) }
            // As the cluster does once the target runs: the source qemu ends, its tap goes.
            source.stop()
            XCTAssertEqual(try target.runState(), "running", "\(pair.label): the guest runs on \(pair.target.name)")
            let (ok, summary) = try f.ping(pair.peer.namespace, pair.address, count: 3)
            XCTAssertTrue(ok, "\(pair.label): the guest answers after the source qemu is gone: \(summary)\n\(f.logs())")
        }

        guard let bridge = outcomes.first(where: { $0.0.source.kind == .frr })?.1 else { return }
        let report = Self.report(outcomes, bridge: bridge)
        print(report)
        if let dir = ProcessInfo.processInfo.environment["VXSW_RESULTS_DIR"] {
            try report.write(toFile: dir + "/migration-latest.md", atomically: true, encoding: .utf8)
        }
        for (pair, vxsw) in outcomes where pair.source.kind == .vxsw {
            XCTAssertLessThanOrEqual(vxsw.lossSeconds, Self.maxLossSeconds, "\(pair.label): ping loss across the switchover, target ≤ 1 s")
            XCTAssertLessThanOrEqual(vxsw.lossSeconds, bridge.lossSeconds + Self.toleranceOverBridge,
                                     "\(pair.label) loses no more than the Linux bridge + FRR (+\(Self.toleranceOverBridge) s)")
        }
        XCTAssertEqual(f.stopVxsw("hv1"), 0, "vxsw on hv1 exit status")
        XCTAssertEqual(f.stopVxsw("hv2"), 0, "vxsw on hv2 exit status")
    }

    // MARK: one migration

    /// Two hypervisors of one kind, the VNI and the guest that moves between them, and the
    /// peer that watches it.
    struct Pair {
        let name: String
        let source: EVPNFabric.Node
        let target: EVPNFabric.Node
        let vni: UInt32
        /// The /24 of the migration link `mg0` between the two (source .1, target .2).
        let link: String
        let peer: EVPNFabric.VM
        let mac: String
        let address: String
        /// The way back: the target becomes the source.
        var back = false
        var listen: String { "tcp:\(link).\(back ? 1 : 2):4444" }
        var label: String { "\(name) \(source.name) → \(target.name)" }

        func reversed() -> Pair {
            Pair(name: name, source: target, target: source, vni: vni, link: link, peer: peer, mac: mac, address: address, back: !back)
        }

        /// The migration stream's own link, as clusters keep it off the VM traffic's path.
        func addMigrationLink() throws {
            try addVeth("mg0", in: source.namespace, "mg0", in: target.namespace)
            try source.namespace.exec(["ip", "addr", "add", "\(link).1/24", "dev", "mg0"])
            try target.namespace.exec(["ip", "addr", "add", "\(link).2/24", "dev", "mg0"])
        }
    }

    struct Outcome {
        let migration: QemuGuest.Migration
        let ping: PingLoss
        /// The source's MAC mobility sequence for the guest before the move (vxsw only).
        let sourceSequence: UInt32
        var lossSeconds: Double { ping.lossSeconds }
        var summary: String {
            String(format: "%d of %d pings lost = %.2f s of loss (longest gap between replies %.2f s); "
                   + "qemu: migration %d ms, downtime %d ms, %.1f MB of RAM sent",
                   ping.lost, ping.sent, ping.lossSeconds, ping.longestGap, migration.totalMilliseconds,
                   migration.downtimeMilliseconds, Double(migration.transferredBytes) / 1e6)
        }
    }

    /// Moves `source` (running, reachable from the peer) to a target qemu on the pair's target
    /// hypervisor while the peer pings it every 10 ms and holds a TCP connection to it.
    /// Returns the measurement and the target qemu (which `adopt` takes for cleanup at once).
    private func migrate(_ source: QemuGuest, _ pair: Pair, in f: EVPNFabric,
                         adopt: (QemuGuest) -> Void) throws -> (Outcome, QemuGuest) {
        let peer = pair.peer
        XCTAssertTrue(waitUntil(timeout: 30) { (try? f.ping(peer.namespace, pair.address, count: 1).0) == true },
                      "\(pair.name): the peer reaches the guest before the migration\n\(f.logs())")
        var sourceSequence: UInt32 = 0
        if pair.source.kind == .vxsw {
            f.expect(10, "\(pair.name): \(pair.source.name) advertises the guest as local") { evpnMAC(f, pair.source.name, pair)?.type == "local" }
            sourceSequence = evpnMAC(f, pair.source.name, pair)?.localSequence ?? 0
        }
        let session = try TCPEchoSession(from: peer, to: pair.address, guest: source,
                                         directory: f.workDir + "/tcp-\(pair.source.name)-\(pair.target.name)")
        defer { session.stop() }
        try session.exchangeBefore()

        let target = try source.migrationTarget(name: "\(labTag)-\(pair.target.name)-g\(pair.back ? "b" : "")", namespace: pair.target.namespace,
                                                listen: pair.listen)
        adopt(target)
        try f.attachTap(target.tap, on: pair.target, vni: pair.vni) // the target hypervisor's hook, before the move

        let pinger = try Pinger(from: peer.namespace, to: pair.address, interval: Self.pingInterval,
                                log: f.workDir + "/ping-\(pair.source.name)-\(pair.target.name).log")
        defer { pinger.stop() }
        XCTAssertTrue(waitUntil(timeout: 5) { pinger.replies().count >= 50 }, "\(pair.name): 10 ms pings answered before the move")
        let migration = try source.migrate(to: pair.listen)
        let completed = Date()
        XCTAssertTrue(waitUntil(timeout: 10) { (try? target.runState()) == "running" }, "\(pair.name): the target runs the guest")
        // Measure until replies have flowed again for 2 s after completion (or give up after 20 s).
        let resumed = waitUntil(timeout: 20) {
            pinger.replies().last.map { $0.time > completed.timeIntervalSince1970 + 2 } ?? false
        }
        let ping = try pinger.finish()
        XCTAssertTrue(resumed, "\(pair.name): the guest answers pings again after the migration: \(ping.summaryLine)\n\(f.logs())")

        try session.exchangeAfter()
        try target.assertPings(peer.address)
        return (Outcome(migration: migration, ping: ping, sourceSequence: sourceSequence), target)
    }

    /// vxsw: the target learned the guest locally and advertises it with a higher MAC mobility
    /// sequence; the source (its qemu still paused on its tap) withdrew its route and forwards
    /// to the target; the FRR peer and the route reflector agree.
    private func checkVxswEVPN(_ f: EVPNFabric, _ pair: Pair, before: UInt32) {
        let source = pair.source.name, target = pair.target.name, mac = pair.mac
        f.expect(10, "\(target) holds the guest's MAC as local on tapg") {
            ((try? f.macs(target, vni: pair.vni)) ?? []).contains { $0.mac == mac && $0.port == "tapg" }
        }
        f.expect(10, "\(target) advertises the guest with sequence > \(before): \(String(describing: evpnMAC(f, target, pair)))") {
            guard let e = evpnMAC(f, target, pair) else { return false }
            return e.type == "local" && e.localSequence > before
        }
        let sequence = evpnMAC(f, target, pair)?.localSequence ?? 0
        f.expect(10, "\(source) no longer holds the guest as local but behind \(pair.target.address): \((try? f.macs(source, vni: pair.vni)) ?? [])") {
            ((try? f.macs(source, vni: pair.vni)) ?? []).contains { $0.mac == mac && $0.type == "evpn" && $0.vtep == pair.target.address }
        }
        f.expect(10, "\(source) withdrew its type-2 routes for the guest") {
            !routes(f, source, mac).contains { $0.local }
        }
        f.expect(10, "\(target) has no route for the guest from \(pair.source.address) any more") {
            let r = routes(f, target, mac)
            return !r.isEmpty && !r.contains { $0.nextHop == pair.source.address }
        }
        f.expect(10, "hv3 (FRR) has the guest remote at \(pair.target.address) with sequence \(sequence): \(String(describing: f.frrMAC("hv3", vni: pair.vni, mac: mac)))") {
            guard let e = f.frrMAC("hv3", vni: pair.vni, mac: mac) else { return false }
            return e["remoteVtep"] as? String == pair.target.address && e["remoteSequence"] as? Int == Int(sequence)
        }
    }

    // MARK: the report

    static func report(_ outcomes: [(Pair, Outcome)], bridge: Outcome) -> String {
        let sh = { (c: String) in ((try? VXLabKit.run(["sh", "-c", c], check: false).output) ?? "?").trimmingCharacters(in: .whitespacesAndNewlines) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let commit = sh("git -C '\(root)' rev-parse --short HEAD") + (sh("git -C '\(root)' status --porcelain -uno").isEmpty ? "" : " (with uncommitted changes)")
        let date = ISO8601DateFormatter().string(from: Date())
        let met = outcomes.filter { $0.0.source.kind == .vxsw }.allSatisfy {
            $0.1.lossSeconds <= maxLossSeconds && $0.1.lossSeconds <= bridge.lossSeconds + toleranceOverBridge
        }
        func row(_ name: String, _ o: Outcome) -> String {
            String(format: "| %@ | %.2f s | %d of %d | %.2f s | %d ms | %d ms | %.1f MB |", name, o.lossSeconds, o.ping.lost, o.ping.sent,
                   o.ping.longestGap, o.migration.totalMilliseconds, o.migration.downtimeMilliseconds, Double(o.migration.transferredBytes) / 1e6)
        }
        return """
            # Live migration: ping loss across the switchover (`LiveMigrationTests`)

            - command: `VXSW_RESULTS_DIR=Benchmarks/results swift test --skip-build --filter LiveMigrationTests` (debug build; the test is part of `tools/test`, which prints the figures without writing this file)
            - date: \(date)
            - commit: \(commit)
            - machine: \(sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2")), \(sh("nproc")) vCPUs (nproc), kernel \(sh("uname -r")), load at the end \(sh("cut -d' ' -f1-3 /proc/loadavg"))
            - guest: qemu \(sh("qemu-system-x86_64 --version | head -1 | cut -d' ' -f4")) under TCG (no KVM on this machine kind), 256 MB, 1 vCPU, virtio-net on a tap (vhost off), Debian kernel + busybox initramfs (no disk)
            - migration: QMP `migrate tcp:…` over a veth of its own between the two hypervisor namespaces, bandwidth uncapped, qemu's default downtime limit (300 ms); the target qemu (`-incoming tcp:…`) is started and its tap attached before the move; the source qemu stays paused until the checks are done
            - fabric: EVPN through an FRR 8.4 route reflector; the peer is a veth VM on an FRR + Linux bridge hypervisor (hv3), the same for both contenders
            - vxsw: hv1 → hv2 and back, each `vxsw run` (VNI 1000, taps added with `vxsw port add`)
            - Linux bridge: hv4 → hv5, each a Linux bridge + kernel vxlan (nolearning) + FRR zebra/bgpd with `advertise-all-vni` (VNI 2000)
            - method: the peer pings the guest every \(Int(pingInterval * 1000)) ms (`ping -i \(pingInterval) -D`) from before `migrate` until 2 s after replies resumed; loss = replies missing between the first and the last one × the interval

            | hypervisors | ping loss | pings lost | longest gap | qemu migration | qemu downtime | RAM sent |
            |---|---:|---:|---:|---:|---:|---:|
            \(outcomes.map { row($0.0.source.kind == .vxsw ? $0.0.label : "Linux bridge + FRR \($0.0.source.name) → \($0.0.target.name)", $0.1) }.joined(separator: "\n"))

            Target (issue 9): vxsw ≤ \(maxLossSeconds) s of loss, and no more than the Linux bridge + \(toleranceOverBridge) s: \
            \(met ? "**met**" : "**not met**").

            """
    }
}

// MARK: helpers

/// The node's vxsw EVPN entry for the pair's guest (`show evpn mac vni N`).
private func evpnMAC(_ f: EVPNFabric, _ node: String, _ pair: LiveMigrationTests.Pair) -> (type: String, localSequence: UInt32)? {
    guard let e = f.vxswEVPNMAC(node, vni: pair.vni, mac: pair.mac) else { return nil }
    return (e["type"]?.stringValue ?? "", UInt32(e["localSequence"]?.intValue ?? 0))
}

/// The node's vxsw BGP table rows (its own and received) for type-2 routes of `mac`.
private func routes(_ f: EVPNFabric, _ node: String, _ mac: String) -> [EVPNRouteEntry] {
    f.vxswRoutes(node, ["type", "macip"]).filter { $0.mac?.lowercased() == mac.lowercased() }
}

/// `ping -i INTERVAL -D` from a namespace, running until `finish()`.
final class Pinger {
    let log: String
    let interval: Double
    private let process: ChildProcess

    init(from ns: NetworkNamespace, to address: String, interval: Double, log: String) throws {
        self.log = log
        self.interval = interval
        // Line-buffered, so the log shows each reply as it comes (stdbuf and ip netns exec exec ping: SIGINT reaches it).
        process = try ns.spawn(["stdbuf", "-oL", "ping", "-n", "-D", "-i", String(interval), address], logPath: log)
    }

    /// (icmp_seq, arrival time since 1970) of each reply so far.
    func replies() -> [(seq: Int, time: Double)] {
        process.log.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]"), let time = Double(line[line.index(after: line.startIndex)..<close]),
                  let s = line.range(of: "icmp_seq=") else { return nil }
            return Int(line[s.upperBound...].prefix { $0.isNumber }).map { ($0, time) }
        }
    }

    /// Ends ping (SIGINT, so it prints its summary) and counts the replies missing between the
    /// first and the last one that came.
    func finish() throws -> PingLoss {
        kill(process.pid, SIGINT)
        _ = waitUntil(timeout: 3) { !process.isRunning }
        process.stop()
        let r = replies()
        guard let first = r.first, let last = r.last else { throw LabKitError("ping: no replies at all:\n\(process.log.suffix(1000))") }
        let seqs = Set(r.map(\.seq))
        let sent = last.seq - first.seq + 1
        let gaps = zip(r, r.dropFirst()).map { $1.time - $0.time }
        let summary = process.log.split(separator: "\n").first { $0.contains("packets transmitted") }.map(String.init) ?? ""
        return PingLoss(sent: sent, lost: sent - seqs.filter { $0 >= first.seq && $0 <= last.seq }.count, interval: interval,
                        longestGap: gaps.max() ?? 0, summaryLine: summary)
    }

    func stop() { process.stop() }
}

struct PingLoss {
    /// Pings from the first reply to the last one.
    let sent: Int
    let lost: Int
    let interval: Double
    /// The longest time between two replies (the outage as the peer saw it).
    let longestGap: Double
    let summaryLine: String
    var lossSeconds: Double { Double(lost) * interval }
}

/// A TCP connection from a fabric VM to an echo listener in a guest (busybox `nc -e cat`),
/// opened before the migration and used again after it: bash's /dev/tcp in the VM's
/// namespace sends a line, reads the echo, waits for `go` and does it again.
final class TCPEchoSession {
    private let process: ChildProcess
    private let go: String
    let directory: String

    init(from vm: EVPNFabric.VM, to address: String, guest: QemuGuest, port: Int = 7000, directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        go = directory + "/go"
        try? FileManager.default.removeItem(atPath: go)
        try guest.run("(nc -l -p \(port) -e /bin/cat >/dev/null 2>&1 &)")
        let script = """
            n=0; until exec 3<>/dev/tcp/\(address)/\(port); do n=$((n+1)); [ $n -ge 50 ] && exit 2; sleep 0.2; done 2>/dev/null
            echo before-migration >&3; IFS= read -r -t 10 a <&3 || exit 3; echo "echo: $a"
            while [ ! -e '\(go)' ]; do sleep 0.05; done
            echo after-migration >&3; IFS= read -r -t 30 b <&3 || exit 4; echo "echo: $b"
            """
        process = try vm.namespace.spawn(["bash", "-c", script], logPath: directory + "/session.log")
    }

    /// The first exchange (the connection is open from here on).
    func exchangeBefore(file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(waitUntil(timeout: 20) { process.log.contains("echo: before-migration") },
                      "TCP session to the guest opens and echoes before the migration: \(process.log)", file: file, line: line)
    }

    /// The second exchange, on the same connection.
    func exchangeAfter(file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: go, contents: nil), "create \(go)", file: file, line: line)
        XCTAssertTrue(waitUntil(timeout: 40) { !process.isRunning }, "TCP session ends", file: file, line: line)
        XCTAssertEqual(process.exitStatus, 0, "the TCP connection opened before the migration works after it: \(process.log)",
                       file: file, line: line)
        XCTAssertTrue(process.log.contains("echo: after-migration"), process.log, file: file, line: line)
    }

    func stop() { process.stop(grace: 1) }
}
