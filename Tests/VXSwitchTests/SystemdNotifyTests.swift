import Foundation
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// `vxsw run` under a stand-in for systemd: the test binds the datagram socket that
/// `$NOTIFY_SOCKET` names and reads what the real binary sends (sd_notify's protocol):
/// READY=1 once the control socket answers, WATCHDOG=1 while it does, STOPPING=1 on SIGTERM.
/// The switch has no uplink and no ports, in a namespace of its own.
final class SystemdNotifyTests: XCTestCase {
    private var ns: NetworkNamespace!
    private var dir = ""

    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: runs vxsw, which loads its XDP program, in a network namespace")
        dir = NSTemporaryDirectory() + "vxsw-notify-\(labTag)-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        ns = try NetworkNamespace("vxn\(labTag)")
        try ns.exec(["ip", "addr", "add", "198.18.0.1/32", "dev", "lo"])   // the VTEP address must be local
        try """
        vtep: { ipv4: 198.18.0.1 }
        vnis: [{ vni: 1000 }]
        control: { socket: \(dir)/vxsw.sock, metrics: off, state-file: off }
        """.write(toFile: dir + "/vxsw.yaml", atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        ns?.remove()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A filesystem socket (systemd's own is /run/systemd/notify), with WatchdogSec=.
    func testReadyWatchdogAndStoppingOnAPathSocket() throws {
        let listener = try NotifyListener(path: dir + "/notify.sock")
        let vxsw = try start(notifySocket: listener.name, watchdogUSec: 600_000)   // keep-alive every 0.3 s
        defer { vxsw.stop() }

        let ready = try XCTUnwrap(listener.next(timeout: 20), "no READY=1; vxsw log:\n\(vxsw.log)")
        XCTAssertTrue(ready.hasPrefix("READY=1\nSTATUS="), ready)
        let show = try VXLabKit.run([try vxswBinary(), "show", "ports", "--socket", dir + "/vxsw.sock"], check: false)
        XCTAssertTrue(show.succeeded, "the control socket answers as soon as READY=1 is sent: \(show.error)")
        let keepAlives = listener.drain(for: 1.2)
        XCTAssertTrue((2...5).contains(keepAlives.filter { $0 == "WATCHDOG=1" }.count), "one every 0.3 s: \(keepAlives)")

        // A switch whose control socket does not answer gets no keep-alive (systemd then restarts it).
        try FileManager.default.removeItem(atPath: dir + "/vxsw.sock")
        _ = listener.drain(for: 0.5)
        XCTAssertEqual(listener.drain(for: 1.2), [], "keep-alives withheld")
        XCTAssertTrue(vxsw.log.contains("keep-alive withheld"), vxsw.log)

        kill(vxsw.pid, SIGTERM)
        XCTAssertEqual(listener.next(timeout: 5), "STOPPING=1\nSTATUS=stopping: detaching XDP programs")
        XCTAssertEqual(vxsw.stop(), 0)
    }

    /// An abstract name ('@...', as in containers and systemd-nspawn); no WatchdogSec=, no keep-alives.
    func testAbstractSocketWithoutWatchdog() throws {
        let name = "@vxsw-notify-test-\(labTag)"
        let listener = try ns.enter { try NotifyListener(path: name) }   // abstract names live in a netns
        let vxsw = try start(notifySocket: name, watchdogUSec: nil)
        defer { vxsw.stop() }
        XCTAssertEqual(listener.next(timeout: 20)?.hasPrefix("READY=1\n"), true, "vxsw log:\n\(vxsw.log)")
        XCTAssertEqual(listener.drain(for: 0.5), [])
        kill(vxsw.pid, SIGTERM)
        XCTAssertEqual(listener.next(timeout: 5)?.hasPrefix("STOPPING=1\n"), true)
        XCTAssertEqual(vxsw.stop(), 0)
    }

    private func start(notifySocket: String, watchdogUSec: Int?) throws -> ChildProcess {
        var env = ProcessInfo.processInfo.environment.filter { !["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"].contains($0.key) }
        env["NOTIFY_SOCKET"] = notifySocket
        if let watchdogUSec { env["WATCHDOG_USEC"] = String(watchdogUSec) }
        return try ns.spawn([try vxswBinary(), "run", "--config", dir + "/vxsw.yaml"], logPath: dir + "/vxsw.log", environment: env)
    }
}

/// The receiving end of `$NOTIFY_SOCKET`: a bound AF_UNIX datagram socket.
private final class NotifyListener {
    let name: String
    private let fd: Int32

    init(path: String) throws {
        name = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }   // abstract: a leading NUL, no trailing one
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0 else {   // deinit closes fd
            throw LabError("cannot bind the notify socket \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The next message, or nil after `timeout` seconds.
    func next(timeout: Double) -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n < 0 ? nil : String(decoding: buffer[..<n], as: UTF8.self)
    }

    /// Every message that arrives within `seconds`.
    func drain(for seconds: Double) -> [String] {
        let deadline = Date(timeIntervalSinceNow: seconds)
        var messages: [String] = []
        while deadline.timeIntervalSinceNow > 0 {
            if let m = next(timeout: deadline.timeIntervalSinceNow) { messages.append(m) }
        }
        return messages
    }

    deinit {
        close(fd)
        if !name.hasPrefix("@") { unlink(name) }
    }
}
