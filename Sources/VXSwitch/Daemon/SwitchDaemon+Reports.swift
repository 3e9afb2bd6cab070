import Foundation
import VXCore
import VXDatapath

/// What the workers learned, back to the owner of the tables: every 10 ms a thread drains each
/// worker's report ring into the owner's copy (`tables.absorb`, which with several workers
/// hands each what the others learned) and gives local MACs learned,
/// moved, aged or removed, and local IPs learned from ARP/ND, to the EVPN speaker (in the
/// order they came: a VM's MAC before the IP its first ARP carried). So the owner's copy, `show mac` and EVPN see a
/// worker's learning within about 10 ms.
extension SwitchDaemon {
    static let reportInterval: TimeInterval = 0.01

    func startReports() {
        let t = Thread { [weak self] in self?.reportsLoop() }
        t.name = "vxsw-reports"
        reportsThread = t
        t.start()
    }

    private func reportsLoop() {
        runRounds(every: Self.reportInterval) { _ in drainReports() }
    }

    /// Takes everything the workers reported so far (each ring's only consumer).
    func drainReports() {
        var reports: [DataplaneReport] = []
        for w in datapath.workers { while let r = w.reports.pop() { reports.append(r) } }
        guard !reports.isEmpty else { return }
        tables.absorb(reports)
        for case .fdb(let e) in reports where e.kind != .refreshed {
            log.debug("fdb \(e.kind) vni \(e.vni) \(e.mac) -> \(e.destination)")
        }
        for case .neighborLearned(let n) in reports { log.debug("neighbor vni \(n.vni) \(n.ip) at \(n.mac)") }
        advertise(reports)
        for case .hostLearned(let h) in reports { evpn?.localHostLearned(vni: h.vni, mac: h.mac, ip: h.ip) }
    }
}
