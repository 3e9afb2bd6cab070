import Foundation
import VXConfig
import VXLab
import VXLabKit
import VXSwitch
import XCTest

/// Issue 12: duplicate address detection against FRR's. The same MAC lives on a VM behind vxsw
/// (hv1) and on a VM behind FRR (hv2), both sending; each side's local learn of the MAC the other
/// advertises is a move with a higher MAC mobility sequence, so the MAC flaps between them.
/// FRR (its defaults: max-moves 5, time 180, no freeze) and vxsw (max-moves 8, freeze permanent)
/// both find it duplicate; vxsw then stops advertising it, so the flapping stops; clearing it on
/// both sides works.
///
/// ```
///  vm11  vmd1 (02:00:00:00:66:01)                     vm21  vmd2 (02:00:00:00:66:01)
///   hv1: vxsw 198.18.0.1   <── iBGP, underlay ──>      hv2: FRR, br1000 + vx1000, 198.18.0.2
/// ```
///
/// Why vxsw's max-moves is above FRR's: each side counts its own learns and the other's routes
/// taking the MAC back, from its first local learn on (FRR's rules, which vxsw follows). The side
/// that freezes first stops the flapping, so the other must reach its own count before that.
final class EVPNDuplicateAddressTests: XCTestCase {
    let mac = "02:00:00:00:66:01"

    func testFlappingMACIsDuplicateOnBothSidesAndFrozenByVxsw() throws {
        try requireEVPNFabric()
        let f = try makeFabric("dad")
        defer { f.close() }
        let hv1 = try f.addNode("hv1", host: 1, kind: .vxsw, vnis: [1000])
        let hv2 = try f.addNode("hv2", host: 2, kind: .frr, vnis: [1000])
        let vm11 = try f.addVM("vm11", on: "hv1", vni: 1000, address: "198.19.10.11")
        let vm21 = try f.addVM("vm21", on: "hv2", vni: 1000, address: "198.19.10.21")
        let vmd2 = try f.addVM("vmd2", on: "hv2", vni: 1000, address: "198.19.10.62", mac: mac, tap: "tapd2")
        try f.startFRR("hv2", bgpdConfig: f.frrLeafConfig(hv2, peers: [hv1.address]))
        try f.startVxsw("hv1", peers: [hv2.address], bgpExtra: "  dup-addr-detection: { max-moves: 8, time: 180, freeze: permanent }")
        guard f.expect(30, "vxsw <-> FRR session Established", { f.vxswSessionsUp("hv1") }) else { return }

        // First the MAC lives on hv2 only: vxsw installs it behind hv2.
        let (ok, summary) = try f.ping(vmd2.namespace, vm21.address)
        XCTAssertTrue(ok, "vmd2 -> vm21: \(summary)")
        guard f.expect(15, "vxsw has \(mac) from EVPN behind hv2", { self.vxswEntry(f)?["type"]?.stringValue == "remote" }) else { return }

        // Then a VM with the same MAC starts on hv1; both keep sending (ping every 0.2 s).
        let vmd1 = try f.addVM("vmd1", on: "hv1", vni: 1000, address: "198.19.10.61", mac: mac, tap: "tapd1")
        var pingers = [try vmd1.namespace.spawn(["ping", "-q", "-i", "0.2", vm11.address], logPath: f.workDir + "/ping-vmd1.log"),
                       try vmd2.namespace.spawn(["ping", "-q", "-i", "0.2", vm21.address], logPath: f.workDir + "/ping-vmd2.log")]
        defer { for p in pingers { p.stop(grace: 1) } }

        // Both find it duplicate: FRR's `show evpn mac vni 1000 duplicate` lists it, vxsw shows isDuplicate.
        f.expect(90, "FRR lists \(mac) as duplicate: \(frrText(f, "show evpn mac vni 1000 mac \(mac) json"))") {
            self.frrDuplicate(f)?["isDuplicate"] as? Bool == true
        }
        guard f.expect(90, "vxsw shows \(mac) as duplicate: \(vxswEntry(f)?.jsonText ?? "-")", {
            self.vxswEntry(f)?["isDuplicate"]?.boolValue == true
        }) else { return }
        XCTAssertTrue(vxswLog(f).contains("MAC \(mac) detected as duplicate during"), "vxsw logs the duplicate as FRR does")
        let onlyDuplicates = try f.show("hv1", ["evpn", "mac", "vni", "1000", "duplicate"])["macs"]?.objectValue ?? [:]
        XCTAssertEqual(Array(onlyDuplicates.keys), [mac.lowercased()], "show evpn mac vni 1000 duplicate")
        XCTAssertGreaterThanOrEqual(vxswEntry(f)?["detectionCount"]?.intValue ?? 0, 8)

        // vxsw is frozen: while both VMs keep sending, neither side's sequence moves any more.
        func sequences() -> [Int] {
            let v = vxswEntry(f), r = f.frrMAC("hv2", vni: 1000, mac: mac)
            return [Int(v?["localSequence"]?.intValue ?? -1), Int(v?["remoteSequence"]?.intValue ?? -1),
                    r?["localSequence"] as? Int ?? -1, r?["remoteSequence"] as? Int ?? -1]
        }
        usleep(1_500_000) // what was already on its way settles
        let frozen = sequences()
        usleep(4_000_000)
        XCTAssertEqual(sequences(), frozen, "the flapping stopped (vxsw local/remote, FRR local/remote sequences)")
        XCTAssertEqual(vxswEntry(f)?["type"]?.stringValue, "local", "vxsw keeps the MAC where it was when frozen: local")
        XCTAssertTrue(((try? f.macs("hv1", vni: 1000)) ?? []).contains { $0.mac == mac && $0.port == "tapd1" },
                      "vxsw's FDB keeps it on tapd1")
        XCTAssertEqual(f.frrMAC("hv2", vni: 1000, mac: mac)?["type"] as? String, "local",
                       "FRR keeps its own: vxsw no longer advertises the MAC")

        // Cleared on both sides (the VMs quiet first, else it starts over).
        for p in pingers { p.stop(grace: 1) }
        pingers = []
        let cleared = try f.control("hv1", ["clear", "evpn", "dup-addr", "vni", "1000", "mac", mac])
        XCTAssertTrue(cleared.succeeded, "vxsw clear evpn dup-addr: \(cleared.output) \(cleared.error)")
        XCTAssertEqual(vxswEntry(f)?["isDuplicate"]?.boolValue, false)
        XCTAssertEqual(vxswEntry(f)?["detectionCount"]?.intValue, 0)
        let again = try f.control("hv1", ["clear", "evpn", "dup-addr", "vni", "1000", "mac", mac])
        XCTAssertFalse(again.succeeded, "a MAC that is not duplicate cannot be cleared, as in FRR")
        _ = try hv2.frr?.vtysh("clear evpn dup-addr vni 1000 mac \(mac)")
        f.expect(10, "FRR cleared it: \(frrText(f, "show evpn mac vni 1000 mac \(mac) json"))") {
            self.frrDuplicate(f) == nil && f.frrMAC("hv2", vni: 1000, mac: self.mac)?["isDuplicate"] as? Bool == false
        }
        XCTAssertEqual(f.stopVxsw("hv1"), 0, "vxsw exit status")
    }

    /// vxsw's `show evpn mac vni 1000 --json` entry for the MAC.
    func vxswEntry(_ f: EVPNFabric) -> JSONValue? {
        f.vxswEVPNMAC("hv1", vni: 1000, mac: mac)
    }

    /// The MAC in FRR's `show evpn mac vni 1000 duplicate json` (nil: not listed).
    func frrDuplicate(_ f: EVPNFabric) -> [String: Any]? {
        guard let text = try? f.node("hv2").frr?.vtysh("show evpn mac vni 1000 duplicate json"),
              let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return ((json["macs"] as? [String: Any])?[mac] ?? json[mac]) as? [String: Any]
    }

    func frrText(_ f: EVPNFabric, _ command: String) -> String { (try? f.node("hv2").frr?.vtysh(command)) ?? "?" }
    func vxswLog(_ f: EVPNFabric) -> String { f.node("hv1").vxsw?.log ?? "" }
}
