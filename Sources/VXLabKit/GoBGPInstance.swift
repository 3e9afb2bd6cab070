import Foundation

/// gobgpd inside a namespace with its own config file and its own gRPC API port
/// (`--api-hosts=127.0.0.1:PORT`, inside the namespace, so ports only clash within it).
/// It runs in the foreground as our child and is stopped by PID; `gobgp(...)` drives it.
///
/// ```swift
/// let gobgp = try GoBGPInstance(in: ns, directory: dir, config: GoBGPInstance.config(asn: 65000, routerID: "198.18.0.200",
///                               neighbors: [.init(address: "198.18.0.1", peerAS: 65000)]))
/// try gobgp.gobgp(["global", "rib", "-a", "evpn", "add", "macadv", ...])
/// ```
public final class GoBGPInstance: @unchecked Sendable {
    public let namespace: NetworkNamespace
    public let directory: String
    public let apiPort: Int
    private var daemon: ChildProcess?

    /// Where Debian installs gobgpd and gobgp.
    public static func tool(_ name: String) -> String? {
        ["/usr/bin/\(name)", "/usr/sbin/\(name)", "/usr/local/bin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static var isInstalled: Bool { tool("gobgpd") != nil && tool("gobgp") != nil }

    /// One BGP neighbor of the generated config.
    public struct Neighbor: Sendable {
        public var address: String
        public var peerAS: Int
        /// Wait for the peer to connect.
        public var passive: Bool
        /// Configured but shut down (`gobgp neighbor ADDR enable` brings it up).
        public var adminDown: Bool
        public var routeReflectorClient: Bool

        public init(address: String, peerAS: Int, passive: Bool = true, adminDown: Bool = false, routeReflectorClient: Bool = false) {
            self.address = address
            self.peerAS = peerAS
            self.passive = passive
            self.adminDown = adminDown
            self.routeReflectorClient = routeReflectorClient
        }
    }

    /// A gobgpd TOML config: l2vpn-evpn with every neighbor, hold time 9 s, keepalive 3 s.
    public static func config(asn: Int, routerID: String, neighbors: [Neighbor]) -> String {
        var s = """
            [global.config]
              as = \(asn)
              router-id = "\(routerID)"
              port = 179
              local-address-list = ["\(routerID)"]

            """
        for n in neighbors {
            s += """
                [[neighbors]]
                  [neighbors.config]
                    neighbor-address = "\(n.address)"
                    peer-as = \(n.peerAS)
                    admin-down = \(n.adminDown)
                  [neighbors.transport.config]
                    passive-mode = \(n.passive)
                    local-address = "\(routerID)"
                  [neighbors.timers.config]
                    hold-time = 9
                    keepalive-interval = 3
                    connect-retry = 1
                  [[neighbors.afi-safis]]
                    [neighbors.afi-safis.config]
                      afi-safi-name = "l2vpn-evpn"

                """
            if n.routeReflectorClient {
                s += """
                      [neighbors.route-reflector.config]
                        route-reflector-client = true
                        route-reflector-cluster-id = "\(routerID)"

                    """
            }
        }
        return s
    }

    /// A port for the API that other tests running at the same time are unlikely to use
    /// (it is bound inside `namespace`, so only processes in there could clash).
    public static func uniquePort() -> Int {
        50_100 + Int(getpid() % 5_000) * 2 + Int.random(in: 0...1)
    }

    public init(in namespace: NetworkNamespace, directory: String, config: String, apiPort: Int = GoBGPInstance.uniquePort(),
                logLevel: String = "info") throws {
        guard let gobgpd = Self.tool("gobgpd"), Self.tool("gobgp") != nil else {
            throw LabKitError("GoBGP is not installed (apt-get install gobgpd)")
        }
        self.namespace = namespace
        self.directory = directory
        self.apiPort = apiPort
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/gobgpd.toml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let child = try namespace.spawn([gobgpd, "-f", path, "--api-hosts=127.0.0.1:\(apiPort)", "-l", logLevel, "-p", "--pprof-disable"],
                                        logPath: directory + "/gobgpd.log")
        daemon = child
        let up = waitUntil(timeout: 10) { !child.isRunning || (try? self.gobgp(["global"])) != nil }
        guard up, child.isRunning else {
            stop()
            throw LabKitError("gobgpd did not start: \(child.log.suffix(2000))")
        }
    }

    public var log: String { daemon?.log ?? "" }
    public var pid: Int32? { daemon?.pid }

    /// `gobgp -p PORT ARGS` inside the namespace; throws when it fails.
    @discardableResult
    public func gobgp(_ arguments: [String]) throws -> String {
        try namespace.exec([Self.tool("gobgp") ?? "gobgp", "-p", String(apiPort)] + arguments).output
    }

    /// `gobgp ... -j` decoded as JSON (`[Any]` or `[String: Any]`).
    public func gobgpJSON(_ arguments: [String]) throws -> Any {
        let text = try gobgp(arguments + ["-j"])
        return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    /// The neighbor's session state as gobgp reports it ("established", "active", ...).
    public func neighborState(_ address: String) -> String? {
        guard let json = try? gobgpJSON(["neighbor", address]) as? [String: Any],
              let state = json["state"] as? [String: Any] else { return nil }
        if let name = state["session_state"] as? String { return name.lowercased() }
        // `gobgp -j` prints the API enum: UNKNOWN, IDLE, CONNECT, ACTIVE, OPENSENT, OPENCONFIRM, ESTABLISHED.
        let names = ["unknown", "idle", "connect", "active", "opensent", "openconfirm", "established"]
        guard let n = state["session_state"] as? Int, names.indices.contains(n) else { return nil }
        return names[n]
    }

    /// Stops gobgpd by PID (SIGTERM, then SIGKILL).
    public func stop() {
        daemon?.stop(grace: 3)
        daemon = nil
    }

    deinit { stop() }
}
