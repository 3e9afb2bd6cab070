import Foundation
import VXLabKit
import VXSwitch

/// The lab's routed run (symmetric IRB): two vxsw hypervisors in one EVPN fabric through an FRR
/// route reflector, one tenant VRF (L3 VNI 5000) with two subnets, each with the same anycast
/// gateway on both hypervisors, and a VM of each subnet on each hypervisor.
///
///     vm11 10.10.1.11  vm12 10.10.2.12          vm21 10.10.1.21  vm22 10.10.2.22
///        hv1: vxsw 198.18.0.1  ─── underlay ───  hv2: vxsw 198.18.0.2      rr: FRR .254
///     gateways 10.10.1.1/24, 10.10.2.1/24 (fd00:1::1/64, fd00:2::1/64) on both, one MAC
///
/// Verifies that each VM reaches its gateway, VM to VM in another subnet on the same host is
/// routed there (TTL − 1), across hosts through the L3 VNI (TTL − 2, IPv4 and IPv6, TCP), the
/// same subnet across hosts is bridged (TTL untouched), and each VRF's table names the
/// remote hosts and the other hypervisor's subnets (type 5).
final class RoutedScenario: SelfContainedScenario, @unchecked Sendable {
    private var fabric: EVPNFabric?

    init(binary: String, workDir: String, iperfSeconds: Int, say: @escaping (String) -> Void) {
        super.init(binary: binary, workDir: workDir, iperfSeconds: iperfSeconds, controlPlane: LabRunner.Run.routedPlane, say: say)
    }

    override var logPath: String { workDir + "/fabric/hv1/vxsw.log" }
    override var removedMessage: String { "fabric removed (vxsw, FRR, namespaces)" }

    override func run() -> LabReport {
        defer { stop() }
        do {
            guard FRRInstance.isInstalled else { throw LabError("FRR is not installed (tools/install-deps installs it)") }
            say("building the fabric in network namespaces:")
            let f = try EVPNFabric(prefix: "vxi\(labTag)", workDir: workDir + "/fabric", binary: binary) { self.say("  \($0)") }
            lock.withLock { fabric = f }
            let rr = try f.addNode("rr", host: 254, kind: .routeReflector)
            let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1001, 1002])
            let hv2 = try f.addNode("hv2", host: 2, kind: .vxsw, vnis: [1001, 1002])
            for (name, node, subnet, host) in [("vm11", "hv1", 1, 11), ("vm12", "hv1", 2, 12), ("vm21", "hv2", 1, 21), ("vm22", "hv2", 2, 22)] {
                let vm = try f.addVM(name, on: node, vni: UInt32(1000 + subnet), address: "10.10.\(subnet).\(host)")
                try vm.namespace.exec(["ip", "route", "add", "default", "via", "10.10.\(subnet).1"])
                try vm.namespace.exec(["ip", "addr", "add", "fd00:\(subnet)::\(host)/64", "dev", "eth0", "nodad"])
                try vm.namespace.exec(["ip", "-6", "route", "add", "default", "via", "fd00:\(subnet)::1"])
            }
            try f.startFRR("rr", bgpdConfig: f.frrRouteReflectorConfig(rr, clients: [hv1.address, hv2.address]))
            let gateways: [UInt32: String] = [1001: "{ ipv4: 10.10.1.1/24, ipv6: \"fd00:1::1/64\" }",
                                              1002: "{ ipv4: 10.10.2.1/24, ipv6: \"fd00:2::1/64\" }"]
            for hv in ["hv1", "hv2"] {
                try f.startVxsw(hv, peers: [rr.address], gateways: gateways,
                                vrfs: "  - { name: tenant1, l3-vni: 5000, vnis: [1001, 1002], advertise-subnets: true }")
            }
            verify(f, rr: rr, hv1: hv1, hv2: hv2)
        } catch {
            report.checks.append(LabCheck(name: "routed lab: build the fabric", passed: false, detail: "\(error)"))
            say("  FAIL routed lab — \(error)")
        }
        return report
    }

    private func verify(_ f: EVPNFabric, rr: EVPNFabric.Node, hv1: EVPNFabric.Node, hv2: EVPNFabric.Node) {
        let vm11 = f.vm("vm11"), vm12 = f.vm("vm12"), vm21 = f.vm("vm21"), vm22 = f.vm("vm22")
        check("both vxsw peer with the FRR route reflector") {
            (waitUntil(timeout: 30) { f.routeReflectorSessionsUp(rr, [hv1, hv2]) }, "")
        }
        check("every VM reaches its anycast gateway (same address and MAC on both hypervisors), IPv4 and IPv6") {
            var failed: [String] = []
            for vm in [vm11, vm12, vm21, vm22] {
                let subnet = vm.vni - 1000
                for gw in ["10.10.\(subnet).1", "fd00:\(subnet)::1"] where !((try? f.ping(vm.namespace, gw).0) ?? false) {
                    failed.append("\(vm.name) -> \(gw)")
                }
            }
            return (failed.isEmpty, failed.joined(separator: ", "))
        }
        check("vm11 -> vm12: another subnet on the same hypervisor, routed there (TTL 63)") { ping(vm11, "10.10.2.12", ttl: 63) }
        check("vm11 -> vm22: another subnet on the other hypervisor, through the L3 VNI (TTL 62)") {
            ping(vm11, "10.10.2.22", ttl: 62, wait: 20)
        }
        check("vm22 -> vm11 back the same way (TTL 62)") { ping(vm22, "10.10.1.11", ttl: 62) }
        check("vm11 -> vm22 over IPv6 (hop limit 62)") { ping(vm11, "fd00:2::22", ttl: 62, wait: 20) }
        check("vm11 -> vm21: the same subnet on the other hypervisor, bridged over its L2 VNI (TTL 64)") {
            ping(vm11, "10.10.1.21", ttl: 64)
        }
        check("TCP vm11 -> vm22 routed through the L3 VNI (iperf3, \(iperfSeconds) s)") {
            let (gbps, detail) = try iperf3(from: vm11.namespace, to: vm22.namespace, address: "10.10.2.22", seconds: iperfSeconds,
                                            workDir: workDir)
            if let gbps { report.tcpGbps["vm11->vm22 (routed)"] = gbps }
            return (gbps != nil, detail)
        }
        check("hv1's VRF: vm22's host route via hv2's router MAC; the subnets stay connected (hv2's type-5 routes for them do not replace them)") {
            let table: RouteTableView = try f.show("hv1", ["ip", "route", "vrf", "tenant1"]).decode()
            let host = table.routes.first { $0.prefix == "10.10.2.22/32" }
            let connected = table.routes.filter { $0.type == "connected" }.map(\.prefix).sorted()
            return (host?.type == "remote" && host?.vtep == hv2.address && connected == ["10.10.1.0/24", "10.10.2.0/24"],
                    "\(table.routes.count) routes; 10.10.2.22/32 \(host.map { "via \($0.vtep ?? "?") rmac \($0.mac ?? "?")" } ?? "missing")")
        }
        report.stats = (try? f.show("hv1", ["stats"])) ?? .null
        report.ports = (try? f.show("hv1", ["ports"])) ?? .null
        check("SIGTERM stops both vxsw") { (f.stopVxsw("hv1") == 0 && f.stopVxsw("hv2") == 0, "") }
    }

    /// One ping (retried for up to `wait` seconds: the first packet to a host the gateway has not
    /// met is dropped while it asks), and the TTL of the answer.
    private func ping(_ vm: EVPNFabric.VM, _ to: String, ttl: Int, wait: Double = 10) -> (Bool, String) {
        var out = ""
        let ok = waitUntil(timeout: wait) {
            out = (try? vm.namespace.exec(["ping", "-c", "1", "-W", "1", to], check: false).output) ?? ""
            return out.contains("1 received")
        }
        guard ok else { return (false, "no answer") }
        return (out.contains("ttl=\(ttl) "), out.split(separator: "\n").first { $0.contains("ttl=") }.map { String($0) } ?? out)
    }

    /// Stops vxsw and FRR by PID and removes the fabric. Idempotent; safe from a signal handler.
    override func stop() {
        let f = lock.withLock { () -> EVPNFabric? in defer { fabric = nil }; return fabric }
        f?.teardown()
    }
}
