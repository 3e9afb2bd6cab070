import CLinuxKernel
import Foundation
import Glibc

/// One real guest: qemu (TCG) with a virtio-net NIC on a tap, driven over its serial console.
/// qemu runs inside `namespace`, so the tap appears there, unattached and down: the caller
/// plugs it into whatever is under test (a Linux bridge, a vxsw port) once `waitForTap()`
/// returns. Offloads stay at qemu's and the guest's defaults (vnet_hdr, TSO on), since what
/// a guest's offloads send is what a veth hides. `stop()` (or deinit) ends qemu by PID and
/// removes its socket; the tap goes with qemu.
public final class QemuGuest: @unchecked Sendable {
    public let name: String
    public let namespace: NetworkNamespace
    public let tap: String
    public let mac: String
    public let ipv4CIDR: String
    public let ipv6CIDR: String?
    public let mtu: Int
    /// Where the console socket, qemu's output and the console transcript live.
    public let directory: String

    /// The line the guest's console shell prints when it is ready for commands.
    static let readyLine = "VXSW-GUEST-READY"

    private var qemu: ChildProcess?
    private var console: Int32 = -1
    private var received: [UInt8] = []
    private var transcript: FileHandle?
    private var sequence = 0
    private let lock = NSLock()

    public init(name: String, namespace: NetworkNamespace, tap: String, mac: String, ipv4CIDR: String,
                ipv6CIDR: String? = nil, mtu: Int = 1500, image: GuestImage? = nil, directory: String? = nil) throws {
        self.name = name
        self.namespace = namespace
        self.tap = tap
        self.mac = mac
        self.ipv4CIDR = ipv4CIDR
        self.ipv6CIDR = ipv6CIDR
        self.mtu = mtu
        self.directory = directory ?? NSTemporaryDirectory() + "vxsw-guest-\(labTag)-\(name)"
        do {
            let image = try image ?? GuestImage.prepare()
            try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
            let socket = self.directory + "/console.sock"
            try? FileManager.default.removeItem(atPath: socket)
            var append = "console=ttyS0 quiet vxsw.ip=\(ipv4CIDR) vxsw.mac=\(mac) vxsw.mtu=\(mtu)"
            if let ipv6CIDR { append += " vxsw.ip6=\(ipv6CIDR)" }
            qemu = try namespace.spawn([
                "qemu-system-x86_64", "-name", "\(name),debug-threads=on", // threads named "CPU 0/TCG", ... in /proc
                "-accel", "tcg", "-m", "256", "-nographic", "-monitor", "none",
                "-kernel", image.kernel, "-initrd", image.initrd, "-append", append,
                "-netdev", "tap,ifname=\(tap),script=no,downscript=no,vhost=off,id=n0",
                "-device", "virtio-net-pci,netdev=n0,mac=\(mac)",
                "-chardev", "socket,id=s0,path=\(socket),server=on,wait=off", "-serial", "chardev:s0",
            ], logPath: self.directory + "/qemu.log")
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
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
        if connected { console = fd } else { close(fd) }
        return connected
    }

    private func send(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let sent = bytes.withUnsafeBytes { write(console, $0.baseAddress, $0.count) }
            guard sent > 0 else { throw LabKitError("guest \(name): console write: \(String(cString: strerror(errno)))") }
            bytes = bytes.dropFirst(sent)
        }
    }

    /// Reads the console until its text contains `pattern` (a regex when `regex`), returning
    /// all text so far; nil at the deadline. Throws when qemu has gone.
    private func readUntil(_ pattern: String, regex: Bool = false, deadline: Date) throws -> String? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let text = String(decoding: received, as: UTF8.self)
            if text.range(of: pattern, options: regex ? .regularExpression : []) != nil { return text }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var poller = pollfd(fd: console, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(min(left, 0.5) * 1000)) >= 0 || errno == EINTR else {
                throw LabKitError("guest \(name): console poll: \(String(cString: strerror(errno)))")
            }
            guard poller.revents != 0 else { continue }
            let count = read(console, &chunk, chunk.count)
            guard count > 0 else {
                throw LabKitError("guest \(name): console closed (qemu exited?): \(qemu?.log.suffix(500) ?? "")")
            }
            received += chunk[..<count]
            transcript?.write(Data(chunk[..<count]))
        }
    }
}
