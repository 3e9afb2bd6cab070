import CLinuxKernel
import Foundation
import Glibc

/// One real guest: qemu (TCG) with a virtio-net NIC on a tap, driven over its serial console.
/// qemu runs inside `namespace`, so the tap appears there, unattached and down: the caller
/// plugs it into whatever is under test (a Linux bridge, a vxsw port) once `waitForTap()`
/// returns. Offloads stay at qemu's and the guest's defaults (vnet_hdr, TSO on), since what
/// a guest's offloads send is what a veth hides. `stop()` (or deinit) ends qemu by PID and
/// removes its socket; the tap goes with qemu. `migrationTarget` starts a second qemu for the
/// same guest that waits for it (`-incoming`), and `migrate(to:)` moves the guest there
/// through QMP, the way a hypervisor cluster live-migrates a VM.
public final class QemuGuest: @unchecked Sendable {
    public let name: String
    public let namespace: NetworkNamespace
    public let tap: String
    public let mac: String
    public let ipv4CIDR: String
    public let ipv6CIDR: String?
    public let mtu: Int
    /// Where the console and QMP sockets, qemu's output and the console transcript live.
    public let directory: String
    public let image: GuestImage

    /// The line the guest's console shell prints when it is ready for commands.
    static let readyLine = "VXSW-GUEST-READY"

    private var qemu: ChildProcess?
    private var console: Int32 = -1
    private var received: [UInt8] = []
    private var transcript: FileHandle?
    private var sequence = 0
    private let lock = NSLock()

    public init(name: String, namespace: NetworkNamespace, tap: String, mac: String, ipv4CIDR: String,
                ipv6CIDR: String? = nil, mtu: Int = 1500, image: GuestImage? = nil, directory: String? = nil,
                incoming: String? = nil) throws {
        self.name = name
        self.namespace = namespace
        self.tap = tap
        self.mac = mac
        self.ipv4CIDR = ipv4CIDR
        self.ipv6CIDR = ipv6CIDR
        self.mtu = mtu
        self.directory = directory ?? NSTemporaryDirectory() + "vxsw-guest-\(labTag)-\(name)"
        self.image = try image ?? GuestImage.prepare()
        do {
            try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
            let socket = self.directory + "/console.sock"
            try? FileManager.default.removeItem(atPath: socket)
            try? FileManager.default.removeItem(atPath: qmpSocket)
            var append = "console=ttyS0 quiet vxsw.ip=\(ipv4CIDR) vxsw.mac=\(mac) vxsw.mtu=\(mtu)"
            if let ipv6CIDR { append += " vxsw.ip6=\(ipv6CIDR)" }
            qemu = try namespace.spawn([
                "qemu-system-x86_64", "-name", "\(name),debug-threads=on", // threads named "CPU 0/TCG", ... in /proc
                "-accel", "tcg", "-m", "256", "-nographic", "-monitor", "none",
                "-qmp", "unix:\(qmpSocket),server=on,wait=off",
                "-kernel", self.image.kernel, "-initrd", self.image.initrd, "-append", append,
                "-netdev", "tap,ifname=\(tap),script=no,downscript=no,vhost=off,id=n0",
                "-device", "virtio-net-pci,netdev=n0,mac=\(mac)",
                "-chardev", "socket,id=s0,path=\(socket),server=on,wait=off", "-serial", "chardev:s0",
            ] + (incoming.map { ["-incoming", $0] } ?? []), logPath: self.directory + "/qemu.log")
            _ = FileManager.default.createFile(atPath: self.directory + "/console.log", contents: nil)
            transcript = FileHandle(forWritingAtPath: self.directory + "/console.log")
            // Connect at once and stay connected: qemu drops what the guest writes while no
            // client is connected, and the ready line must not be lost.
            guard waitUntil(timeout: 10, { qemu?.isRunning == true && connect(socket) }) else {
                throw LabKitError("guest \(name): no console socket from qemu: \(qemu?.log.suffix(1000) ?? "")")
            }
        } catch {
            stop()
            throw error
        }
    }

    /// Waits until qemu has created the tap in the namespace (it does so at start-up).
    public func waitForTap(timeout: Double = 10) throws {
        let appeared = waitUntil(timeout: timeout) {
            (try? namespace.exec(["ip", "link", "show", tap], check: false).succeeded) == true
        }
        guard appeared else { throw LabKitError("guest \(name): tap \(tap) did not appear in \(namespace.name)") }
    }

    /// Waits for the guest's console shell (a TCG boot takes ~10 s, longer on a busy host).
    public func waitUntilBooted(timeout: Double = 120) throws {
        lock.lock()
        defer { lock.unlock() }
        guard try readUntil(Self.readyLine + "\r\n", deadline: Date().addingTimeInterval(timeout)) != nil else {
            throw LabKitError("guest \(name) did not boot in \(Int(timeout)) s; console:\n\(consoleTail)\nqemu: \(qemu?.log.suffix(500) ?? "")")
        }
        received.removeAll()
    }

    /// Runs one shell command line in the guest (stdin from /dev/null, stderr into the output)
    /// and returns its output. Throws when it exits non-zero (unless `check` is false) or runs
    /// past `timeout`; then it is interrupted with Ctrl-C and the console shell starts afresh.
    @discardableResult
    public func run(_ command: String, timeout: Double = 30, check: Bool = true) throws -> String {
        guard !command.contains("\n"), command.utf8.count < 3000 else {
            throw LabKitError("guest \(name): a console command must be one line under 3000 bytes")
        }
        lock.lock()
        defer { lock.unlock() }
        sequence += 1
        let begin = "VXSW-BEGIN-\(sequence)", end = "VXSW-END-\(sequence)"
        // The markers are split by quotes so that an echo of the line itself never matches.
        let split = { (marker: String) in marker.replacingOccurrences(of: "-", with: "\"\"-") }
        try send("echo \(split(begin)); ( \(command) ) </dev/null 2>&1; echo \"\(split(end)) $?\"\n")
        let deadline = Date().addingTimeInterval(timeout)
        guard let text = try readUntil(#"\#(end) [0-9]+\r?\n"#, regex: true, deadline: deadline) else {
            try send("\u{03}")
            _ = try readUntil(Self.readyLine + "\r\n", deadline: Date().addingTimeInterval(10))
            received.removeAll()
            throw LabKitError("guest \(name): `\(command)` did not finish in \(Int(timeout)) s")
        }
        received.removeAll()
        let clean = text.replacingOccurrences(of: "\r", with: "")
        guard let start = clean.range(of: begin + "\n"), let stop = clean.range(of: end + " ", range: start.upperBound..<clean.endIndex) else {
            throw LabKitError("guest \(name): garbled console output for `\(command)`:\n\(clean)")
        }
        let output = String(clean[start.upperBound..<stop.lowerBound])
        let status = Int(clean[stop.upperBound...].prefix { $0.isNumber }) ?? -1
        if check && status != 0 {
            throw LabKitError("guest \(name): `\(command)` exited \(status):\n\(output)")
        }
        return output
    }

    // MARK: live migration

    private var qmpSocket: String { directory + "/qmp.sock" }

    /// A second qemu for this guest in `namespace` (its hypervisor), with the same machine,
    /// NIC, MAC, boot files and kernel command line, waiting for the guest's state on `listen`
    /// (`tcp:ADDR:PORT`, qemu's `-incoming`). Its tap (the same name unless given) appears at
    /// once, as on a real target host: attach it before migrating. Returns once qemu listens.
    /// The console works from the moment the migrated guest runs there.
    public func migrationTarget(name: String, namespace: NetworkNamespace, tap: String? = nil, listen: String) throws -> QemuGuest {
        let target = try QemuGuest(name: name, namespace: namespace, tap: tap ?? self.tap, mac: mac, ipv4CIDR: ipv4CIDR,
                                   ipv6CIDR: ipv6CIDR, mtu: mtu, image: image, incoming: listen)
        // QMP is served by qemu's main loop, which runs only once the incoming socket is set up.
        guard waitUntil(timeout: 20, { (try? target.runState()) == "inmigrate" }) else {
            let state = (try? target.runState()) ?? "no QMP"
            target.stop()
            throw LabKitError("migration target \(name): not waiting for a migration (\(state))")
        }
        try target.waitForTap()
        return target
    }

    /// What `query-migrate` reports of a completed migration.
    public struct Migration: Sendable {
        /// From `migrate` to completion.
        public let totalMilliseconds: Int
        /// The guest's pause: from the source stopping it to the target being able to run it.
        public let downtimeMilliseconds: Int
        public let transferredBytes: Int
    }

    /// Live-migrates this running guest to a target from `migrationTarget` listening on `uri`
    /// (`tcp:ADDR:PORT`) and waits until qemu reports it completed; this qemu then stays
    /// paused (`postmigrate`) until `stop()`. Bandwidth is not capped (qemu's default is 32 MiB/s).
    public func migrate(to uri: String, timeout: Double = 120) throws -> Migration {
        let qmp = try QMPClient(path: qmpSocket, what: "guest \(name)")
        try qmp.execute("migrate-set-parameters", ["max-bandwidth": 1 << 34])
        try qmp.execute("migrate", ["uri": uri])
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let info = try qmp.execute("query-migrate") as? [String: Any] ?? [:]
            let number = { (key: String, in: [String: Any]?) in (`in`?[key] as? NSNumber)?.intValue ?? -1 }
            switch info["status"] as? String {
            case "completed":
                return Migration(totalMilliseconds: number("total-time", info), downtimeMilliseconds: number("downtime", info),
                                 transferredBytes: number("transferred", info["ram"] as? [String: Any]))
            case "failed", "cancelled":
                throw LabKitError("guest \(name): migration to \(uri) \(info["status"]!): \(info["error-desc"] ?? "")")
            default:
                guard Date() < deadline else {
                    _ = try? qmp.execute("migrate_cancel")
                    throw LabKitError("guest \(name): migration to \(uri) not completed in \(Int(timeout)) s: \(info)")
                }
                usleep(50_000)
            }
        }
    }

    /// qemu's run state (`query-status`): `running`, `inmigrate`, `postmigrate`, `paused`, ...
    public func runState() throws -> String {
        let status = try QMPClient(path: qmpSocket, what: "guest \(name)").execute("query-status") as? [String: Any]
        return status?["status"] as? String ?? "?"
    }

    /// qemu's PID while it runs (for CPU accounting from /proc); nil once stopped.
    public var pid: Int32? { qemu?.isRunning == true ? qemu?.pid : nil }

    /// The last part of what the console printed, for error messages.
    public var consoleTail: String {
        String(((try? String(contentsOfFile: directory + "/console.log", encoding: .utf8)) ?? "").suffix(2000))
    }

    /// Ends qemu by PID (SIGTERM, which it takes as "quit", then SIGKILL), waits for its tap to
    /// go, and removes the socket and logs. Idempotent.
    public func stop() {
        if console >= 0 { close(console); console = -1 }
        try? transcript?.close()
        transcript = nil
        if let qemu {
            qemu.stop(grace: 5)
            _ = waitUntil(timeout: 5) { (try? namespace.exec(["ip", "link", "show", tap], check: false).succeeded) != true }
        }
        qemu = nil
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }

    // MARK: console socket

    private func connect(_ path: String) -> Bool {
        guard let fd = connectUnixSocket(path) else { return false }
        console = fd
        return true
    }

    private func send(_ text: String) throws {
        try writeAll(console, Array(text.utf8), what: "guest \(name): console")
    }

    /// Reads the console until its text contains `pattern` (a regex when `regex`), returning
    /// all text so far; nil at the deadline. Throws when qemu has gone.
    private func readUntil(_ pattern: String, regex: Bool = false, deadline: Date) throws -> String? {
        while true {
            let text = String(decoding: received, as: UTF8.self)
            if text.range(of: pattern, options: regex ? .regularExpression : []) != nil { return text }
            guard let chunk = try readSome(console, before: deadline, what: "guest \(name): console",
                                           closed: "qemu exited? \(qemu?.log.suffix(500) ?? "")") else { return nil }
            received += chunk
            transcript?.write(Data(chunk))
        }
    }
}
