import Foundation
import VXConfig
import VXCore
import VXDatapath

/// VM ports through the life of their VMs. qemu deletes a VM's tap when the VM stops or
/// crashes and creates one of the same name when it starts again; Proxmox and libvirt
/// start VMs after the host's network services. So a VM port whose interface goes away is
/// detached and remembered, and a remembered (or configured, not yet present) port is
/// attached as soon as an interface of its name appears. Link events come from rtnetlink.
extension SwitchDaemon {
    /// Subscribes to link events and follows them on the `vxsw-links` thread until shutdown.
    func startLinkWatcher() throws {
        let monitor = try LinkMonitor()
        let thread = Thread { [weak self] in self?.followLinks(monitor) }
        thread.name = "vxsw-links"
        linkThread = thread
        thread.start()
    }

    /// Attaches a configured port, or remembers it when its interface does not exist yet.
    func addOrAwait(_ port: SwitchConfig.Port) throws {
        guard interfaceExists(port.name) else {
            lock.withLock { waitingPorts[port.name] = port }
            log.warning("port \(port.name): no such interface yet; it is attached when it appears")
            // It may have appeared between the check and the line above (its event then went unseen).
            if interfaceExists(port.name) { attachWaiting(port.name) }
            return
        }
        try addPort(port)
    }

    private func followLinks(_ monitor: LinkMonitor) {
        while !isStopping {
            let (events, overflowed) = monitor.next()
            for event in events {
                switch event {
                case .removed(let name, let ifindex): linkRemoved(name, ifindex: ifindex)
                case .present(let name, _): attachWaiting(name)
                }
            }
            if overflowed {
                // Events were lost: look at every remembered port's interface again.
                log.warning("rtnetlink link events were lost; re-checking the ports that wait for their interface")
                for name in lock.withLock({ Array(waitingPorts.keys) }) where interfaceExists(name) { attachWaiting(name) }
            }
        }
    }

    /// A port's interface is gone: detach the port and remember it for when the name returns.
    private func linkRemoved(_ name: String, ifindex: Int32) {
        let found: (PortID, SwitchConfig.Port)? = lock.withLock {
            guard let id = portNames.first(where: { $0.value == name && $0.key != Self.uplinkID })?.key,
                  let config = portConfigs[id] else { return nil }
            return (id, config)
        }
        guard let (id, config) = found, portOps.withLock({ datapath.ports[id]?.info.ifindex }) == ifindex else { return }
        do {
            try removePort(named: name)
            lock.withLock { waitingPorts[name] = config }
            log.info("\(name) went away (its VM stopped?): port \(id) detached; it is attached again when \(name) reappears")
        } catch {
            log.warning("\(name) went away but could not be detached: \(error)")
        }
    }

    /// An interface of a remembered port's name exists (again): attach it with its settings.
    private func attachWaiting(_ name: String) {
        guard let config = lock.withLock({ waitingPorts[name] }), !isStopping else { return }
        do {
            let (id, _) = try addPort(config)
            log.info("\(name) appeared: attached as port \(id) with its remembered settings")
            reinstallStatics(for: name)
        } catch {
            // Keep waiting: the next event for this name tries again.
            lock.withLock { waitingPorts[name] = config }
            log.warning("\(name) appeared but could not be attached yet: \(error)")
        }
    }

    var isStopping: Bool { stopping.withLock { stopped } }

    func interfaceExists(_ name: String) -> Bool { (try? InterfaceInfo(name: name)) != nil }
}
