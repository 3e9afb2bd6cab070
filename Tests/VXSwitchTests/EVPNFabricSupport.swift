import Foundation
import VXLab
import VXLabKit
import VXConfig
import VXEVPN
import VXSwitch
import XCTest

/// Skips a fabric test unless it can run: root, FRR and (when asked) GoBGP installed.
func requireEVPNFabric(frr: Bool = true, gobgp: Bool = false) throws {
    try XCTSkipUnless(isRoot, "needs root: builds network namespaces and runs vxsw with XDP")
    if frr { try XCTSkipUnless(FRRInstance.isInstalled, "needs FRR 8.4 (zebra, bgpd; tools/install-deps installs it)") }
    if gobgp { try XCTSkipUnless(GoBGPInstance.isInstalled, "needs GoBGP (gobgpd, gobgp; tools/install-deps installs it)") }
}

/// An `EVPNFabric` for one test: named from the pid and `tag`, its work directory removed by
/// `close()`, which the test calls in a `defer` (so also on failure).
func makeFabric(_ tag: String) throws -> EVPNFabric {
    let workDir = NSTemporaryDirectory() + "vxsw-evpn-\(labTag)-\(tag)"
    try? FileManager.default.removeItem(atPath: workDir)
    return try EVPNFabric(prefix: "vxe\(labTag)\(tag)", workDir: workDir, binary: try vxswBinary()) { print("[\(tag)] \($0)") }
}

extension EVPNFabric {
    func close() {
        teardown()
        try? FileManager.default.removeItem(atPath: workDir)
    }

    /// Polls `condition` for up to `timeout` seconds; fails the test with `message` and the
    /// daemons' logs when it never holds. Returns whether it held.
    @discardableResult
    func expect(_ timeout: Double, _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () -> Bool) -> Bool {
        if waitUntil(timeout: timeout, condition) { return true }
        XCTFail("\(message()) (after \(timeout) s)\n\(logs())", file: file, line: line)
        return false
    }

    /// FRR's `show evpn mac vni N mac MAC json` on an FRR node, decoded.
    func frrMAC(_ node: String, vni: UInt32, mac: String) -> [String: Any]? {
        guard let text = try? self.node(node).frr?.vtysh("show evpn mac vni \(vni) mac \(mac) json"),
              let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return (json[mac] as? [String: Any]) ?? (json.isEmpty ? nil : json)
    }

    /// VTEPs FRR's zebra has for a VNI (`show evpn vni N json`; FRR 8.4 lists them under
    /// `numRemoteVteps`, later versions under `remoteVteps`).
    func frrRemoteVTEPs(_ node: String, vni: UInt32) -> [String] {
        guard let text = try? self.node(node).frr?.vtysh("show evpn vni \(vni) json"),
              let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [] }
        let list = (json["remoteVteps"] as? [Any]) ?? (json["numRemoteVteps"] as? [Any]) ?? []
        return list.compactMap { ($0 as? [String: Any])?["ip"] as? String ?? ($0 as? String) }
    }

    /// vxsw's `show evpn mac vni N --json` entry for a MAC (FRR's shape: `macs` keyed by MAC).
    func vxswEVPNMAC(_ node: String, vni: UInt32, mac: String) -> JSONValue? {
        (try? show(node, ["evpn", "mac", "vni", String(vni)]))?["macs"]?[mac.lowercased()]
    }

    /// vxsw's BGP table (`show bgp l2vpn evpn route [ARGS]`), decoded.
    func vxswRoutes(_ node: String, _ args: [String] = []) -> [EVPNRouteEntry] {
        ((try? show(node, ["bgp", "l2vpn", "evpn", "route"] + args).decode()) as EVPNRouteTable?)?.routes ?? []
    }

    /// The ARP/neighbour entry a VM has for an address ("" when none).
    func neighbour(_ vm: VM, _ address: String) -> String {
        ((try? vm.namespace.exec(["ip", "neigh", "show", address]).output) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
