import Foundation
import VXConfig
import VXControl
import VXCore
import VXLabKit

/// Issue 12's rig: N type-2 routes over V VNIs fed through a real iBGP session by a `BGPFeeder`
/// into vxsw (its FDB) and, in the same run, into FRR (bgpd → zebra → the kernel bridge FDB of
/// one br/vx pair per VNI). Per contender, one after the other while the other idles:
/// announce (first UPDATE → N entries), churn (every MAC announced from another VTEP, its own
/// next hop and RD, with MAC mobility sequence 1, then a marker route; first UPDATE → marker installed; then no entry
/// may still point to the old next hop), withdraw-all (first UPDATE → no type-2 entry left).
///
/// ```
///  hv1: vxsw 198.18.0.1  <── iBGP ──  feed: BGPFeeder 198.18.0.200  ── iBGP ──>  hv2: FRR 198.18.0.2
///  V VNIs, FDB max-entries ≥ N          (next hop .200, churn .201)          br/vx per VNI (ip -batch)
/// ```
public final class EVPNScaleRig {
    public enum Contender: String, Codable, Sendable, CaseIterable { case vxsw, frr }

    public struct Settings: Sendable {
        public var routes: Int
        public var vnis: Int
        public var contenders: [Contender]
        /// Per phase: a contender that is not there after this long is recorded as not finished.
        public var timeout: Double
        public init(routes: Int, vnis: Int, contenders: [Contender] = Contender.allCases, timeout: Double = 300) {
            self.routes = routes; self.vnis = vnis; self.contenders = contenders; self.timeout = timeout
        }
    }

    /// One phase: first UPDATE → done, or how far it got.
    public struct Phase: Codable, Sendable {
        public var seconds: Double?
        public var reached: Int
        public var note: String?
    }

    public struct Result: Codable, Sendable {
        public var contender: Contender
        public var routes: Int
        public var vnis: Int
        public var announce: Phase
        /// Resident memory (vxsw; FRR: bgpd + zebra) before the feed and once all N are in, KiB.
        public var rssBeforeKiB: Int
        public var rssAfterKiB: Int
        public var bytesPerRoute: Double?
        public var churn: Phase?
        /// After the churn: entries still pointing to the first next hop / pointing to the new one.
        public var churnStale: Int?
        public var churnMoved: Int?
        public var churnMovesPerSecond: Double?
        public var withdraw: Phase?
        /// Where the observer's count (FRR: the notifications) and a dump of the table, taken
        /// after each phase's clock stopped, disagreed.
        public var observerMismatch: String?
        /// Phases that started before the machine was quiet (`waitUntilQuiet` gave up), and how
        /// long the waits for quiet before the phases took, seconds.
        public var unsettledPhases: [String]?
        public var settleSeconds: [Double]?
        /// Whether the result is complete and correct: all N installed, the churn left no stale
        /// entry, the withdraw-all left none, the observer agreed with the table.
        public var correct: Bool {
            announce.seconds != nil && churn?.seconds != nil && churnStale == 0 && churnMoved == routes && withdraw?.seconds != nil
                && observerMismatch == nil
        }
    }

    public static let feederAddress = "198.18.0.200"
    public static let churnNextHop = "198.18.0.201"

    let settings: Settings
    let binary: String
    let log: (String) -> Void

    public init(_ settings: Settings, binary: String, log: @escaping (String) -> Void = { _ in }) {
        self.settings = settings; self.binary = binary; self.log = log
    }

    /// One run on a fresh fabric, removed again before it returns.
    public func run() throws -> [Result] {
        let workDir = NSTemporaryDirectory() + "vxsw-evpn-scale-\(labTag)"
        try? FileManager.default.removeItem(atPath: workDir)
        let fabric = try EVPNFabric(prefix: "vxs\(labTag)", workDir: workDir, binary: binary, log: log)
        var feeder: BGPFeeder?
        defer {
            feeder?.stop()
            fabric.teardown()
            try? FileManager.default.removeItem(atPath: workDir)
        }
        // Ctrl-C / SIGTERM: the same clean-up before exiting.
        final class Owned: @unchecked Sendable { let fabric: EVPNFabric; init(_ f: EVPNFabric) { fabric = f } }
        let owned = Owned(fabric)
        let signals = onTerminationSignal {
            print("\ninterrupted: stopping vxsw and FRR, removing the namespaces")
            owned.fabric.teardown()
            try? FileManager.default.removeItem(atPath: workDir)
            exit(130)
        }
        defer { signals.forEach { $0.cancel() } }
        let vnis = (0..<settings.vnis).map { UInt32(1000 + $0) }
        let feed = try fabric.addNode("feed", host: 200, kind: .router)
        try feed.namespace.exec(["ip", "addr", "add", "\(Self.churnNextHop)/24", "dev", "ul0"])
        try feed.namespace.exec(["ip", "link", "set", "ul0", "up"])
        feeder = try BGPFeeder(namespace: feed.namespace, address: feed.address, asn: UInt32(EVPNFabric.asn))
        let routeFeed = EVPNRouteFeed(routes: settings.routes, vniCount: settings.vnis, asn: UInt32(EVPNFabric.asn))
        var peers: [(Contender, EVPNFabric.Node)] = []
        for c in settings.contenders {
            switch c {
            case .vxsw:
                let hv1 = try fabric.addNode("hv1", host: 1, kind: .vxsw, vnis: vnis)
                // Room for N remote MACs: the table, and no per-VNI limit in the way.
                var capacity = 131_072
                while capacity < settings.routes + settings.routes / 4 + 1024 { capacity *= 2 }
                try fabric.startVxsw("hv1", peers: [feed.address],
                                     fdbExtra: "  max-entries: \(capacity)\n  vni-mac-limit: off\n  port-mac-limit: off")
                peers.append((c, hv1))
            case .frr:
                let hv2 = try fabric.addNode("hv2", host: 2, kind: .frr, vnis: vnis)
                try fabric.startFRR("hv2", bgpdConfig: fabric.frrLeafConfig(hv2, peers: [feed.address]))
                peers.append((c, hv2))
            }
        }
        guard waitUntil(timeout: 90, { peers.allSatisfy { feeder!.isEstablished($0.1.address) } }) else {
            throw LabError("BGP sessions to the feeder did not come up: \(peers.map { "\($0.1.name) \(feeder!.isEstablished($0.1.address))" })\n\(fabric.logs())")
        }
        // Encoded once, before any clock runs.
        let nh1 = IPAddress(Self.feederAddress)!, nh2 = IPAddress(Self.churnNextHop)!
        let announce = routeFeed.announce(nextHop: nh1)
        let churn = routeFeed.announce(nextHop: nh2, sequence: 1, withIMET: false) + [routeFeed.marker(nextHop: nh2, sequence: 1)]
        let withdraw = routeFeed.withdrawAll(vteps: [nh1, nh2])
        log("feed: \(announce.count) UPDATEs to announce, \(churn.count) to churn, \(withdraw.count) to withdraw")

        var results: [Result] = []
        for (c, node) in peers {
            let counter = try Counter(contender: c, node: node)
            defer { counter.stop() }
            var settle: [Double] = [], unsettled: [String] = []
            // Each phase starts on a quiet machine: what came before (the other contender's
            // thousands of devices and its daemons reading them, the previous phase's work
            // left over) is not counted against this one. The contender's own background work
            // (vxsw folds the fast path's last-seen map, ~40 ms a second at 100k) is not waited
            // for: it goes on during the phase too.
            func settled(_ name: String) {
                let q = waitUntilQuiet(excluding: counter.pids)
                settle.append((q.seconds * 10).rounded() / 10)
                if !q.quiet { unsettled.append(name) }
                let waited = String(format: "%.1f", q.seconds), own = String(format: "%.0f", q.excludedPercent)
                log("\(c.rawValue): \(q.quiet ? "quiet" : "still busy") after \(waited) s (\(c.rawValue) itself \(own)% of the machine meanwhile), \(name) starts")
            }
            settled("announce")
            let rss0 = counter.rssKiB()
            let a = phase(feeder!, node, announce, target: settings.routes, counter)
            let rss1 = counter.rssKiB()
            var r = Result(contender: c, routes: settings.routes, vnis: settings.vnis, announce: a, rssBeforeKiB: rss0, rssAfterKiB: rss1,
                           bytesPerRoute: a.seconds == nil ? nil : Double((rss1 - rss0) * 1024) / Double(settings.routes))
            log("\(c.rawValue): announce \(a)")
            r.observerMismatch = counter.crossCheck("announce")
            if a.seconds != nil {
                settled("churn")
                let ch = phase(feeder!, node, churn, target: settings.routes + 1, counter)
                r.churn = ch
                if ch.seconds != nil {
                    // Settled: nothing may still point to the first next hop.
                    _ = waitUntil(timeout: settings.timeout) { counter.entries(to: Self.churnNextHop) ?? 0 >= settings.routes + 1 }
                    r.churnMoved = counter.entries(to: Self.churnNextHop).map { $0 - 1 }
                    r.churnStale = counter.entries(to: Self.feederAddress)
                    r.churnMovesPerSecond = ch.seconds.map { Double(settings.routes) / $0 }
                }
                log("\(c.rawValue): churn \(ch), moved \(r.churnMoved ?? -1), stale \(r.churnStale ?? -1)")
                r.observerMismatch = r.observerMismatch ?? counter.crossCheck("churn")
            }
            if a.seconds != nil {
                settled("withdraw")
                let w = phase(feeder!, node, withdraw, target: 0, counter)
                r.withdraw = w
                log("\(c.rawValue): withdraw \(w)")
                r.observerMismatch = r.observerMismatch ?? counter.crossCheck("withdraw")
            }
            r.settleSeconds = settle
            r.unsettledPhases = unsettled.isEmpty ? nil : unsettled
            results.append(r)
        }
        return results
    }

    /// Sends `messages` (on a thread of its own: TCP pushes back while the peer works) and reads
    /// `count` until it equals `target`; t0 = just before the first UPDATE goes out, done = when
    /// the count the contender reported was taken (`Counter.Reading.at`).
    func phase(_ feeder: BGPFeeder, _ node: EVPNFabric.Node, _ messages: [[UInt8]], target: Int, _ counter: Counter) -> Phase {
        final class Outcome: @unchecked Sendable { var error: Error? }
        let done = DispatchSemaphore(value: 0), outcome = Outcome(), peer = node.address
        let t0 = Date()
        Thread.detachNewThread {
            do { try feeder.send(messages, to: peer) } catch { outcome.error = error }
            done.signal()
        }
        var reached = -1, lastChange = Date()
        var seconds: Double?
        let deadline = t0.addingTimeInterval(settings.timeout)
        while Date() < deadline {
            if let c = counter.count() {
                if c.entries != reached { reached = c.entries; lastChange = Date() }
                if c.entries == target { seconds = c.at.timeIntervalSince(t0); break }
            }
            // No progress for 60 s: it will not get there.
            if Date().timeIntervalSince(lastChange) > 60 { break }
            usleep(Counter.pollMicroseconds)
        }
        let sent = done.wait(timeout: .now() + 30) == .success
        var note: String?
        if let e = outcome.error { note = "feeder: \(e)" } else if !sent { note = "feeder still sending" }
        if seconds == nil, let gone = exitedDaemons(node) { note = [note, gone].compactMap { $0 }.joined(separator: "; ") }
        if seconds == nil { note = [note, "did not finish in \(Int(Date().timeIntervalSince(t0))) s: reached \(reached) of \(target)"].compactMap { $0 }.joined(separator: "; ") }
        return Phase(seconds: seconds, reached: reached, note: note)
    }

    /// Which of the node's daemons (vxsw; FRR's zebra, bgpd) are no longer running, for a phase that did not finish.
    func exitedDaemons(_ node: EVPNFabric.Node) -> String? {
        var gone: [String] = []
        if node.kind == .vxsw, let v = node.vxsw, !v.isRunning { gone.append("vxsw") }
        if node.kind == .frr {
            for d in ["zebra", "bgpd"] {
                guard let text = try? String(contentsOfFile: node.directory + "/frr/\(d).pid", encoding: .utf8),
                      let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
                if kill(pid, 0) != 0 { gone.append(d) }
            }
        }
        return gone.isEmpty ? nil : gone.joined(separator: " and ") + " had exited"
    }

    /// How a contender's forwarding table is read, by observers that take next to nothing from
    /// it (a 2-vCPU VM has no core to spare): vxsw's count from its control socket, asked from
    /// this process (a `vxsw show` process per read cost ~30 ms of CPU each); the kernel FDB
    /// that FRR fills from its neighbour notifications (`KernelFDBWatch`: a `bridge fdb show`
    /// dump of 100k entries on one vxlan device took over a second of kernel time), a dump only if the watch lost
    /// notifications.
    final class Counter {
        let contender: Contender
        let node: EVPNFabric.Node
        let watch: KernelFDBWatch?
        /// Between reads. vxsw's count (`show mac --total`) is the size of the table owner's
        /// FDB, read under its lock without a scan, plus a small JSON answer: every 5 ms, as
        /// the watch, a counter in memory that says when it last changed. (`show mac --count`,
        /// polled before, scans the table twice under the owner's lock, ~2 ms at 100k entries,
        /// and held up the very installs it counted.)
        static let pollMicroseconds: UInt32 = 5_000

        init(contender: Contender, node: EVPNFabric.Node) throws {
            self.contender = contender; self.node = node
            watch = contender == .frr ? try KernelFDBWatch(in: node.namespace) : nil
        }

        func stop() { watch?.stop() }

        struct Reading { var entries: Int; var at: Date }

        /// Remote type-2 entries: vxsw's FDB entries (`show mac --total`; the rig has no local
        /// MAC, and `crossCheck` makes sure every entry is of EVPN origin); FRR: kernel FDB
        /// entries with a VTEP, other than the all-zero flood entries.
        func count() -> Reading? {
            switch contender {
            case .vxsw:
                guard let total = ask(["show", "mac", "--total"])?["total"]?.intValue else { return nil }
                return Reading(entries: Int(total), at: Date())
            case .frr:
                if let w = watch, !w.overflowed { let c = w.count; return Reading(entries: c.entries, at: c.changedAt) }
                return kernelCount("dst ").map { Reading(entries: $0, at: Date()) }
            }
        }

        /// Type-2 entries whose VTEP is `vtep` (vxsw: `show mac --count`'s byVTEP, counted by the table owner).
        func entries(to vtep: String) -> Int? {
            switch contender {
            case .vxsw:
                guard let counts = macCount() else { return nil }
                return counts["byVTEP"]?[vtep]?.intValue.map(Int.init) ?? 0
            case .frr:
                if let w = watch, !w.overflowed { return w.entries(to: vtep) }
                return kernelCount("dst \(vtep) ")
            }
        }

        /// After a phase (no clock running): the count the clock stopped on against the table
        /// counted another way; what differs, or nil. vxsw: the total against the EVPN entries
        /// of `show mac --count`; FRR: the watch against a dump of the kernel FDB.
        func crossCheck(_ phase: String) -> String? {
            if contender == .vxsw {
                let total = count()?.entries, evpn = macCount()?["byType"]?["evpn"]?.intValue.map(Int.init) ?? 0
                return total == evpn ? nil : "\(phase): \(total.map(String.init) ?? "no") entries in all, \(evpn) of EVPN origin"
            }
            guard let w = watch, !w.overflowed else { return nil }
            let watched = w.count.entries, dumped = kernelCount("dst ")
            return watched == dumped ? nil : "\(phase): notifications counted \(watched) entries, a dump \(dumped.map(String.init) ?? "failed")"
        }

        /// `show mac --count`.
        func macCount() -> JSONValue? { ask(["show", "mac", "--count"]) }

        /// A request on vxsw's control socket, as the CLI sends it; its answer, or nil.
        func ask(_ words: [String]) -> JSONValue? {
            guard let request = try? ControlRequest(arguments: words),
                  let response = try? ControlClient.send(request, path: node.controlSocket), response.ok else { return nil }
            return response.payload
        }

        func kernelCount(_ pattern: String) -> Int? {
            let r = try? node.namespace.exec(["sh", "-c", "bridge fdb show | grep -v '^00:00:00:00:00:00' | grep -c '\(pattern)'"], check: false)
            return r.flatMap { Int($0.output.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }

        func rssKiB() -> Int { pids.reduce(0) { $0 + Self.rss($1) } }

        /// The contender's processes: vxsw; FRR's zebra and bgpd.
        var pids: [Int32] {
            var pids: [Int32] = []
            switch contender {
            case .vxsw:
                if let p = node.vxsw?.pid { pids = [p] }
            case .frr:
                for d in ["zebra", "bgpd"] {
                    if let s = try? String(contentsOfFile: node.directory + "/frr/\(d).pid", encoding: .utf8),
                       let p = Int32(s.trimmingCharacters(in: .whitespacesAndNewlines)) { pids.append(p) }
                }
            }
            return pids
        }

        static func rss(_ pid: Int32) -> Int {
            guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
    }
}
