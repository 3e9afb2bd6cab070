import Foundation
import VXLab
import VXLabKit
import XCTest

/// The `.deb` installed on a fresh Debian host and run by its real systemd, as an operator
/// would: a Debian root of the host's release made by debootstrap (`DebianRoot`: systemd,
/// iproute2, ping; no python3, no Swift, no libbpf/libxdp), booted with systemd as PID 1 in a
/// network namespace of the test's (`SystemdContainer`), the package installed with
/// `apt-get install ./vxsw.deb` inside it — its dependencies downloaded into the container's apt
/// cache beforehand, because the container's network is the lab's —, then the unit enabled,
/// traffic through it, `systemctl reload`, a crash, a stop and a purge. The second test adds
/// Debian's libvirt (`libvirt-daemon-system`, `qemu-system-x86`) to that host and starts a real
/// guest with `virsh`: the package's hook attaches its tap, and detaches it when it stops or
/// its qemu dies.
///
/// ```
///  vm (10.0.0.1) ── vm1 ┐                                  ┌ br0 10.0.0.2 ── vxlan 1000 (kernel)
///    or a libvirt guest │  hv: systemd ─ vxsw.service       │
///    on its tap         └─ container (systemd-nspawn -b) ── eth1 198.18.0.1 ─── ul 198.18.0.2: remote
/// ```
///
/// The host's kernel runs the container; what a bare-metal host does differently is its init's
/// sandbox: nspawn mounts cgroup controllers read-only (so libvirt is told to use none:
/// `cgroup_controllers = [ ]`) and grants CAP_BPF/CAP_IPC_LOCK only when asked. The first run
/// on a machine builds the roots (about 3 minutes, 250 MB, and 45 MB more for libvirt), later
/// runs find them in /var/cache/vxsw/debian.
final class PackageOnDebianHostTests: XCTestCase {
    private var namespaces: [NetworkNamespace] = []
    private var container: SystemdContainer?

    override func setUpWithError() throws {
        try XCTSkipUnless(isRoot, "needs root: debootstrap, systemd-nspawn and network namespaces")
        for tool in ["/usr/sbin/debootstrap", "/usr/bin/systemd-nspawn"] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "\(tool) missing: run tools/install-deps")
        }
    }

    override func tearDown() {
        container?.stop()
        container = nil
        for ns in namespaces.reversed() { ns.remove() }
        namespaces = []
    }

    /// The lab around the host: its namespace (uplink eth1, 198.18.0.1) and the remote VTEP
    /// (a kernel vxlan in a bridge with 10.0.0.2) behind the underlay veth.
    private func lab() throws -> (hv: NetworkNamespace, remote: NetworkNamespace) {
        let hv = try NetworkNamespace("vxdeb-hv\(labTag)"), remote = try NetworkNamespace("vxdeb-re\(labTag)")
        namespaces += [hv, remote]
        try addVeth("eth1", in: hv, "ul", in: remote)
        try hv.exec(["ip", "addr", "add", "198.18.0.1/24", "dev", "eth1"])
        try remote.exec(["ip", "addr", "add", "198.18.0.2/24", "dev", "ul"])
        for command in [["ip", "link", "add", "vx", "type", "vxlan", "id", "1000", "local", "198.18.0.2", "remote", "198.18.0.1", "dstport", "4789"],
                        ["ip", "link", "add", "br0", "type", "bridge"], ["ip", "link", "set", "vx", "master", "br0"],
                        ["ip", "link", "set", "vx", "up"], ["ip", "link", "set", "br0", "up"],
                        ["ip", "addr", "add", "10.0.0.2/24", "dev", "br0"]] {
            try remote.exec(command)
        }
        return (hv, remote)
    }

    private static let config = """
        # A fresh host's first config: one VNI toward the remote VTEP.
        vtep: { ipv4: 198.18.0.1 }
        uplink: { interface: eth1 }
        vnis: [{ vni: 1000, flood: [198.18.0.2] }]

        """

    /// Boots `root` as the host in `hv`, with the package and `files` in it, and installs the
    /// package with apt as an operator would (nothing is downloaded then: the container's
    /// network is the lab's).
    private func bootHost(_ root: DebianRoot, in hv: NetworkNamespace, files: [String: String] = [:], binds: [String] = [],
                          config: String) throws -> SystemdContainer {
        let deb = try PackageUnderTest.deb()
        let staging = NSTemporaryDirectory() + "vxsw-debhost-\(labTag)-config.yaml"
        try config.write(toFile: staging, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let host = try SystemdContainer(name: "vxdeb\(labTag)", root: root, namespace: hv,
                                        files: files.merging(["/root/vxsw.deb": deb, "/etc/vxsw/vxsw.yaml": staging]) { a, _ in a },
                                        prefetch: ["/root/vxsw.deb"], binds: binds)
        container = host
        // A fresh host: no Swift toolchain, no python3 (the package recommends it for the libvirt hook).
        XCTAssertFalse(try host.shell("test -e /opt/swift || command -v swift", check: false).succeeded, "the host has a Swift toolchain")
        XCTAssertFalse(try host.shell("command -v python3", check: false).succeeded, "python3 is already there")
        let install = try host.exec(["apt-get", "install", "-y", "-q", "/root/vxsw.deb"], check: false)
        XCTAssertTrue(install.succeeded, "apt-get install ./vxsw.deb on a fresh host:\n\(install.output.suffix(3000))\(install.error)")
        XCTAssertTrue(try host.shell("command -v python3", check: false).succeeded, "python3 (Recommends) was not installed")
        return host
    }

    private func systemctlShow(_ host: SystemdContainer, _ properties: [String]) throws -> [String: String] {
        let output = try host.exec(["systemctl", "show", "vxsw"] + properties.flatMap { ["-p", $0] }).output
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }

    /// vxsw's journal as (priority, message), from `journalctl -o json`.
    private func journal(_ host: SystemdContainer) throws -> [(priority: Int, message: String)] {
        let lines = try host.exec(["journalctl", "-u", "vxsw", "-t", "vxsw", "-o", "json", "--no-pager"]).output.split(separator: "\n")
        return lines.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let priority = (object["PRIORITY"] as? String).flatMap(Int.init), let message = object["MESSAGE"] as? String else { return nil }
            return (priority, message)
        }
    }

    private func assertPings(_ from: NetworkNamespace, _ address: String, _ what: String, attempts: Int = 3) throws {
        var last = ""
        for _ in 0..<attempts {
            let ping = try from.exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", address], check: false)
            if ping.succeeded && ping.output.contains(" 0% packet loss") { return }
            last = ping.output
        }
        XCTFail("\(what): ping \(address) from \(from.name):\n\(last)")
    }

    func testInstallEnableReloadCrashStopAndPurgeUnderSystemd() throws {
        let root = try DebianRoot.prepare()
        let (hv, _) = try lab()
        let vm = try NetworkNamespace("vxdeb-vm\(labTag)")
        namespaces.append(vm)
        try addVeth("vm1", in: hv, "eth0", in: vm)
        try vm.exec(["ip", "addr", "add", "10.0.0.1/24", "dev", "eth0"])
        let host = try bootHost(root, in: hv, config: Self.config + "ports: [{ name: vm1, vni: 1000 }]\n")

        // Enabled and started: Type=notify, so `enable --now` returns once vxsw said READY=1.
        let enable = try host.exec(["systemctl", "enable", "--now", "vxsw"], check: false)
        XCTAssertTrue(enable.succeeded, enable.output + enable.error)
        var unit = try systemctlShow(host, ["ActiveState", "Type", "StatusText", "MainPID", "WatchdogUSec", "NRestarts"])
        XCTAssertEqual(unit["ActiveState"], "active", "\(unit); journal: \((try? journal(host).map(\.message)) ?? [])")
        XCTAssertEqual(unit["Type"], "notify")
        XCTAssertEqual(unit["StatusText"], "running, control socket /run/vxsw/vxsw.sock")
        XCTAssertEqual(unit["WatchdogUSec"], "30s")
        try assertPings(vm, "10.0.0.2", "through vxsw under systemd")
        let ports = try host.exec(["vxsw", "show", "ports"]).output
        XCTAssertTrue(ports.contains("vm1") && ports.contains("eth1"), ports)

        // The journal files each line by its syslog priority: the MTU warning of the unit's
        // `run --check` (ExecStartPre) and of the daemon are warnings, the rest info.
        let lines = try journal(host)
        XCTAssertTrue(lines.contains { $0.priority == 4 && $0.message.contains("warning: uplink.mtu") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.priority == 4 && $0.message.contains("underlay MTU 1500") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.priority == 6 && $0.message.contains("running: 2 ports") }, "\(lines)")
        XCTAssertFalse(lines.contains { $0.message.hasPrefix("<") }, "a priority prefix reached the journal as text: \(lines)")

        // systemctl reload: a new VNI applied while the VM keeps pinging; a refused change
        // fails the reload, names the field, and changes nothing.
        try host.write(Self.config.replacingOccurrences(of: "flood: [198.18.0.2] }]", with: "flood: [198.18.0.2] }, { vni: 2000 }]")
                       + "ports: [{ name: vm1, vni: 1000 }]\n", to: "/etc/vxsw/vxsw.yaml")
        let reload = try host.exec(["systemctl", "reload", "vxsw"], check: false)
        XCTAssertTrue(reload.succeeded, reload.error)
        XCTAssertTrue(try host.exec(["vxsw", "show", "vni"]).output.contains("2000"), "VNI 2000 not added by systemctl reload")
        try host.write(Self.config.replacingOccurrences(of: "ipv4: 198.18.0.1", with: "ipv4: 198.18.0.9")
                       + "ports: [{ name: vm1, vni: 1000 }]\n", to: "/etc/vxsw/vxsw.yaml")
        let refused = try host.exec(["systemctl", "reload", "vxsw"], check: false)
        XCTAssertFalse(refused.succeeded, "a reload changing vtep.ipv4 succeeded")
        XCTAssertTrue(try journal(host).contains { $0.message.contains("vtep.ipv4") }, "the refused reload does not name vtep.ipv4")
        XCTAssertEqual(try systemctlShow(host, ["ActiveState"])["ActiveState"], "active")
        try assertPings(vm, "10.0.0.2", "after a refused reload")

        // A crash: systemd restarts vxsw (Restart=on-failure), which attaches its ports again.
        // (The good config back first: the restart's --check would refuse the changed vtep.)
        try host.write(Self.config + "ports: [{ name: vm1, vni: 1000 }]\n", to: "/etc/vxsw/vxsw.yaml")
        let pid = try XCTUnwrap(unit["MainPID"])
        try host.shell("kill -9 \(pid)")
        XCTAssertTrue(waitUntil(timeout: 20) {
            let now = (try? self.systemctlShow(host, ["ActiveState", "MainPID", "NRestarts"])) ?? [:]
            return now["ActiveState"] == "active" && now["MainPID"] != pid && now["NRestarts"] == "1"
        }, "not restarted after SIGKILL: \((try? systemctlShow(host, ["ActiveState", "MainPID", "NRestarts", "Result"])) ?? [:])")
        try assertPings(vm, "10.0.0.2", "after the restart", attempts: 5)

        // Stopped: no XDP program left on the host's interfaces.
        try host.exec(["systemctl", "stop", "vxsw"])
        unit = try systemctlShow(host, ["ActiveState", "Result"])
        XCTAssertEqual(unit["ActiveState"], "inactive")
        XCTAssertEqual(unit["Result"], "success", "vxsw did not exit cleanly on SIGTERM")
        for interface in ["eth1", "vm1"] {
            XCTAssertFalse(try hv.exec(["ip", "-d", "link", "show", interface]).output.contains("prog/xdp"), "XDP left on \(interface)")
        }

        // Purged: the binary, the unit and the state directory are gone; the operator's /etc/vxsw stays.
        try host.exec(["systemctl", "start", "vxsw"])
        let purge = try host.exec(["apt-get", "purge", "-y", "-q", "vxsw"], check: false)
        XCTAssertTrue(purge.succeeded, purge.output + purge.error)
        XCTAssertEqual(try host.exec(["systemctl", "is-active", "vxsw"], check: false).output.trimmingCharacters(in: .whitespacesAndNewlines), "inactive")
        XCTAssertTrue(try host.shell("! test -e /usr/bin/vxsw && ! test -e /lib/systemd/system/vxsw.service && ! test -e /var/lib/vxsw && test -e /etc/vxsw/vxsw.yaml", check: false).succeeded,
                      (try? host.shell("ls -la /usr/bin/vxsw /lib/systemd/system/vxsw.service /var/lib/vxsw /etc/vxsw 2>&1", check: false).output) ?? "")
    }

    /// Debian's libvirt on that host, a real guest defined and started with virsh: the
    /// package's hook (`/etc/libvirt/hooks/qemu.d/vxsw`) attaches the guest's tap by the VNI in
    /// its domain XML, the guest answers the remote host's ping — also after `systemctl reload`
    /// and `systemctl restart vxsw` —, and `virsh destroy`, a new start (a new tap of the same
    /// name) and a killed qemu each leave vxsw's ports right.
    func testLibvirtHookAttachesARealGuest() throws {
        try RealVMRig.skipUnlessAvailable()
        let guest = try GuestImage.prepare()
        let root = try DebianRoot.prepare(extra: ["libvirt-daemon-system", "qemu-system-x86"])
        let (hv, remote) = try lab()
        let mac = "52:54:00:00:10:01"
        let domain = NSTemporaryDirectory() + "vxsw-debhost-\(labTag)-domain.xml"
        try """
            <domain type='qemu'>
              <name>web1</name>
              <memory unit='MiB'>256</memory>
              <vcpu>1</vcpu>
              <metadata>
                <vxsw:ports xmlns:vxsw="https://vxsw.dev/libvirt">
                  <vxsw:port mac="\(mac)" vni="1000"/>
                </vxsw:ports>
              </metadata>
              <os>
                <type arch='x86_64' machine='pc'>hvm</type>
                <kernel>/var/lib/libvirt/boot/vmlinuz</kernel>
                <initrd>/var/lib/libvirt/boot/initrd.img</initrd>
                <cmdline>console=ttyS0 quiet vxsw.ip=10.0.0.1/24 vxsw.mac=\(mac) vxsw.mtu=1450</cmdline>
              </os>
              <devices>
                <interface type='ethernet'>
                  <mac address='\(mac)'/>
                  <target dev='web1-0'/>
                  <model type='virtio'/>
                  <driver name='qemu'/>
                </interface>
                <serial type='pty'/>
              </devices>
            </domain>
            """.write(toFile: domain, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: domain) }
        let host = try bootHost(root, in: hv, files: ["/var/lib/libvirt/boot/vmlinuz": guest.kernel,
                                                      "/var/lib/libvirt/boot/initrd.img": guest.initrd,
                                                      "/root/web1.xml": domain],
                                binds: ["/dev/net/tun"], config: Self.config)
        // The one setting the container needs and a host does not: nspawn's cgroups are read-only.
        try host.shell("echo 'cgroup_controllers = [ ]' >> /etc/libvirt/qemu.conf")
        try host.exec(["systemctl", "enable", "--now", "vxsw"])
        // As the README says: libvirtd finds the package's hook when it starts.
        try host.exec(["systemctl", "restart", "libvirtd"])
        try host.exec(["virsh", "-q", "define", "/root/web1.xml"])

        func attached() throws -> Bool { try host.exec(["vxsw", "show", "ports"]).output.contains("web1-0") }
        func hookLog() -> String { (try? host.exec(["journalctl", "-t", "vxsw-hook", "--no-pager"]).output) ?? "" }
        for round in ["first start", "start after destroy", "start after qemu was killed"] {
            let start = try host.exec(["virsh", "-q", "start", "web1"], check: false)
            XCTAssertTrue(start.succeeded, "\(round): \(start.output)\(start.error)")
            XCTAssertTrue(waitUntil(timeout: 10) { (try? attached()) ?? false }, "\(round): web1-0 not attached; hook log:\n\(hookLog())")
            // The guest boots under TCG (10 s on an idle host, longer on a busy one), then answers through vxsw.
            XCTAssertTrue(waitUntil(timeout: 120) {
                (try? remote.exec(["ping", "-c", "1", "-W", "1", "10.0.0.1"], check: false).succeeded) ?? false
            }, "\(round): the guest does not answer the remote host; vxsw ports:\n\((try? host.exec(["vxsw", "show", "ports"]).output) ?? "")")
            try assertPings(remote, "10.0.0.1", "\(round): remote host to the guest")
            if round == "first start" {
                // The running guest through a reload (a VNI added) and a restart of vxsw: the
                // hook's run-time port comes back from /var/lib/vxsw, the guest answers again.
                try host.write(Self.config.replacingOccurrences(of: "flood: [198.18.0.2] }]", with: "flood: [198.18.0.2] }, { vni: 2000 }]"),
                               to: "/etc/vxsw/vxsw.yaml")
                let reload = try host.exec(["systemctl", "reload", "vxsw"], check: false)
                XCTAssertTrue(reload.succeeded, reload.error)
                try assertPings(remote, "10.0.0.1", "after systemctl reload")
                try host.exec(["systemctl", "restart", "vxsw"])
                XCTAssertTrue(waitUntil(timeout: 10) { (try? attached()) ?? false }, "web1-0 not attached after vxsw restarted")
                try assertPings(remote, "10.0.0.1", "after systemctl restart vxsw", attempts: 5)
                try host.exec(["virsh", "-q", "destroy", "web1"])
            } else if round == "start after destroy" {
                // A crash: its qemu killed; libvirt sees it die and runs the hook's stopped/release.
                let pid = try host.exec(["cat", "/run/libvirt/qemu/web1.pid"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
                try host.shell("kill -9 \(pid)")
            } else {
                try host.exec(["virsh", "-q", "destroy", "web1"])
            }
            XCTAssertTrue(waitUntil(timeout: 15) { !((try? attached()) ?? true) }, "\(round): web1-0 still attached after the guest stopped; hook log:\n\(hookLog())")
            // libvirt reaps a killed qemu a moment after the hook ran: start again only once it says so.
            XCTAssertTrue(waitUntil(timeout: 30) {
                (try? host.exec(["virsh", "domstate", "web1"]).output.contains("shut off")) ?? false
            }, "\(round): web1 not shut off")
        }
        let log = hookLog()
        XCTAssertEqual(log.components(separatedBy: "attached web1-0 as port").count - 1, 3, log)
        // Each stop detaches (or finds the port already detached by vxsw's link watcher, which saw the tap go).
        XCTAssertEqual(log.components(separatedBy: "vxsw port del web1-0").count - 1, 3, log)
        XCTAssertFalse(log.contains("failed"), log)
        try host.exec(["virsh", "-q", "undefine", "web1"])
    }
}
