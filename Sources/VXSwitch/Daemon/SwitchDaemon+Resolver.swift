import Foundation
import VXCore
import VXDatapath

/// Underlay next hops: for every remote VTEP the kernel's route and neighbour tables say
/// which MAC to put in the outer Ethernet header. Unresolved VTEPs are looked up twice a
/// second (the kernel is asked to resolve them, NTF_USE), resolved ones every 5 s so a
/// changed neighbour is followed. Every 5 s its rounds also age learned VTEPs
/// (`SwitchDaemon+VTEPAging.swift`).
extension SwitchDaemon {
    func startResolver() {
        let t = Thread { [weak self] in self?.resolverLoop() }
        t.name = "vxsw-resolver"
        resolverThread = t
        t.start()
    }

    private func resolverLoop() {
        let netlink: RouteNetlink
        do { netlink = try RouteNetlink() } catch {
            log.error("VTEP resolution disabled: \(error)")
            return
        }
        var known: [IPAddress: MACAddress] = [:]
        var aging = LearnedVTEPAging()
        // The first round runs at once, so flood lists resolve before the first frames.
        runRounds(every: 0.5) { round in
            if round % 10 == 0 { ageLearnedVTEPs(&aging) }
            let vteps: [(IPAddress, MACAddress?)] = tables.read { p in
                p.vteps.entries.filter(\.active).map { ($0.ip, $0.nextHop) }
            }
            for (ip, current) in vteps where current == nil || round % 10 == 0 {
                let mac = resolve(ip, netlink: netlink)
                if mac != current {
                    tables.apply(.setNextHop(ip, mac))
                    if let mac { log.info("VTEP \(ip): next hop \(mac)") } else if known[ip] != nil { log.warning("VTEP \(ip): next hop lost") }
                    known[ip] = mac
                }
            }
        }
    }

    /// Calls `body` with rounds 1, 2, ... — the first at once, then every `seconds` — until
    /// the daemon stops; the wait ends early on stop. For the daemon's periodic threads.
    func runRounds(every seconds: TimeInterval, _ body: (Int) -> Void) {
        var round = 0
        while true {
            stopping.lock()
            if round > 0 && !stopped { _ = stopping.wait(until: Date().addingTimeInterval(seconds)) }
            let done = stopped
            stopping.unlock()
            if done { return }
            round += 1
            body(round)
        }
    }

    /// The MAC of the next hop toward `vtep`, asking the kernel to resolve it if unknown.
    private func resolve(_ vtep: IPAddress, netlink: RouteNetlink) -> MACAddress? {
        guard let route = try? netlink.route(to: vtep) else { return nil }
        if let uplink, route.ifindex != uplink.ifindex {
            log.debug("VTEP \(vtep) is routed via ifindex \(route.ifindex), not the uplink \(uplink.name)")
        }
        let hop = route.gateway ?? vtep
        if let mac = try? netlink.neighbor(hop, ifindex: route.ifindex) { return mac }
        try? netlink.triggerResolution(hop, ifindex: route.ifindex)
        return nil
    }
}
