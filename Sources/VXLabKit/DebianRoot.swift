import Foundation

/// A Debian root file system of the project's own, as a freshly installed host has it: the
/// host's release (Debian 12 here) by `debootstrap --variant=minbase` with systemd, D-Bus and
/// iproute2, and nothing of this repository or of the Swift toolchain. `SystemdContainer` boots
/// it with systemd as PID 1, so the `.deb` can be installed and its unit run as on a real host.
///
/// Built once into a cache directory keyed by the recipe (release, packages, layers), renamed
/// into place last so a half-built root is never taken for a cached one. A layer (`extra`) is
/// the base root copied and more packages installed into it from the distribution, as an
/// operator would (`apt-get install`), with services kept from starting in the chroot.
/// The packages come from the host's own apt sources (the mirror is read from them, never named
/// here). The base costs about 250 MB and 2–3 minutes the first time.
public struct DebianRoot: Sendable {
    public let path: String
    /// The release's code name (`bookworm` for Debian 12).
    public let codename: String

    /// What a minimal server install has and a test needs: systemd as init, the system bus for
    /// systemctl, iproute2 and ping. No python3, no libbpf: the package must bring what it needs.
    public static let basePackages = ["systemd", "systemd-sysv", "dbus", "iproute2", "iputils-ping"]
    static let recipeVersion = 1

    /// The base root, or a layer with `extra` packages installed on top of it.
    public static func prepare(extra: [String] = [], cacheRoot: String = "/var/cache/vxsw/debian") throws -> DebianRoot {
        lock.lock()
        defer { lock.unlock() }
        let (codename, mirror) = try hostRelease()
        let base = try cached(in: cacheRoot, named: "\(codename)-base",
                              recipe: [String(recipeVersion), codename] + basePackages) { work in
            let result = try run(["debootstrap", "--variant=minbase", "--include=" + basePackages.joined(separator: ","),
                                  codename, work, mirror], check: false)
            guard result.succeeded else {
                throw LabKitError("debootstrap \(codename) failed (\(result.status)):\n\(result.output.suffix(2000))\(result.error.suffix(2000))")
            }
        }
        guard !extra.isEmpty else { return DebianRoot(path: base, codename: codename) }
        let layer = try cached(in: cacheRoot, named: "\(codename)-" + extra.joined(separator: "+"),
                               recipe: [String(recipeVersion), base] + extra) { work in
            try run(["cp", "-a", base + "/.", work])
            try install(extra, into: work)
        }
        return DebianRoot(path: layer, codename: codename)
    }

    private static let lock = NSLock()

    /// `cacheRoot/NAME-HASH` (`CachedBuild`), made by `build` and cleaned of apt's downloads.
    private static func cached(in cacheRoot: String, named name: String, recipe: [String],
                               build: (String) throws -> Void) throws -> String {
        try CachedBuild.directory(in: cacheRoot, named: name, recipe: recipe, marker: "etc/os-release") { work in
            try build(work)
            try run(["chroot", work, "apt-get", "clean"])
        }
    }

    /// `apt-get install` in a chroot of `root`: the host's resolver for the downloads, and a
    /// policy-rc.d so the packages' postinst start nothing (there is no init in a chroot).
    static func install(_ packages: [String], into root: String, recommends: Bool = false) throws {
        try? FileManager.default.removeItem(atPath: root + "/etc/resolv.conf")
        try FileManager.default.copyItem(atPath: "/etc/resolv.conf", toPath: root + "/etc/resolv.conf")
        try "#!/bin/sh\nexit 101\n".write(toFile: root + "/usr/sbin/policy-rc.d", atomically: true, encoding: .utf8)
        try run(["chmod", "0755", root + "/usr/sbin/policy-rc.d"])
        defer { try? FileManager.default.removeItem(atPath: root + "/usr/sbin/policy-rc.d") }
        var command = ["chroot", root, "apt-get", "install", "-y", "-q"]
        if !recommends { command.append("--no-install-recommends") }
        let result = try run(command + packages, check: false, environment: ["DEBIAN_FRONTEND": "noninteractive",
                                                                             "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        guard result.succeeded else {
            throw LabKitError("apt-get install \(packages.joined(separator: " ")) in \(root) failed:\n\(result.output.suffix(2000))\(result.error.suffix(2000))")
        }
    }

    /// The host's release code name and the mirror its apt sources use for it.
    static func hostRelease() throws -> (codename: String, mirror: String) {
        let osRelease = try String(contentsOfFile: "/etc/os-release", encoding: .utf8)
        guard let codename = osRelease.split(separator: "\n").first(where: { $0.hasPrefix("VERSION_CODENAME=") })
            .map({ String($0.dropFirst("VERSION_CODENAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }),
            !codename.isEmpty else { throw LabKitError("debian root: /etc/os-release names no VERSION_CODENAME") }
        // `apt-cache policy` lists each source as " 500 URL SUITE/COMPONENT ARCH Packages".
        let policy = try run(["apt-cache", "policy"]).output
        for line in policy.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count >= 3, words[1].hasPrefix("http"), words[2] == "\(codename)/main" { return (codename, String(words[1])) }
        }
        throw LabKitError("debian root: no apt source for \(codename)/main in `apt-cache policy` (run apt-get update)")
    }
}
