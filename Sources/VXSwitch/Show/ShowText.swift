import Foundation
import VXCore
import VXDatapath

/// Human output of `vxsw show`, formatted from the same values as `--json`.
public enum ShowText {
    /// Left-aligned columns separated by two spaces.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    static func drops(_ d: [String: UInt64]) -> String {
        d.isEmpty ? "-" : d.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    public static func ports(_ ports: [PortView]) -> String {
        table(["Port", "Kind", "VNI", "MTU", "RX pkts", "RX bytes", "TX pkts", "TX bytes", "Storm bc/mc/uu pps",
               "MACs/limit (hits)", "Drops", "Kernel drops (\(kernelDropsLegend))"],
              ports.map { p -> [String] in
                  let vnis = p.vnis.isEmpty ? "-" : p.vnis.map(String.init).joined(separator: ",")
                  return [p.name, p.kind, vnis, String(p.mtu), String(p.rxPackets), String(p.rxBytes),
                          String(p.txPackets), String(p.txBytes), storm(p.stormControl),
                          macLimit(p.learnedMACs, p.macLimit, p.macLimitHits), drops(p.drops), kernelDrops(p.kernelDrops)]
              })
    }

    static let kernelDropsLegend = "rx dropped / rx ring full / fill ring empty / tx invalid"

    /// An AF_XDP socket's (or port's) XDP_STATISTICS drops, in `kernelDropsLegend` order.
    static func kernelDrops(_ k: XSKKernelDrops?) -> String {
        k.map { "\($0.rxDropped) / \($0.rxRingFull) / \($0.fillRingEmpty) / \($0.txInvalidDescriptors)" } ?? "-"
    }

    /// `12/16384 (0)`: MACs learned, the limit (`off`: none) and the sources it kept from being learned.
    static func macLimit(_ learned: Int?, _ limit: Int?, _ hits: UInt64?) -> String {
        guard let learned else { return "-" }
        return "\(learned)/\(limit.map(String.init) ?? "off") (\(hits ?? 0))"
    }

    static func storm(_ s: StormLimits?) -> String {
        guard let s else { return "-" }
        func one(_ n: Int) -> String { n == 0 ? "off" : String(n) }
        return "\(one(s.broadcast))/\(one(s.multicast))/\(one(s.unknownUnicast))"
    }

    /// `show consistency`.
    public static func consistency(_ r: ConsistencyReport) -> String {
        var out = r.ok ? "consistent: " : "NOT consistent: "
        out += "owner \(r.ownerEntries) FDB entries, worker \(r.workerEntries)"
        if let x = r.xdpEntries { out += ", XDP maps \(x)" }
        out += String(format: " (%.3f s)\n", r.seconds)
        if !r.differences.isEmpty {
            out += table(["Where", "VNI", "MAC", "Owner's copy", "There"],
                         r.differences.map { [$0.place, $0.vni.map(String.init) ?? "-", $0.mac ?? "-", $0.owner, $0.other] })
        }
        return out
    }

    /// `show mac --count`.
    public static func macCount(_ c: MACCount) -> String {
        var out = "MACs: \(c.total)"
        if !c.byType.isEmpty { out += " (" + c.byType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")" }
        out += "\n"
        for (vni, n) in c.byVNI.sorted(by: { (UInt32($0.key) ?? 0) < (UInt32($1.key) ?? 0) }) { out += "VNI \(vni): \(n)\n" }
        return out
    }

    /// Grouped by VNI like FRR's `show evpn mac vni all`.
    public static func macs(_ table: MACTable) -> String {
        let byVNI = Dictionary(grouping: table.entries, by: \.vni)
        if byVNI.isEmpty { return "No MACs known.\n" }
        return byVNI.keys.sorted().map { vni -> String in
            let rows = byVNI[vni]!
            return "VNI \(vni) #MACs (local and remote) \(rows.count)\n\n" + Self.table(
                ["MAC", "Type", "Intf/Remote VTEP", "Age", "Seq #"],
                rows.map { m in
                    [m.mac, m.type + (m.sticky ? " (sticky)" : ""), m.port ?? m.vtep ?? "-",
                     m.ageSeconds.map { "\($0)s" } ?? "-", String(m.sequence)]
                })
        }.joined(separator: "\n")
    }

    /// Like FRR's `show ip route vrf NAME`.
    public static func routes(_ t: RouteTableView) -> String {
        var out = "VRF \(t.vrf) (L3 VNI \(t.l3VNI), router MAC \(t.routerMAC)):\n"
        out += "Codes: C - connected, H - host route, L - host learned by the gateway, E - remote (through the L3 VNI)\n\n"
        for r in t.routes {
            let vni = r.vni.map { "vni\($0)" } ?? ""
            switch r.type {
            case "connected":
                out += "C>* \(r.prefix) is directly connected, \(vni)\n"
            case "remote":
                out += "E>* \(r.prefix) via \(r.vtep ?? "?") (router MAC \(r.mac ?? "?")), vni\(t.l3VNI) onlink\n"
            default:
                let code = r.type == "host" ? "H" : "L"
                out += "\(code)>* \(r.prefix) via \(r.mac ?? "?"), \(vni)" + (r.port.map { ", port \($0)" } ?? ", not local") + "\n"
            }
        }
        return out
    }

    /// Like FRR's `show evpn vni`.
    public static func vnis(_ vnis: [VNIView]) -> String {
        table(["VNI", "Ports", "# MACs", "MAC limit", "Not learned: limit/full/deferred", "Remote VTEPs (flood)", "RX pkts",
               "TX pkts", "Floods", "ARP/ND suppressed", "Drops"],
              vnis.map { v in
                  [String(v.vni), v.ports.isEmpty ? "-" : v.ports.joined(separator: ","), String(v.localMACs + v.remoteMACs),
                   v.macLimit.map(String.init) ?? "off",
                   "\(v.macLimitHits ?? 0)/\(v.tableFullHits ?? 0)/\(v.learnsDeferred ?? 0)",
                   v.floodList.isEmpty ? "-" : v.floodList.joined(separator: ","), String(v.rxPackets), String(v.txPackets),
                   String(v.floods), "\(v.arpSuppressed)/\(v.ndSuppressed)", drops(v.drops)]
              })
    }

    public static func stats(_ s: StatsView) -> String {
        var out = "Uptime \(s.uptimeSeconds)s, free UMEM frames \(s.freeFrames), FDB events held back \(s.fdbEventsHeldBack) (lost: none)\n\n"
        out += "Ports\n" + ports(s.ports) + "\nVNIs\n" + vnis(s.vnis) + "\n"
        out += "Remote VTEPs\n" + table(["VTEP", "Next hop MAC", "TX pkts", "TX bytes", "Drops"],
                                        s.vteps.map { [$0.address + ($0.learned == true ? " (learned)" : ""), $0.nextHop ?? "unresolved",
                                                       String($0.txPackets), String($0.txBytes), String($0.drops)] })
        out += "\nDrops by reason\n" + table(["Reason", "Frames"], s.drops.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] })
        out += "\nXDP program\n" + table(["Verdict", "Frames"], s.xdp.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] })
        out += "\nAF_XDP sockets (kernel drops: \(kernelDropsLegend))\n"
            + table(["Port", "TX kicks", "Kick errors", "TX in flight", "Fill frames", "Kernel drops"],
                    s.sockets.map { so in
                        [so.port, String(so.txKicks), String(so.txKickErrors), String(so.outstandingTx), String(so.fillFrames),
                         kernelDrops(so.kernelDrops)]
                    })
        if let workers = s.workers {
            out += "\nWorkers\n" + table(["Worker", "CPU", "Receives on", "Frames", "CPU seconds", "Free frames", "Loops"],
                                          workers.map { w in
                                              [String(w.index), w.cpu.map(String.init) ?? "-", w.receivesOn.joined(separator: ","),
                                               String(w.frames), String(format: "%.1f", w.cpuSeconds), String(w.freeFrames), String(w.heartbeat)]
                                          })
        }
        if let t = s.tunnel {
            let c = t.counters
            out += "\nTunnel GSO (super-frames to remote VTEPs, whole): "
                + (t.tap.map { "tap \($0), \(c.superFrames) super-frames = \(c.segments) packets, \(c.refused) refused\n" }
                   ?? "off: \(t.unavailable ?? "no uplink")\n")
        }
        if !s.taps.isEmpty {
            out += "\nTap ports (packet socket, virtio-net header)\n"
                + table(["Port", "RX super-frames", "RX segments", "TX frames", "TX super-frames", "recvmmsg", "sendmmsg"],
                        s.taps.map { t in
                            let c = t.counters
                            return [t.port, String(c.rxSuperFrames), String(c.rxSegments), String(c.txFrames),
                                    String(c.txSuperFrames), String(c.rxCalls), String(c.txCalls)]
                        })
        }
        return out
    }
}
