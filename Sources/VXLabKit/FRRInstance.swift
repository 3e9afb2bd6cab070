import Foundation

/// FRR (zebra + bgpd) inside a namespace with its own state directory, config and vty
/// sockets — never /etc/frr. The daemons run in the foreground as our children and are
/// stopped by PID.
public final class FRRInstance: @unchecked Sendable {
    public let namespace: NetworkNamespace
    public let directory: String
    private var daemons: [ChildProcess] = []

    /// Where Debian installs the daemons.
    public static func daemon(_ name: String) -> String? {
        ["/usr/lib/frr/\(name)", "/usr/sbin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static var isInstalled: Bool { daemon("zebra") != nil && daemon("bgpd") != nil }

    /// `zebraConfig`: more lines for zebra.conf (e.g. `vrf tenant1` / ` vni 5000`). `vrfs`:
    /// FRR VRFs on its network-namespace backend (`zebra -n`; the kernel here has no VRF
    /// device), by name: each daemon runs in a private mount namespace whose `/run/netns`
    /// holds only these, so zebra takes no other namespace on the machine for a VRF.
    public init(in namespace: NetworkNamespace, directory: String, bgpdConfig: String, zebraConfig: String = "",
                vrfs: [String: NetworkNamespace] = [:]) throws {
        guard let zebra = Self.daemon("zebra"), let bgpd = Self.daemon("bgpd") else {
            throw LabKitError("FRR is not installed (apt-get install frr)")
        }
        self.namespace = namespace
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "hostname \(namespace.name)\n\(zebraConfig)".write(toFile: directory + "/zebra.conf", atomically: true, encoding: .utf8)
        try bgpdConfig.write(toFile: directory + "/bgpd.conf", atomically: true, encoding: .utf8)
        try run(["chown", "-R", "frr:frr", directory])
        let common = ["-z", directory + "/zserv.api", "--vty_socket", directory, "-u", "frr", "-g", "frr"]
        let wrap = try Self.privateNetnsDirectory(vrfs, directory: directory)
        do {
            // `-s 90000000`: zebra's netlink receive buffer as Debian's /etc/frr/daemons sets it.
            // With FRR's own default, a burst of 100k FDB changes overruns zebra's netlink-listen
            // socket and zebra exits (it cannot resynchronise: "recvmsg overrun").
            daemons.append(try namespace.spawn(wrap + [zebra] + (vrfs.isEmpty ? [] : ["-n"]) + ["-s", "90000000"]
                                               + ["-i", directory + "/zebra.pid", "-f", directory + "/zebra.conf"] + common,
                                               logPath: directory + "/zebra.out"))
            guard waitUntil(timeout: 10, { FileManager.default.fileExists(atPath: directory + "/zserv.api") }) else {
                throw LabKitError("zebra did not start: \(daemons[0].log)")
            }
            daemons.append(try namespace.spawn(wrap + [bgpd, "-i", directory + "/bgpd.pid", "-f", directory + "/bgpd.conf"] + common,
                                               logPath: directory + "/bgpd.out"))
            guard waitUntil(timeout: 10, { FileManager.default.fileExists(atPath: directory + "/bgpd.vty") }) else {
                throw LabKitError("bgpd did not start: \(daemons[1].log)")
            }
        } catch {
            stop()
            throw error
        }
    }

    /// The command prefix that runs a daemon in its own mount namespace with a `/run/netns` of
    /// just `vrfs` (bind mounts of their namespace files), then execs it (same PID, so it is
    /// stopped by PID as before). Empty without VRFs.
    static func privateNetnsDirectory(_ vrfs: [String: NetworkNamespace], directory: String) throws -> [String] {
        guard !vrfs.isEmpty else { return [] }
        var script = ""
        for (name, ns) in vrfs.sorted(by: { $0.key < $1.key }) {
            let keep = directory + "/\(name).netns"
            FileManager.default.createFile(atPath: keep, contents: nil)
            script += "mount --bind /run/netns/\(ns.name) \(keep) && "
        }
        script += "mount -t tmpfs tmpfs /run/netns && "
        for name in vrfs.keys.sorted() {
            script += "touch /run/netns/\(name) && mount --bind \(directory)/\(name).netns /run/netns/\(name) && "
        }
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", script + "exec \"$@\"", "sh"]
    }

    /// One vtysh command against this instance.
    public func vtysh(_ command: String) throws -> String {
        try run(["vtysh", "--vty_socket", directory, "-c", command]).output
    }

    public func stop() {
        for d in daemons.reversed() { d.stop(grace: 3) }
        daemons.removeAll()
    }

    deinit { stop() }
}
