import VXConfig
import VXCore
import VXDatapath

/// Ports and static MACs at start and at run time (`vxsw port add|del`, `vxsw fdb add|del`).
extension SwitchDaemon {
    /// Attaches a VM port and puts it in its VNI(s). Returns its id, and false when it was
    /// already attached with the same settings (a hook that runs twice is not an error).
    @discardableResult
    func addPort(_ port: SwitchConfig.Port) throws -> (id: PortID, new: Bool) {
        portOps.lock(); defer { portOps.unlock() }
        lock.lock()
        let taken = Set(portNames.keys)
        let existing = portNames.first { $0.value == port.name }?.key
        let existingConfig = existing.flatMap { portConfigs[$0] }
        waitingPorts[port.name] = nil
        lock.unlock()
        if let existing {
            guard existingConfig == port else {
                throw SwitchError("port \(port.name)" + ": " + "already attached with other settings (vxsw port del \(port.name) first)")
            }
            return (existing, false)
        }
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
        let portConfig = { (info: InterfaceInfo) in
            PortConfig(kind: kind, mtu: info.mtu, completeChecksums: complete, takesSuperFrames: io == .packet,
                       storm: port.stormControl ?? self.config.stormControl, macLimit: self.config.macLimit(of: port))
        }
        if io == .packet {
            let info = try InterfaceInfo(name: port.name)
            tables.apply(.setPort(id, portConfig(info)), wait: true)
            do {
                let attached = try datapath.attachPacket(interface: port.name, as: id)
                if let problem = attached.tapPathProblem {
                    log.warning("\(port.name): no in-kernel tap-to-tap path (\(problem)); its frames to other taps go through the worker")
                }
            } catch {
                tables.apply(.setPort(id, nil), wait: true)
                throw error
            }
            log.info("attached \(port.name) as port \(id) (access, packet socket with virtio-net header: guest TSO/GRO)")
            lock.lock(); portNames[id] = port.name; packetPorts.insert(id); lock.unlock()
            fastPath?.markStructural() // its ifindex joins the fast path's ports (the tap path)
        } else {
            try attach(interface: port.name, id: id, role: .access, portConfig: portConfig)
        }
        lock.lock(); portConfigs[id] = port; lock.unlock()
        return (id, true)
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

    /// Detaches a VM port; its learned MACs are flushed. Returns false when it was not
    /// attached (nothing to do: a hook that runs twice is not an error).
    @discardableResult
    func removePort(named name: String) throws -> Bool {
        portOps.lock(); defer { portOps.unlock() }
        lock.lock()
        let id = portNames.first { $0.value == name && $0.key != Self.uplinkID }?.key
        let isUplink = name == portNames[Self.uplinkID]
        let waited = isUplink ? false : waitingPorts.removeValue(forKey: name) != nil
        lock.unlock()
        if isUplink { throw SwitchError("port \(name)" + ": " + "is the uplink") }
        guard let id else { return waited }
        fastPathForget(port: id)
        datapath.detach(id)
        tables.apply(.setPort(id, nil), wait: true)
        lock.lock(); portNames[id] = nil; portConfigs[id] = nil; packetPorts.remove(id); fastPathDriver[name] = nil; lock.unlock()
        fastPath?.markStructural()
        log.info("detached \(name) (port \(id))")
        return true
    }

    func portID(named name: String) -> PortID? {
        lock.lock(); defer { lock.unlock() }
        return portNames.first { $0.value == name }?.key
    }

    func addStatic(_ entry: SwitchConfig.FDB.StaticEntry) throws {
        guard !entry.mac.isMulticast, !entry.mac.isZero else {
            throw SwitchError("fdb static \(entry.mac): not a unicast address (broadcast, multicast and all-zero MACs cannot be static entries)")
        }
        // Under `portOps`: the port cannot be detached (its id given to another) between the
        // lookup of its id and the install.
        portOps.lock(); defer { portOps.unlock() }
        let update: TableUpdate
        switch entry.target {
        case .port(let name):
            guard let id = portID(named: name) else {
                throw SwitchError("fdb static \(entry.mac)" + ": " + "port \(name) is not attached")
            }
            update = .addStaticPort(entry.vni, entry.mac, id)
        case .vtep(let ip):
            update = .addStaticVTEP(entry.vni, entry.mac, ip)
        }
        guard tables.apply(update, wait: true) else { throw SwitchError("fdb static \(entry.mac)" + ": " + "VNI \(entry.vni) is not configured or the table is full") }
    }
}
