import Foundation

/// Two hypervisor namespaces joined by an underlay veth, for tests and benchmarks with real
/// qemu guests.
///
///     [guest1]          hv1                       hv2          [guest2]
///     eth0 ── tap ── (caller's choice) ── ul0 ══ ul0 ── br0 + vx1000 ── tap ── eth0
///
/// The rig boots guests on taps it leaves unattached; the caller plugs each tap into a Linux
/// bridge (`addBridgeVXLAN` + `attach`) or into whatever it measures instead, and can take the
/// bridge away again (`removeBridgeVXLAN`) while the guests keep running.
/// `teardown()` (idempotent; call it in a `defer`) stops the guests by PID and then
/// deletes the namespaces with everything in them.
public final class RealVMRig: @unchecked Sendable {
    public static let vni = 1000
    public static let underlayMTU = 1600
    public let hv1: NetworkNamespace
    public let hv2: NetworkNamespace
    public let hv1Underlay = "198.18.77.1"
    public let hv2Underlay = "198.18.77.2"
    private let lock = NSLock()
    private var started: [QemuGuest] = []
    public var guests: [QemuGuest] { lock.withLock { started } }

    /// Why this host cannot run real guests (not root, no tun, no qemu); nil when it can.
    public static func unavailableReason() -> String? {
        if !isRoot { return "needs root: builds network namespaces and taps for qemu guests" }
        if !FileManager.default.fileExists(atPath: "/dev/net/tun") { return "needs /dev/net/tun for the guests' taps" }
        let qemu = try? run(["sh", "-c", "command -v qemu-system-x86_64"], check: false)
        if qemu?.succeeded != true { return "needs qemu-system-x86_64 (tools/install-deps installs qemu-system-x86)" }
        return nil
    }

    /// Namespaces `vxvm-<pid><tag>-hv1/hv2` (unique on this machine) and the underlay veth.
    public init(tag: String) throws {
        let prefix = "vxvm-\(labTag)\(tag)"
        hv1 = try NetworkNamespace("\(prefix)-hv1")
        do {
            hv2 = try NetworkNamespace("\(prefix)-hv2")
        } catch { hv1.remove(); throw error }
        do {
            try addVeth("ul0", in: hv1, "ul0", in: hv2, mtu: Self.underlayMTU)
            for (ns, address) in [(hv1, hv1Underlay), (hv2, hv2Underlay)] {
                try ns.exec(["ip", "addr", "add", "\(address)/24", "dev", "ul0"])
                try ns.exec(["ethtool", "-K", "ul0", "gro", "on"])
            }
        } catch { teardown(); throw error }
    }

    /// A Linux bridge `br0` with a kernel vxlan `vx1000` flooding to `remote` (hv2's way).
    public func addBridgeVXLAN(in ns: NetworkNamespace, local: String, remote: String) throws {
        try ns.exec(["ip", "link", "add", "br0", "type", "bridge"])
        try ns.exec(["ip", "link", "add", "vx\(Self.vni)", "type", "vxlan", "id", String(Self.vni),
                     "local", local, "dstport", "4789", "dev", "ul0"])
        try ns.exec(["ip", "link", "set", "vx\(Self.vni)", "master", "br0", "up"])
        try ns.exec(["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vx\(Self.vni)", "dst", remote])
        try ns.exec(["ip", "link", "set", "br0", "up"])
    }

    /// Deletes `br0` and `vx1000` from `ns`; the taps in it are released and stay up.
    public func removeBridgeVXLAN(in ns: NetworkNamespace) throws {
        try ns.exec(["ip", "link", "del", "vx\(Self.vni)"])
        try ns.exec(["ip", "link", "del", "br0"])
    }

    /// Boots a guest whose tap `tap` appears in `ns` unattached and down; returns once the tap
    /// exists (not once the guest has booted: call `waitUntilBooted` on it, so guests boot in parallel).
    public func startGuest(_ name: String, in ns: NetworkNamespace, tap: String, mac: String, ipv4CIDR: String) throws -> QemuGuest {
        let guest = try QemuGuest(name: "\(labTag)-\(name)", namespace: ns, tap: tap, mac: mac, ipv4CIDR: ipv4CIDR)
        lock.withLock { started.append(guest) }
        try guest.waitForTap()
        return guest
    }

    /// Plugs a guest's tap into a bridge in its namespace.
    public func attach(_ guest: QemuGuest, toBridge bridge: String = "br0") throws {
        try guest.namespace.exec(["ip", "link", "set", guest.tap, "master", bridge, "up"])
    }

    /// Stops the guests (by PID) and deletes both namespaces. Safe to call from a signal
    /// handler's queue while the owner runs, and more than once.
    public func teardown() {
        let guests = lock.withLock { () -> [QemuGuest] in defer { started.removeAll() }; return started }
        for guest in guests { guest.stop() }
        hv1.remove()
        hv2.remove()
    }

    deinit { teardown() }
}

extension QemuGuest {
    /// TCP (iperf3, one stream) for `seconds` from this guest to `server`, which this starts
    /// `iperf3 -s` on; returns the bytes the receiver got, the rate it saw and the sender's retransmits.
    public func tcpThroughput(to server: QemuGuest, serverAddress: String, seconds: Int = 5) throws
        -> (bytes: Int, gbps: Double, retransmits: Int) {
        try server.run("iperf3 -s -D -1 -I /tmp/iperf3.pid; n=0; "
                       + "while ! netstat -ltn | grep -q ':5201 ' && [ $n -lt 50 ]; do sleep 0.2; n=$((n+1)); done")
        defer { _ = try? server.run("[ -f /tmp/iperf3.pid ] && kill $(cat /tmp/iperf3.pid); rm -f /tmp/iperf3.pid", check: false) }
        let json = try run("iperf3 -c \(serverAddress) -t \(seconds) -i 0 -J", timeout: Double(seconds) + 60)
        guard let data = json.data(using: .utf8),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let end = object["end"] as? [String: Any],
              let received = end["sum_received"] as? [String: Any],
              let bytes = received["bytes"] as? NSNumber,
              let bits = received["bits_per_second"] as? NSNumber else {
            throw LabKitError("iperf3 from \(name) gave no result:\n\(json.suffix(2000))")
        }
        let retransmits = ((end["sum_sent"] as? [String: Any])?["retransmits"] as? NSNumber)?.intValue ?? -1
        return (bytes.intValue, bits.doubleValue / 1e9, retransmits)
    }

    /// Pings `address` from the guest; true when a reply came (ARP and flooding settle first).
    public func pings(_ address: String, count: Int = 3) -> (ok: Bool, output: String) {
        let reply = (try? run("ping -c \(count) -W 2 \(address)", timeout: 30, check: false)) ?? ""
        return (reply.range(of: #" [1-9][0-9]* packets received"#, options: .regularExpression) != nil, reply)
    }
}
