import Foundation
import VXLab
import VXLabKit

/// Open vSwitch userspace (netdev datapath) with AF_XDP ports and a vxlan port, in its own
/// sandbox: its own database, ovsdb-server and ovs-vswitchd (started and stopped by PID),
/// sockets, logs and pidfiles under `workDir/ovs`. The host's Open vSwitch service is never used.
///
/// ```
///   br-int (netdev): acc0 (afxdp) --- vx0 (vxlan, key 1000, remote 198.18.0.2)
///                    OpenFlow: in_port=acc0 -> vx0, in_port=vx0 -> acc0
///   br-phy (netdev): ul0 (afxdp), LOCAL carries 198.18.0.1/24 (the tunnel endpoint), NORMAL
/// ```
public final class OVSContender: BenchContender {
    public let id = "ovs"
    public let forwards = true
    let cpu: Int
    private var dir = ""
    private var env: [String: String] = [:]
    private var db: ChildProcess?
    private var vswitchd: ChildProcess?
    public var summary: String {
        "Open vSwitch \(Self.version()) userspace (netdev datapath, afxdp ports xdp-mode=native, vxlan port, 1 PMD on CPU \(cpu), point-to-point OpenFlow rules)"
    }

    public init(cpu: Int) { self.cpu = cpu }

    public static var available: Bool {
        ["/usr/sbin/ovs-vswitchd", "/usr/sbin/ovsdb-server", "/usr/bin/ovs-vsctl"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func version() -> String {
        let out = (try? VXLabKit.run(["ovs-vswitchd", "--version"], check: false).output) ?? ""
        return out.split(separator: "\n").first?.split(separator: " ").last.map(String.init) ?? "?"
    }

    @discardableResult
    func vsctl(_ args: [String]) throws -> String {
        try VXLabKit.run(["ovs-vsctl", "--db=unix:\(dir)/db.sock", "--timeout=20"] + args, environment: env).output
    }

    func ofctl(_ args: [String]) throws {
        try VXLabKit.run(["ovs-ofctl"] + args, environment: env)
    }

    func appctl(_ args: [String]) throws {
        try VXLabKit.run(["ovs-appctl", "-t", "\(dir)/ovs-vswitchd.ctl"] + args, environment: env)
    }

    public func start(rig: BenchRig, workDir: String, log: (String) -> Void) throws {
        guard Self.available else { throw LabError("Open vSwitch is not installed (apt-get install openvswitch-switch)") }
        dir = workDir + "/ovs"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var e = ProcessInfo.processInfo.environment
        for k in ["OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"] { e[k] = dir }
        env = e
        let a = BenchAddresses.self
        try VXLabKit.run(["ovsdb-tool", "create", "\(dir)/conf.db", "/usr/share/openvswitch/vswitch.ovsschema"])
        log("ovs: sandbox \(dir): ovsdb-server, ovs-vswitchd in \(rig.dut.name)")
        db = try ChildProcess(["ovsdb-server", "\(dir)/conf.db", "--remote=punix:\(dir)/db.sock",
                               "--unixctl=\(dir)/ovsdb-server.ctl", "--log-file=\(dir)/ovsdb-server.log"],
                              logPath: dir + "/ovsdb-server.out", environment: env)
        guard waitUntil(timeout: 10, { FileManager.default.fileExists(atPath: "\(dir)/db.sock") }) else {
            throw LabError("ovsdb-server did not start: \(db?.log.suffix(400) ?? "")")
        }
        try vsctl(["--no-wait", "init"])
        try vsctl(["--no-wait", "set", "Open_vSwitch", ".", "other_config:pmd-cpu-mask=0x\(String(1 << cpu, radix: 16))"])
        // libxdp wants bpffs; `ip netns exec` gives the command its own /sys, so mount it there.
        vswitchd = try rig.dut.spawn(["sh", "-c", "mount -t bpf bpf /sys/fs/bpf && exec ovs-vswitchd unix:\(dir)/db.sock "
                                      + "--unixctl=\(dir)/ovs-vswitchd.ctl --log-file=\(dir)/ovs-vswitchd.log"],
                                     logPath: dir + "/ovs-vswitchd.out", environment: env)
        guard waitUntil(timeout: 15, { FileManager.default.fileExists(atPath: "\(dir)/ovs-vswitchd.ctl") }) else {
            throw LabError("ovs-vswitchd did not start: \(vswitchd?.log.suffix(400) ?? "")")
        }
        // The tunnel endpoint moves from ul0 to br-phy's LOCAL port.
        try rig.dut.exec(["ip", "addr", "flush", "dev", "ul0"])
        try vsctl(["add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev",
                   "other_config:hwaddr=\(a.text(mac: a.dutUplinkMAC))"])
        try vsctl(["add-port", "br-phy", "ul0", "--", "set", "interface", "ul0", "type=afxdp", "options:xdp-mode=native"])
        try vsctl(["add-br", "br-int", "--", "set", "bridge", "br-int", "datapath_type=netdev"])
        try vsctl(["add-port", "br-int", "acc0", "--", "set", "interface", "acc0", "type=afxdp", "options:xdp-mode=native"])
        try vsctl(["add-port", "br-int", "vx0", "--", "set", "interface", "vx0", "type=vxlan",
                   "options:remote_ip=\(a.text(ip: a.hv2VTEP))", "options:key=\(a.vni)", "options:local_ip=\(a.text(ip: a.dutVTEP))"])
        try rig.dut.exec(["ip", "addr", "add", a.text(ip: a.dutVTEP) + "/24", "dev", "br-phy"])
        try rig.dut.exec(["ip", "link", "set", "br-phy", "up"])
        try appctl(["ovs/route/add", a.text(ip: a.hv2VTEP) + "/32", "br-phy"])
        try appctl(["tnl/arp/set", "br-phy", a.text(ip: a.hv2VTEP), a.text(mac: a.hv2UplinkMAC)])
        try ofctl(["del-flows", "br-int"])
        try ofctl(["add-flow", "br-int", "in_port=acc0,actions=output:vx0"])
        try ofctl(["add-flow", "br-int", "in_port=vx0,actions=output:acc0"])
        let ifaces = try vsctl(["--columns=name,error", "list", "interface"])
        if ifaces.contains("error               : \"") {
            throw LabError("ovs: an interface failed: \(ifaces)")
        }
    }

    public func stop() {
        if let v = vswitchd { v.stop(grace: 5); vswitchd = nil }
        if let d = db { d.stop(grace: 5); db = nil }
    }

    deinit { stop() }
}
