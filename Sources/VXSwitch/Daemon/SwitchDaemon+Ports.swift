import VXCore
import VXDatapath

/// Ports and static MACs at start and at run time (`vxsw port add|del`, `vxsw fdb add|del`).
extension SwitchDaemon {
    /// Attaches a VM port and puts it in its VNI(s). Returns its id.
    @discardableResult
    func addPort(_ port: SwitchConfig.Port) throws -> PortID {
        lock.lock()
        let taken = Set(portNames.keys)
        let exists = portNames.values.contains(port.name)
        lock.unlock()
        guard !exists else { throw SwitchError("port \(port.name)" + ": " + "already attached") }
        let known = Set(config.vnis.map(\.vni))
        for vni in port.vnis where !known.contains(vni) {
            throw SwitchError("port \(port.name)" + ": " + "VNI \(vni) is not configured (add it under vnis)")
        }
        guard let id = (1..<XDPProgram.maxPorts).map({ PortID($0) }).first(where: { !taken.contains($0) }) else {
            throw SwitchError("port \(port.name)" + ": " + "at most \(XDPProgram.maxPorts - 1) ports")
        }
        let kind: PortKind
        switch port.mode {
        case .access(let vni): kind = .access(vni)
        case .trunk(let vlans, let native): kind = .trunk(vlans: vlans, native: native)
        }
        let io = portIO(for: port)
        // On a packet socket the virtio-net header names each partial checksum and the I/O
        // layer completes it (and software GSO writes full ones): the pipeline need not guess.
        let complete = port.completeChecksums && io == .xdp
        let configure: (inout SwitchPipeline, InterfaceInfo) -> Void = { p, info in
            p.setPort(id, PortConfig(kind: kind, mtu: info.mtu, completeChecksums: complete, takesSuperFrames: io == .packet))
        }
        if io == .packet {
            let attached = try datapath.attachPacket(interface: port.name, as: id, configure: configure)
            log.info("attached \(port.name) as port \(id) (access, packet socket with virtio-net header: guest TSO/GRO)")
            lock.lock(); portNames[id] = port.name; packetPorts.insert(id); lock.unlock()
            _ = attached
        } else {
            try attach(interface: port.name, id: id, role: .access, configure: configure)
        }
        lock.lock(); portConfigs[id] = port; lock.unlock()
        return id
    }

    /// `io: auto` gives taps (driver "tun") the packet socket, everything else AF_XDP.
    /// (A missing interface is reported by the attach that follows.)
    func portIO(for port: SwitchConfig.Port) -> PortIO {
        switch port.io {
        case .xdp: return .xdp
        case .packet: return .packet
        case .auto: return InterfaceInfo.driver(port.name) == "tun" ? .packet : .xdp
        }
    }

    /// Detaches a VM port; its learned MACs are flushed.
    func removePort(named name: String) throws {
        lock.lock()
        let id = portNames.first { $0.value == name && $0.key != Self.uplinkID }?.key
        lock.unlock()
        guard let id else { throw SwitchError("port \(name)" + ": " + "no such port") }
        fastPathForget(port: id)
        datapath.detach(id) { p in p.setPort(id, nil) }
        lock.lock(); portNames[id] = nil; portConfigs[id] = nil; packetPorts.remove(id); fastPathDriver[name] = nil; lock.unlock()
        log.info("detached \(name) (port \(id))")
    }

    func portID(named name: String) -> PortID? {
        lock.lock(); defer { lock.unlock() }
        return portNames.first { $0.value == name }?.key
    }

    func addStatic(_ entry: SwitchConfig.FDB.StaticEntry) throws {
        let ok: Bool
        switch entry.target {
        case .port(let name):
            guard let id = portID(named: name) else {
                throw SwitchError("fdb static \(entry.mac)" + ": " + "port \(name) is not attached")
            }
            ok = datapath.worker.sync { $0.processor.addStaticMAC(vni: entry.vni, entry.mac, port: id) }
        case .vtep(let ip):
            ok = datapath.worker.sync { $0.processor.addStaticMAC(vni: entry.vni, entry.mac, vtep: ip) }
        }
        guard ok else { throw SwitchError("fdb static \(entry.mac)" + ": " + "VNI \(entry.vni) is not configured or the table is full") }
    }
}
