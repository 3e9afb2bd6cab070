import Foundation
import VXLabKit

/// The rig, built fresh for every contender and removed afterwards (also on failure).
///
/// ```
///   vm (VM side)            dut (switch under test)              hv2 (remote VTEP)        vm2
///   vm0 ----------------- acc0   [contender]   ul0 ------------------ ul0  br0+vx0 -- t2 -- eth0
///   198.19.10.1           access port     198.18.0.1/24        198.18.0.2/24 (kernel)  198.19.10.2
///   generator (decap sink)                                      sink (encap) / generator (decap)
/// ```
/// Packet tests: the generator XDP_TXes out of vm0 (encap) or hv2's ul0 (decap); the sink
/// (XDP_DROP, counting) sits on the other side. TCP and latency tests detach the sinks and
/// run vm -> vm2 through the contender and hv2's kernel VTEP. Neighbours are static: the
/// sinks drop ARP.
public final class BenchRig {
    public let vm: NetworkNamespace
    public let dut: NetworkNamespace
    public let hv2: NetworkNamespace
    public let vm2: NetworkNamespace
    public static let underlayMTU = 1600
    private var namespaces: [NetworkNamespace] = []

    /// Rx/tx queues of the underlay veth pair (`vxsw bench workers`: one per worker).
    public let uplinkQueues: Int

    public init(prefix: String = "vxb\(labTag)", uplinkQueues: Int = 1, log: (String) -> Void = { _ in }) throws {
        self.uplinkQueues = uplinkQueues
        var made: [NetworkNamespace] = []
        do {
            for n in ["vm", "dut", "hv2", "vm2"] { made.append(try NetworkNamespace("\(prefix)-\(n)")) }
        } catch {
            made.reversed().forEach { $0.remove() }
            throw error
        }
        (vm, dut, hv2, vm2) = (made[0], made[1], made[2], made[3])
        namespaces = made
        do { try build(log: log) } catch { teardown(); throw error }
    }

    private func build(log: (String) -> Void) throws {
        let a = BenchAddresses.self
        try addVeth("vm0", in: vm, "acc0", in: dut)
        try addVeth("ul0", in: dut, "ul0", in: hv2, mtu: Self.underlayMTU, queues: uplinkQueues)
        try addVeth("eth0", in: vm2, "t2", in: hv2)
        try setMAC(vm, "vm0", a.vmMAC)
        try setMAC(vm2, "eth0", a.remoteVMMAC)
        try setMAC(dut, "ul0", a.dutUplinkMAC)
        try setMAC(hv2, "ul0", a.hv2UplinkMAC)
        try vm.exec(["ip", "addr", "add", a.text(ip: a.vmIP) + "/24", "dev", "vm0"])
        try vm2.exec(["ip", "addr", "add", a.text(ip: a.remoteVMIP) + "/24", "dev", "eth0"])
        try dut.exec(["ip", "addr", "add", a.text(ip: a.dutVTEP) + "/24", "dev", "ul0"])
        try hv2.exec(["ip", "addr", "add", a.text(ip: a.hv2VTEP) + "/24", "dev", "ul0"])
        try dut.exec(["ip", "neigh", "replace", a.text(ip: a.hv2VTEP), "lladdr", a.text(mac: a.hv2UplinkMAC), "dev", "ul0", "nud", "permanent"])
        try hv2.exec(["ip", "neigh", "replace", a.text(ip: a.dutVTEP), "lladdr", a.text(mac: a.dutUplinkMAC), "dev", "ul0", "nud", "permanent"])
        // Frames XDP_TXed or redirected into a veth are dropped unless its peer runs NAPI:
        // an XDP program or GRO turns that on. Contenders without XDP rely on GRO.
        for (ns, dev) in [(dut, "acc0"), (dut, "ul0"), (vm, "vm0"), (hv2, "ul0")] {
            try ns.exec(["ethtool", "-K", dev, "gro", "on"])
        }
        // hv2: the remote VTEP for the TCP and latency tests, the plain kernel way.
        try hv2.exec(["ip", "link", "add", "br0", "type", "bridge"])
        try hv2.exec(["ip", "link", "add", "vx0", "type", "vxlan", "id", String(a.vni), "local", a.text(ip: a.hv2VTEP),
                      "dstport", "4789", "dev", "ul0"])
        try hv2.exec(["ip", "link", "set", "vx0", "mtu", "1500", "master", "br0", "up"])
        try hv2.exec(["ip", "link", "set", "t2", "master", "br0"])
        try hv2.exec(["ip", "link", "set", "br0", "up"])
        try hv2.exec(["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vx0", "dst", a.text(ip: a.dutVTEP)])
        log("rig: vm:vm0 <-> dut:acc0 | dut:ul0 <-> hv2:ul0 (MTU \(Self.underlayMTU)) | hv2 br0+vx0 <-> vm2:eth0")
    }

    private func setMAC(_ ns: NetworkNamespace, _ dev: String, _ mac: [UInt8]) throws {
        try ns.exec(["ip", "link", "set", dev, "down"])
        try ns.exec(["ip", "link", "set", dev, "address", BenchAddresses.text(mac: mac)])
        try ns.exec(["ip", "link", "set", dev, "up"])
    }

    /// Removes every namespace and with them every veth, bridge and vxlan device. Idempotent.
    public func teardown() {
        for ns in namespaces.reversed() { ns.remove() }
    }

    deinit { teardown() }
}
