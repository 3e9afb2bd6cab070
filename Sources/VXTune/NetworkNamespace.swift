// Runs inspection (or apply) inside a named network namespace (/run/netns/NAME)
// from a multithreaded process: a dedicated thread enters the namespace, and a
// private sysfs mount shows that namespace's devices. Used by the root tests;
// usable for a future `vxsw tune --netns`.

import CLinuxKernel
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum NetworkNamespace {
    /// Calls `body` on a thread inside netns `name` with a LiveHost that reads
    /// that namespace's sysfs. Cleans up the mount whatever `body` does.
    public static func run<T>(_ name: String, _ body: @escaping (LiveHost) throws -> T) throws -> T {
        // The thread stays in the namespace until it ends; the caller's thread never moves.
        let box = NamespaceBox<T>()
        box.body = body
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result { try enter(name, box.body!) }
            done.signal()
        }
        thread.start()
        done.wait()
        return try box.result!.get()
    }

    private static func enter<T>(_ name: String, _ body: (LiveHost) throws -> T) throws -> T {
        let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError.missing("/run/netns/\(name)") }
        defer { close(fd) }
        var rc = clk_setns_net(fd)
        guard rc == 0 else { throw ReadError.failed("setns \(name)", String(cString: strerror(-rc))) }
        let dir = "/tmp/vxtune-sys-\(getpid())-\(name)"
        mkdir(dir, 0o700)
        defer { rmdir(dir) }
        rc = clk_mount_sysfs(dir)
        guard rc == 0 else { throw ReadError.failed("mounting sysfs for \(name)", String(cString: strerror(-rc))) }
        defer { _ = clk_umount_detach(dir) }
        return try body(LiveHost(sysRoot: dir))
    }
}

/// Carries the body and its result across the namespace thread.
private final class NamespaceBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
    var body: ((LiveHost) throws -> T)?
}
