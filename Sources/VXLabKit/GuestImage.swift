import Foundation

/// The boot files of a real test guest under TCG: a Debian kernel and a busybox initramfs with
/// the virtio-net modules, iperf3 and ethtool. Built once into a cache directory keyed by the
/// recipe, so a changed recipe builds anew and an unchanged one costs nothing. The kernel
/// package is only downloaded and unpacked, never installed: the host has no /lib/modules to
/// spare and its postinst hooks would rebuild the host's boot files.
public struct GuestImage: Sendable {
    public let kernel: String
    public let initrd: String

    /// The guest kernel's modules for virtio-net, in load order.
    public static let modules = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
                                 "virtio_pci", "failover", "net_failover", "virtio_net"]
    /// Host programs copied into the guest with their libraries.
    public static let tools = ["/usr/bin/iperf3", "/usr/sbin/ethtool"]
    /// Bump when the way the image is built changes in a way the recipe text does not show.
    static let recipeVersion = 2

    /// The image for the kernel `linux-image-amd64` depends on, built on first use.
    public static func prepare(cacheRoot: String = "/var/cache/vxsw/guest") throws -> GuestImage {
        lock.lock()
        defer { lock.unlock() }
        let package = try kernelPackage()
        let recipe = [String(recipeVersion), package] + modules + tools + [guestInit]
        let dir = try CachedBuild.directory(in: cacheRoot, named: package, recipe: recipe, marker: "initrd.img") { out in
            let scratch = out + ".scratch"
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            try? FileManager.default.removeItem(atPath: scratch)
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try build(package: package, in: scratch, into: out)
        }
        return GuestImage(kernel: dir + "/vmlinuz", initrd: dir + "/initrd.img")
    }

    private static let lock = NSLock()

    /// The versioned kernel package behind the `linux-image-amd64` meta package.
    static func kernelPackage() throws -> String {
        let depends = try run(["apt-cache", "depends", "linux-image-amd64"]).output
        guard let match = depends.range(of: #"linux-image-[0-9][^\s]*-amd64"#, options: .regularExpression) else {
            throw LabKitError("guest image: `apt-cache depends linux-image-amd64` names no kernel package:\n\(depends)")
        }
        return String(depends[match])
    }

    private static func build(package: String, in work: String, into out: String) throws {
        // apt-get download writes into the current directory; `_apt` cannot write into ours.
        let download = ["sh", "-c", #"cd "$1" && apt-get -q -o APT::Sandbox::User=root download "$2""#, "sh", work, package]
        if !(try run(download, check: false)).succeeded {
            try run(["apt-get", "update", "-qq"])
            try run(download)
        }
        let deb = try FileManager.default.contentsOfDirectory(atPath: work).first { $0.hasSuffix(".deb") }
        guard let deb else { throw LabKitError("guest image: apt-get download \(package) left no .deb") }
        try run(["dpkg-deb", "-x", "\(work)/\(deb)", work + "/kernel"])
        guard let vmlinuz = try FileManager.default.contentsOfDirectory(atPath: work + "/kernel/boot")
            .first(where: { $0.hasPrefix("vmlinuz-") }) else { throw LabKitError("guest image: \(package) has no vmlinuz") }
        try FileManager.default.copyItem(atPath: "\(work)/kernel/boot/\(vmlinuz)", toPath: out + "/vmlinuz")

        let root = work + "/initramfs"
        try FileManager.default.createDirectory(atPath: root + "/lib/vxsw", withIntermediateDirectories: true)
        for dir in ["bin", "proc", "sys", "dev", "tmp", "etc"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
        }
        try copyResolved("/bin/busybox", to: root + "/bin/busybox")
        try copyModules(from: work + "/kernel/lib/modules", to: root + "/lib/vxsw")
        for tool in tools {
            try copyResolved(tool, to: root + tool)
            for library in try sharedLibraries(of: tool) { try copyResolved(library, to: root + library) }
        }
        try guestInit.write(toFile: root + "/init", atomically: true, encoding: .utf8)
        try run(["chmod", "0755", root + "/init"])
        try run(["sh", "-c", #"cd "$1" && find . | cpio -o -H newc --quiet | gzip -1 > "$2""#, "sh", root, out + "/initrd.img"])
    }

    /// Copies each module of `modules` (found anywhere below `tree`, plain or .xz) as `NAME.ko`.
    private static func copyModules(from tree: String, to dir: String) throws {
        var found: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: tree)
        while let path = walker?.nextObject() as? String {
            let file = (path as NSString).lastPathComponent
            let name = file.replacingOccurrences(of: ".ko.xz", with: "").replacingOccurrences(of: ".ko", with: "")
            if modules.contains(name), file.hasSuffix(".ko") || file.hasSuffix(".ko.xz") { found[name] = "\(tree)/\(path)" }
        }
        for name in modules {
            guard let path = found[name] else { throw LabKitError("guest image: kernel module \(name) not found below \(tree)") }
            if path.hasSuffix(".xz") {
                try run(["sh", "-c", #"xz -dc "$1" > "$2""#, "sh", path, "\(dir)/\(name).ko"])
            } else {
                try FileManager.default.copyItem(atPath: path, toPath: "\(dir)/\(name).ko")
            }
        }
    }

    /// The libraries `ldd` names for `binary`, the dynamic loader included.
    private static func sharedLibraries(of binary: String) throws -> [String] {
        try run(["ldd", binary]).output.split(separator: "\n").compactMap { line in
            line.split(whereSeparator: \.isWhitespace).map(String.init).first { $0.hasPrefix("/") }
        }
    }

    /// Copies the file behind `source` (symlinks followed) to `destination`, keeping its mode.
    private static func copyResolved(_ source: String, to destination: String) throws {
        try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try run(["cp", "-L", "--preserve=mode", source, destination])
    }


    /// PID 1 of the guest. It loads virtio-net, configures eth0 from `vxsw.ip=`, `vxsw.ip6=`,
    /// `vxsw.mac=` and `vxsw.mtu=` on the kernel command line, then serves the serial console:
    /// a shell that reads one line at a time with `read` and evals it. Not an interactive shell
    /// (no prompt, no line editing), and not `cat | sh` (a tty read through a pipe waits for
    /// the next line before passing this one on). Ctrl-C ends the shell; the loop starts a
    /// fresh one, which announces itself with the ready line again.
    static let guestInit = """
    #!/bin/busybox sh
    /bin/busybox --install -s /bin
    export PATH=/bin:/usr/bin:/usr/sbin
    mount -t proc proc /proc
    mount -t sysfs sys /sys
    mount -t devtmpfs dev /dev
    mount -t tmpfs tmp /tmp
    echo 1 > /proc/sys/kernel/printk
    for m in \(modules.joined(separator: " ")); do
      insmod /lib/vxsw/$m.ko || echo "vxsw-guest: insmod $m failed"
    done
    ip4= ip6= mac= mtu=
    for arg in $(cat /proc/cmdline); do
      case "$arg" in
        vxsw.ip=*) ip4=${arg#vxsw.ip=} ;;
        vxsw.ip6=*) ip6=${arg#vxsw.ip6=} ;;
        vxsw.mac=*) mac=${arg#vxsw.mac=} ;;
        vxsw.mtu=*) mtu=${arg#vxsw.mtu=} ;;
      esac
    done
    n=0; while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
    ip link set lo up
    [ -n "$mac" ] && ip link set eth0 address "$mac"
    [ -n "$mtu" ] && ip link set eth0 mtu "$mtu"
    [ -n "$ip4" ] && ip addr add "$ip4" dev eth0
    [ -n "$ip6" ] && ip -6 addr add "$ip6" dev eth0 nodad
    ip link set eth0 up
    while :; do
      setsid cttyhack sh -c 'stty -echo; echo \(QemuGuest.readyLine); while IFS= read -r l; do eval "$l"; done'
    done

    """
}
