import CLinuxKernel
import Foundation

/// A network namespace this process created. `remove()` (or deinit) deletes it, which also
/// destroys the veth ends inside it; nothing outlives the owner.
public final class NetworkNamespace: @unchecked Sendable {
    public let name: String
    private var removed = false

    public init(_ name: String) throws {
        self.name = name
        try run(["ip", "netns", "add", name])
        try exec(["ip", "link", "set", "lo", "up"])
    }

    /// Runs a command inside the namespace.
    @discardableResult
    public func exec(_ arguments: [String], check: Bool = true) throws -> CommandResult {
        try run(["ip", "netns", "exec", name] + arguments, check: check)
    }

    /// Starts a long-running command inside the namespace.
    public func spawn(_ arguments: [String], logPath: String, environment: [String: String]? = nil) throws -> ChildProcess {
        try ChildProcess(["ip", "netns", "exec", name] + arguments, logPath: logPath, environment: environment)
    }

    /// Moves the calling thread into the namespace for the duration of `body`, then back.
    /// Sockets and XDP links created inside stay bound to the namespace's interfaces.
    public func enter<T>(_ body: () throws -> T) throws -> T {
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        let target = open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        defer { close(original); close(target) }
        guard original >= 0, target >= 0, clk_setns_net(target) == 0 else {
            throw CommandError(command: ["setns", name],
                               result: CommandResult(status: errno, output: "", error: String(cString: strerror(errno))))
        }
        defer { _ = clk_setns_net(original) }
        return try body()
    }

    public func remove() {
        guard !removed else { return }
        removed = true
        _ = try? run(["ip", "netns", "del", name], check: false)
    }

    deinit { remove() }
}

/// Creates a veth pair with each end made directly in its namespace (nil: this one), both up.
/// Names only need to be unique inside their own namespace. `queues`: rx and tx queues of
/// each end (a sender's flows spread over them by hash, as RSS spreads them on a NIC).
public func addVeth(_ a: String, in nsA: NetworkNamespace?, _ b: String, in nsB: NetworkNamespace?, mtu: Int? = nil,
                    queues: Int = 1) throws {
    let q = queues > 1 ? ["numtxqueues", String(queues), "numrxqueues", String(queues)] : []
    var command = ["ip", "link", "add", a]
    if let nsA { command += ["netns", nsA.name] }
    command += q + ["type", "veth", "peer", "name", b] + q
    if let nsB { command += ["netns", nsB.name] }
    try run(command)
    for (name, ns) in [(a, nsA), (b, nsB)] {
        let prefix = ns.map { ["ip", "netns", "exec", $0.name] } ?? []
        if let mtu { try run(prefix + ["ip", "link", "set", name, "mtu", String(mtu)]) }
        try run(prefix + ["ip", "link", "set", name, "up"])
    }
}

/// A short tag unique to this process, for interface and namespace names (IFNAMSIZ is 16).
public let labTag: String = String(getpid() % 100_000)
