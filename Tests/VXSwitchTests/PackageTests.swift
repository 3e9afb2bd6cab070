import Foundation
import VXLab
import VXLabKit
import XCTest

/// The `.deb` of `tools/package`, checked the way a fresh Debian 12 host would see it, without
/// installing it here: its control fields and file list, the files extracted (`dpkg-deb -x`)
/// into a temporary root, the binary's libraries (no Swift toolchain), the binary run with
/// `/opt/swift` hidden and a bare environment, the unit through `systemd-analyze verify`, and
/// the maintainer scripts and hooks parsed (never run: they would act on this host).
///
/// The package is `PackageUnderTest`'s: the one `tools/test` built, or one built here. The
/// checks take a few seconds. `PackageOnDebianHostTests` installs the same package on a fresh
/// Debian under systemd.
final class PackageTests: XCTestCase {
    /// The package, built (or found) and extracted once for the class.
    private struct Package {
        var deb: String
        /// The extracted files (`dpkg-deb -x`) and the control files (`dpkg-deb -e`).
        var root: String
        var control: String
        var info: String
    }

    private static let repo = PackageUnderTest.repo
    private static let work = NSTemporaryDirectory() + "vxsw-package-\(getpid())"
    nonisolated(unsafe) private static var built: Result<Package, Error>?

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: work)
        super.tearDown()
    }

    private func package() throws -> Package {
        if Self.built == nil { Self.built = Result { try Self.make() } }
        return try Self.built!.get()
    }

    private static func make() throws -> Package {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let deb = try PackageUnderTest.deb()
        let p = Package(deb: deb, root: work + "/root", control: work + "/DEBIAN", info: try VXLabKit.run(["dpkg-deb", "--info", deb]).output)
        try VXLabKit.run(["dpkg-deb", "-x", deb, p.root])
        try VXLabKit.run(["dpkg-deb", "-e", deb, p.control])
        return p
    }

    private var vxsw: String { get throws { try package().root + "/usr/bin/vxsw" } }

    /// A field of the control file (`Version`, `Depends`).
    private func field(_ name: String) throws -> String {
        let info = try package().info
        guard let line = info.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(name): ") }) else {
            throw LabError("no \(name): in dpkg-deb --info:\n\(info)")
        }
        return line.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
    }

    /// The files an operator needs are there, with their modes, and are this tree's.
    func testContentsAreThisTreesFiles() throws {
        let p = try package()
        XCTAssertEqual(try field("Package"), "vxsw")
        XCTAssertEqual(try field("Architecture"), try VXLabKit.run(["dpkg", "--print-architecture"]).output.trimmingCharacters(in: .whitespacesAndNewlines))
        let depends = try field("Depends")
        for library in ["libbpf1", "libxdp1", "libnuma1", "libc6"] { XCTAssertTrue(depends.contains(library), depends) }
        XCTAssertFalse(depends.lowercased().contains("swift"), depends)

        let listing = try VXLabKit.run(["dpkg-deb", "--contents", p.deb]).output
        let expected: [(String, String)] = [
            ("./usr/bin/vxsw", "-rwxr-xr-x root/root"),
            ("./lib/systemd/system/vxsw.service", "-rw-r--r-- root/root"),
            ("./etc/libvirt/hooks/qemu.d/vxsw", "-rwxr-xr-x root/root"),
            ("./usr/share/vxsw/proxmox/vxsw-hookscript", "-rwxr-xr-x root/root"),
            ("./usr/share/man/man8/vxsw.8.gz", "-rw-r--r-- root/root"),
            ("./usr/share/bash-completion/completions/vxsw", "-rw-r--r-- root/root"),
            ("./usr/share/zsh/vendor-completions/_vxsw", "-rw-r--r-- root/root"),
            ("./usr/share/fish/vendor_completions.d/vxsw.fish", "-rw-r--r-- root/root"),
        ]
        for (path, mode) in expected {
            let line = listing.split(separator: "\n").first { $0.hasSuffix(" " + path) }
            XCTAssertNotNil(line, "\(path) not in the package:\n\(listing)")
            XCTAssertTrue(line?.hasPrefix(mode) ?? false, "\(line ?? ""): want \(mode)")
        }
        XCTAssertEqual(try String(contentsOfFile: p.control + "/conffiles", encoding: .utf8), "/etc/libvirt/hooks/qemu.d/vxsw\n")
        for (packaged, source) in [("lib/systemd/system/vxsw.service", "packaging/systemd/vxsw.service"),
                                   ("etc/libvirt/hooks/qemu.d/vxsw", "packaging/libvirt/qemu"),
                                   ("usr/share/vxsw/proxmox/vxsw-hookscript", "packaging/proxmox/vxsw-hookscript")] {
            XCTAssertTrue(FileManager.default.contentsEqual(atPath: p.root + "/" + packaged, andPath: Self.repo + "/" + source),
                          "\(packaged) differs from this tree's \(source)")
        }
    }

    /// No library from the Swift toolchain, by ldd and by the ELF's own NEEDED and RUNPATH.
    func testBinaryNeedsNoSwiftToolchain() throws {
        let ldd = try VXLabKit.run(["ldd", try vxsw]).output
        for bad in ["/opt/swift", "libswift", "libFoundation", "not found"] {
            XCTAssertFalse(ldd.contains(bad), "ldd shows \(bad):\n\(ldd)")
        }
        let dynamic = try VXLabKit.run(["readelf", "-d", try vxsw]).output
        let needed = dynamic.split(separator: "\n").filter { $0.contains("(NEEDED)") || $0.contains("PATH)") }
        XCTAssertFalse(needed.isEmpty, dynamic)
        for line in needed { XCTAssertFalse(line.contains("swift") || line.contains("Foundation"), String(line)) }
    }

    /// The binary as it would run on a host that never had the toolchain: an empty tmpfs over
    /// `/opt/swift` in a private mount namespace, `env -i` with a system PATH, and a network
    /// namespace of its own (lo up, the VTEP address on it). `--version`, `run --check` on a
    /// sample config and state file, a bad host setting named by its field, then `vxsw run`
    /// answering `show vni` and stopping on SIGTERM. The tree's debug build, which does link the
    /// toolchain's libraries, fails there: the hiding works.
    func testRunsWithTheToolchainHidden() throws {
        try XCTSkipUnless(isRoot, "needs root: mounts a tmpfs over /opt/swift in private mount and network namespaces")
        func hidden(_ command: [String]) throws -> CommandResult {
            // A host without /opt/swift has nothing to hide (and gets no directory from us).
            let script = """
                if [ -d /opt/swift ]; then mount -t tmpfs -o size=1m vxsw-test /opt/swift || exit 90; fi
                [ -z "$(ls -A /opt/swift 2>/dev/null)" ] || exit 91
                ip link set lo up && ip addr add 198.18.0.1/32 dev lo || exit 92
                exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
                """
            return try VXLabKit.run(["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script, "sh"] + command,
                                    check: false)
        }
        let version = try hidden([try vxsw, "--version"])
        XCTAssertTrue(version.succeeded, version.error)
        // "0.1.0+git20261201190652.8bf88f14616a[.dirty]" -> "vxsw 0.1.0 (commit 8bf88f14616a[-dirty])"
        let packaged = try field("Version")
        let base = packaged.prefix { $0 != "+" }, commit = packaged.split(separator: ".").dropFirst(3).joined(separator: "-")
        XCTAssertEqual(version.output.trimmingCharacters(in: .whitespacesAndNewlines), "vxsw \(base) (commit \(commit))")
        let head = try VXLabKit.run(["git", "-C", Self.repo, "rev-parse", "--short=12", "HEAD"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(commit.hasPrefix(head), "the package says commit \(commit), this tree is at \(head)")

        let dir = Self.work + "/check"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try #"{"version": 1, "ports": [{"name": "tap101i0", "vni": 1000}]}"#.write(toFile: dir + "/state.json", atomically: true, encoding: .utf8)
        let config = """
            vtep: { ipv4: 198.18.0.1 }
            vnis: [{ vni: 1000 }]
            control: { socket: \(dir)/vxsw.sock, metrics: off, state-file: \(dir)/state.json }

            """
        try config.write(toFile: dir + "/vxsw.yaml", atomically: true, encoding: .utf8)
        let check = try hidden([try vxsw, "run", "--check", "--config", dir + "/vxsw.yaml"])
        XCTAssertTrue(check.succeeded, check.error)
        XCTAssertTrue(check.output.contains("\(dir)/vxsw.yaml: configuration is valid"), check.output)
        // A bad host setting is named by its field, by the packaged binary too.
        try (config + "uplink: { interface: vxpkgnone1 }\n").write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try hidden([try vxsw, "run", "--check", "--config", dir + "/bad.yaml"])
        XCTAssertEqual(bad.status, 1, bad.output + bad.error)
        XCTAssertTrue(bad.error.contains("uplink.interface: vxpkgnone1 does not exist"), bad.error)
        let help = try hidden([try vxsw, "show", "bgp", "l2vpn", "--help"])
        XCTAssertTrue(help.succeeded && help.output.contains("l2vpn evpn [route]"), help.output + help.error)

        // It switches: `vxsw run` (bounded by timeout), `show vni` through its socket, SIGTERM to its PID.
        let session = try hidden(["sh", "-c", """
            timeout 30 "$0" run --config "$1/vxsw.yaml" > "$1/run.log" 2>&1 & pid=$!
            i=0; while [ ! -S "$1/vxsw.sock" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
            timeout 10 "$0" show vni --json --socket "$1/vxsw.sock"; shown=$?
            kill -TERM $pid; wait $pid; echo "run exit $?" >&2
            exit $shown
            """, try vxsw, dir])
        let log = (try? String(contentsOfFile: dir + "/run.log", encoding: .utf8)) ?? ""
        XCTAssertTrue(session.succeeded, "show vni: \(session.error)\nvxsw log:\n\(log)")
        XCTAssertTrue(session.output.contains("1000"), session.output)
        XCTAssertTrue(session.error.contains("run exit 0"), "\(session.error)\nvxsw log:\n\(log)")
        XCTAssertTrue(log.contains("all XDP programs detached"), log)

        let debug = try vxswBinary()
        if try VXLabKit.run(["ldd", debug]).output.contains("/opt/swift") {
            let broken = try hidden([debug, "--version"])
            XCTAssertFalse(broken.succeeded, "the debug build ran without /opt/swift: the toolchain was not hidden")
            XCTAssertTrue(broken.error.contains("libswift"), broken.error)
        }
    }

    /// `systemd-analyze verify` on the packaged unit as installed: it checks that ExecStart's
    /// binary and the Documentation= man page exist, so in a private mount namespace the
    /// package's usr/bin and usr/share/man are laid over the host's (read-only overlays).
    func testUnitVerifies() throws {
        guard let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("systemd-analyze not found (apt-get install systemd): the unit is not verified")
        }
        try XCTSkipUnless(isRoot, "needs root: lays the package over /usr/bin in a private mount namespace")
        let p = try package()
        let script = """
            for d in usr/bin usr/share/man; do mount -t overlay vxsw-test -o "lowerdir=$0/$d:/$d" "/$d" || exit 90; done
            [ -x /usr/bin/vxsw ] || exit 91
            exec "$1" verify "$0/lib/systemd/system/vxsw.service"
            """
        let verify = try VXLabKit.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, p.root, analyze], check: false)
        XCTAssertTrue(verify.succeeded, "exit \(verify.status): \(verify.output)\(verify.error)")
        XCTAssertEqual((verify.output + verify.error).trimmingCharacters(in: .whitespacesAndNewlines), "", "verify warns")
    }

    /// The man page is one (and renders, where man is installed) and the bash completion loads, from the extracted files.
    func testManPageAndCompletion() throws {
        let p = try package()
        let page = try VXLabKit.run(["sh", "-c", "gzip -dc \"$0\" | head -c 4000", p.root + "/usr/share/man/man8/vxsw.8.gz"]).output
        XCTAssertTrue(page.contains(".Dt VXSW 8") && page.contains(".Sh NAME"), page)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/man") {
            let rendered = try VXLabKit.run(["man", "-l", p.root + "/usr/share/man/man8/vxsw.8.gz"],
                                            environment: ["MANPAGER": "cat", "MANWIDTH": "80", "PATH": "/usr/bin:/bin"])
            XCTAssertTrue(rendered.output.contains("VXSW(8)") && rendered.output.contains("vxsw run"), rendered.output.prefix(2000) + rendered.error)
        }
        let bash = try VXLabKit.run(["bash", "-c", "source \"$0\" && complete -p vxsw", p.root + "/usr/share/bash-completion/completions/vxsw"])
        XCTAssertTrue(bash.output.contains("-F _vxsw vxsw"), bash.output + bash.error)
    }

    /// The maintainer scripts and the hooks parse (`sh -n`, Python's own parser); they are not
    /// run, since they would reload or purge this host's vxsw.
    func testMaintainerScriptsAndHooksParse() throws {
        let p = try package()
        let scripts = try FileManager.default.contentsOfDirectory(atPath: p.control).filter { ["preinst", "postinst", "prerm", "postrm"].contains($0) }
        XCTAssertEqual(Set(scripts), ["postinst", "prerm", "postrm"])
        for script in scripts.map({ p.control + "/" + $0 }) + [p.root + "/usr/share/vxsw/proxmox/vxsw-hookscript"] {
            XCTAssertTrue(FileManager.default.isExecutableFile(atPath: script), "\(script) is not executable")
            XCTAssertTrue(try String(contentsOfFile: script, encoding: .utf8).hasPrefix("#!/bin/sh\n"), script)
            let parsed = try VXLabKit.run(["sh", "-n", script], check: false)
            XCTAssertTrue(parsed.succeeded, "\(script): \(parsed.error)")
        }
        let hook = p.root + "/etc/libvirt/hooks/qemu.d/vxsw"
        let parsed = try VXLabKit.run(["python3", "-c", "import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])", hook], check: false)
        XCTAssertTrue(parsed.succeeded, "\(hook): \(parsed.error)")
    }
}
