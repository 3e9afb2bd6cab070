import Foundation

/// A `DebianRoot` booted with systemd as PID 1 (`systemd-nspawn -b`) in a network namespace of
/// the test's: a fresh host for the `.deb` and its unit. The root is never written: an overlay
/// (the cached root below, a temporary directory above) is mounted in a mount namespace of the
/// container's own (`unshare --mount`), so it disappears with the container even if the test is
/// killed, and each container starts from the pristine root.
///
/// ```
///  test ──► unshare -m sh: mount overlay, [chroot apt-get --download-only], exec systemd-nspawn -b
///                                                 └─ systemd (PID 1) ─ journald, dbus, vxsw.service …
///  test ──► nsenter -t <container's PID 1> -m -u -i -n -p ── systemctl / apt-get / vxsw (an operator's root shell)
/// ```
///
/// The container gets what a host's init has and nspawn withholds by default: CAP_BPF,
/// CAP_PERFMON, CAP_IPC_LOCK, CAP_NET_ADMIN (the unit's bounding set narrows it again), `bpf()`
/// in its system-call filter, and `binds` (read-only) for files the test hands in. It runs the
/// host's kernel: what differs from a bare-metal host is only the init's sandbox.
public final class SystemdContainer: @unchecked Sendable {
    public let name: String
    public let directory: String
    private var process: ChildProcess?
    private var leader: Int32 = 0

    /// Boots `root` in `namespace`. `files` are copied into the container's root before it boots
    /// (destination path → source path); `prefetch` packages (a local `.deb` path or names) are
    /// downloaded into its apt cache from the host's network first, so `apt-get install
    /// --no-download` inside the container (whose network is the test's namespace) finds them.
    public init(name: String, root: DebianRoot, namespace: NetworkNamespace, files: [String: String] = [:],
                prefetch: [String] = [], binds: [String] = [], bootTimeout: Double = 240) throws {
        self.name = name
        directory = NSTemporaryDirectory() + "vxsw-container-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        for dir in ["upper", "work", "merged"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(dir)", withIntermediateDirectories: true)
        }
        do {
            for (destination, source) in files {
                let target = directory + "/upper" + destination
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: source, toPath: target)
            }
            try boot(root: root, namespace: namespace, prefetch: prefetch, binds: binds, timeout: bootTimeout)
        } catch {
            stop()
            throw error
        }
    }

    private func boot(root: DebianRoot, namespace: NetworkNamespace, prefetch: [String], binds: [String], timeout: Double) throws {
        let merged = directory + "/merged"
        var script = """
            set -e
            mount -t overlay vxsw-test -o lowerdir="$1",upperdir="$2/upper",workdir="$2/work" "$2/merged"
            shift 2
            """
        if !prefetch.isEmpty {
            // The host's resolver for the download (the overlay's upper layer is thrown away).
            script += """

                cp /etc/resolv.conf "\(merged)/etc/resolv.conf"
                DEBIAN_FRONTEND=noninteractive chroot "\(merged)" apt-get install -y -q --download-only \(prefetch.map { "'\($0)'" }.joined(separator: " ")) >&2
                """
        }
        script += "\nexec \"$@\"\n"
        var nspawn = ["systemd-nspawn", "-D", merged, "-M", name, "--register=no", "--keep-unit", "-q", "-b",
                      "--console=passive", "--network-namespace-path=/run/netns/\(namespace.name)",
                      "--capability=CAP_BPF,CAP_PERFMON,CAP_IPC_LOCK,CAP_NET_ADMIN",
                      "--system-call-filter=bpf perf_event_open"]
        nspawn += binds.map { "--bind-ro=\($0)" }
        process = try ChildProcess(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                                    root.path, directory] + nspawn,
                                   logPath: directory + "/nspawn.log")
        guard waitUntil(timeout: timeout, { (self.process?.isRunning ?? false) && self.findLeader() && self.isUp() }) else {
            let state = leader == 0 ? "no PID 1 yet" : ((try? exec(["systemctl", "is-system-running"], check: false)).map { "\($0.output)\($0.error)" } ?? "?")
            throw LabKitError("container \(name) did not boot in \(Int(timeout)) s (\(state.trimmingCharacters(in: .whitespacesAndNewlines))): \(process?.log.suffix(3000) ?? "")")
        }
    }

    /// The container's PID 1: the child of nspawn that exec'd systemd (unshare and sh exec'd
    /// into nspawn, so the PID we started is nspawn's). Only a comm of exactly "systemd": nspawn's
    /// own helper children are called "systemd-nspawn" until they exec or exit (latching onto one
    /// made the first boot of a run time out now and then).
    private func findLeader() -> Bool {
        if leader != 0 { return true }
        guard let pid = process?.pid,
              let children = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else { return false }
        for child in children.split(separator: " ").compactMap({ Int32($0) }) {
            guard let comm = try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8),
                  comm.trimmingCharacters(in: .whitespacesAndNewlines) == "systemd" else { continue }
            leader = child
            return true
        }
        return false
    }

    /// Booted: `running`, or `degraded` (a unit of the base system that a container cannot
    /// start: the test looks at vxsw's unit, not at the host's health).
    private func isUp() -> Bool {
        let state = (try? exec(["systemctl", "is-system-running"], check: false).output) ?? ""
        return state.hasPrefix("running") || state.hasPrefix("degraded")
    }

    /// Runs a command inside the container, as root in its namespaces (an operator's shell).
    @discardableResult
    public func exec(_ arguments: [String], check: Bool = true) throws -> CommandResult {
        guard leader != 0 else { throw LabKitError("container \(name) is not running") }
        return try run(["nsenter", "-t", String(leader), "-m", "-u", "-i", "-n", "-p", "--",
                        "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"] + arguments, check: check)
    }

    /// `sh -c SCRIPT` inside the container.
    @discardableResult
    public func shell(_ script: String, check: Bool = true) throws -> CommandResult {
        try exec(["sh", "-c", script], check: check)
    }

    /// Writes a file inside the container (its view of `path`), through `/proc/PID/root`.
    public func write(_ text: String, to path: String, mode: Int = 0o644) throws {
        guard leader != 0 else { throw LabKitError("container \(name) is not running") }
        let target = "/proc/\(leader)/root" + path
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target)
    }

    /// What nspawn printed (systemd's boot and shutdown messages with `--console=passive` are
    /// in the journal; this is nspawn's own).
    public var log: String { process?.log ?? "" }

    /// Powers the container off (`systemctl poweroff` inside it),
    /// waits for nspawn to end, SIGKILLs it by PID after `grace`; the overlay goes with its
    /// mount namespace, the temporary directory is removed.
    public func stop(grace: Double = 30) {
        if let process, process.isRunning {
            if leader != 0 { _ = try? exec(["systemctl", "poweroff", "--no-block"], check: false) }
            _ = waitUntil(timeout: grace) { !process.isRunning }
            process.stop(grace: 5)
        }
        process = nil
        leader = 0
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop(grace: 10) }
}
