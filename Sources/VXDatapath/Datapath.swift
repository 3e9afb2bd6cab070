import Glibc
import VXCore

/// Settings for the AF_XDP datapath as a whole.
public struct DatapathSettings: Sendable {
    public var frameCount: Int
    public var frameSize: Int
    public var ringSize: Int
    public var attachMode: XDPAttachMode
    /// NUMA node for the UMEM; nil: the uplink's node when it has one.
    public var numaNode: Int32?
    public var worker: WorkerSettings
    /// Busy-poll socket options for every AF_XDP socket; nil: none (interrupt-driven NAPI).
    public var busyPoll: XSKBusyPoll?

    public init(frameCount: Int = 16384, frameSize: Int = 4096, ringSize: Int = 4096,
                attachMode: XDPAttachMode = .native, numaNode: Int32? = nil, worker: WorkerSettings = .init(),
                busyPoll: XSKBusyPoll? = nil) {
        self.frameCount = frameCount
        self.frameSize = frameSize
        self.ringSize = ringSize
        self.attachMode = attachMode
        self.numaNode = numaNode
        self.worker = worker
        self.busyPoll = busyPoll
    }
}

/// How a port's frames reach the worker.
public enum PortIO: String, Sendable, Codable {
    /// AF_XDP sockets steered by the XDP program (and the XDP fast path): the uplink, veths.
    case xdp
    /// A packet socket carrying the virtio-net header (`PacketSocket`): VM taps, so guest
    /// TSO super-frames arrive whole and large frames go back to the guest.
    case packet
}

/// A port as the datapath holds it: the interface, its sockets, and its XDP attachment
/// (`io == .xdp`) or its packet socket (`io == .packet`).
public struct AttachedPort {
    public let id: PortID
    public let info: InterfaceInfo
    public let role: XDPPortRole
    public let slot: Int
    let sockets: [XSKSocket]
    let link: XDPLink?
    let packetSocket: PacketSocket?
    public var io: PortIO { packetSocket == nil ? .xdp : .packet }
    public var queues: Int { max(sockets.count, packetSocket == nil ? 0 : 1) }
}

/// The AF_XDP datapath: one XDP program for all ports, one UMEM shared by all sockets,
/// one worker thread running `P` over every socket. Ports come and go while it runs.
public final class Datapath<P: PacketProcessor> {
    public let program: XDPProgram
    public let umem: UMEM
    public let worker: Worker<P>
    public let settings: DatapathSettings
    public private(set) var ports: [PortID: AttachedPort] = [:]

    public init(processor: P, settings: DatapathSettings) throws {
        self.settings = settings
        program = try XDPProgram()
        umem = try UMEM(frameCount: settings.frameCount, frameSize: settings.frameSize,
                        ringSize: settings.ringSize, numaNode: settings.numaNode)
        worker = Worker(processor: processor, umem: umem, settings: settings.worker)
    }

    deinit { shutdown() }

    /// Fill-ring frames per socket: the ring size, or less when many sockets share the UMEM,
    /// so rx never starves tx and flood copies of frames.
    private func fillTarget(extraSockets: Int) -> Int {
        let sockets = ports.values.reduce(0) { $0 + $1.sockets.count } + extraSockets
        return max(64, min(settings.ringSize, settings.frameCount / (2 * max(1, sockets))))
    }

    /// Attaches `interface` as port `id`: its sockets join the worker's loop (this returns once
    /// they have), then the XDP program steers frames to them. The caller puts the port in the
    /// tables (a `TableUpdate.setPort` posted before).
    /// `mode` overrides the datapath's attach mode for this port (e.g. generic as a fallback);
    /// `queues` limits an uplink to some of its rx queues (nil: all of them).
    public func attach(interface: String, as id: PortID, role: XDPPortRole, mode: XDPAttachMode? = nil,
                       queues wanted: [Int]? = nil) throws -> AttachedPort {
        guard ports[id] == nil else { throw DatapathError("attach \(interface)", errno: EEXIST) }
        if let other = ports.values.first(where: { $0.info.name == interface }) {
            throw DatapathError("attach \(interface)", errno: EEXIST, hint: "already port \(other.id)")
        }
        let info = try InterfaceInfo(name: interface)
        guard let slot = (0..<XDPProgram.maxPorts).first(where: { s in !ports.values.contains { $0.slot == s } }) else {
            throw DatapathError("attach \(interface)", errno: ENOSPC, hint: "at most \(XDPProgram.maxPorts) ports")
        }
        // Access ports (VM taps, veths) use queue 0; the uplink gets a socket per rx queue.
        let all = Array(0..<(role == .uplink ? min(info.rxQueues, XDPProgram.maxQueues) : 1))
        let queueIDs = wanted ?? all
        if let bad = queueIDs.first(where: { !all.contains($0) }) {
            throw DatapathError("attach \(interface) queue \(bad)", errno: EINVAL, hint: "\(interface) has rx queues 0..<\(all.count)")
        }
        var sockets: [XSKSocket] = []
        for q in queueIDs {
            sockets.append(try createSocket(interface: interface, queue: q))
        }
        let target = UInt32(fillTarget(extraSockets: sockets.count))
        let states = sockets.map { socket in
            var q = QueueState(rx: socket.rx, tx: socket.tx, fill: socket.fill, comp: socket.comp,
                               fd: socket.fd, port: id.raw, active: true, fillTarget: target)
            q.busyPoll = socket.busyPolls
            return q
        }
        worker.post(jobs: [.addSockets(states, port: id)], wait: true)
        do {
            for socket in sockets { try program.setSocket(slot: slot, queue: socket.queue, fd: socket.fd) }
            try program.setPort(ifindex: info.ifindex, slot: slot, role: role)
            let link = try program.attach(ifindex: info.ifindex, mode: mode ?? settings.attachMode)
            let port = AttachedPort(id: id, info: info, role: role, slot: slot, sockets: sockets,
                                    link: link, packetSocket: nil)
            ports[id] = port
            return port
        } catch {
            program.removePort(ifindex: info.ifindex)
            for socket in sockets { program.removeSocket(slot: slot, queue: socket.queue) }
            worker.post(jobs: [.removePort(id)], wait: true)
            throw error
        }
    }

    /// An AF_XDP socket on (interface, queue). The kernel frees a closed socket's hold on its
    /// queue a moment later (deferred work), so a port deleted and added at once (a VM
    /// reboot's hooks) sees EBUSY for a few milliseconds: retry for up to 2 s.
    private func createSocket(interface: String, queue: Int) throws -> XSKSocket {
        var waited = 0
        while true {
            do {
                return try XSKSocket(umem: umem, interface: interface, queue: queue, ringSize: settings.ringSize,
                                     busyPoll: settings.busyPoll)
            } catch let e as DatapathError where e.errno == EBUSY && waited < 2000 {
                usleep(20_000)
                waited += 20
            }
        }
    }

    /// Attaches `interface` (a VM's tap) as access port `id` through a packet socket with the
    /// virtio-net header instead of AF_XDP: no XDP program is attached to it. Returns once the
    /// socket is in the worker's loop.
    public func attachPacket(interface: String, as id: PortID) throws -> AttachedPort {
        guard ports[id] == nil else { throw DatapathError("attach \(interface)", errno: EEXIST) }
        if let other = ports.values.first(where: { $0.info.name == interface }) {
            throw DatapathError("attach \(interface)", errno: EEXIST, hint: "already port \(other.id)")
        }
        let info = try InterfaceInfo(name: interface)
        let socket = try PacketSocket(interface: interface, ifindex: info.ifindex)
        worker.post(jobs: [.addTap(fd: socket.fd, port: id)], wait: true)
        // Slot -1: it has no entry in the XDP program's tables.
        let port = AttachedPort(id: id, info: info, role: .access, slot: -1, sockets: [],
                                link: nil, packetSocket: socket)
        ports[id] = port
        return port
    }

    /// Detaches port `id`: the XDP program first (no more frames), then the sockets leave the
    /// loop (their frames return to the pool; this waits for the worker), then they are closed.
    /// The caller takes the port out of the tables.
    public func detach(_ id: PortID) {
        guard let port = ports.removeValue(forKey: id) else { return }
        port.link?.detach()
        if port.link != nil { program.removePort(ifindex: port.info.ifindex) }
        for socket in port.sockets { program.removeSocket(slot: port.slot, queue: socket.queue) }
        worker.post(jobs: [.removePort(id)], wait: true)
        // The sockets are deleted here, when `port` goes out of scope.
    }

    public func start() { worker.start() }

    /// Stops the worker and detaches every port. Safe to call twice.
    public func shutdown() {
        worker.stop()
        for id in Array(ports.keys) { detach(id) }
    }
}
