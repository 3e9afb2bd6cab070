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
    /// Send guests' super-frames to remote VTEPs whole through a tunnel tap (`TunnelTap`),
    /// when the kernel can; false: always segment them in software.
    public var tunnelGSO: Bool = true

    public init(frameCount: Int = 16384, frameSize: Int = 4096, ringSize: Int = 4096,
                attachMode: XDPAttachMode = .native, numaNode: Int32? = nil, worker: WorkerSettings = .init(),
                busyPoll: XSKBusyPoll? = nil, tunnelGSO: Bool = true) {
        self.frameCount = frameCount
        self.frameSize = frameSize
        self.ringSize = ringSize
        self.attachMode = attachMode
        self.numaNode = numaNode
        self.worker = worker
        self.busyPoll = busyPoll
        self.tunnelGSO = tunnelGSO
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
    /// A tap's in-kernel tap-to-tap path (nil: not a tap, or the kernel refused it: `tapPathProblem`).
    let tapPath: TapPath?
    public let tapPathProblem: String?
    /// The worker that receives on each socket (in `sockets` order), or on the tap.
    public let receivers: [Int]
    /// Tx rings several workers share (fewer sockets than workers), freed after detach.
    let shares: [UnsafeMutablePointer<SocketShare>]
    public var io: PortIO { packetSocket == nil ? .xdp : .packet }
    /// Native or generic XDP (nil: a tap on a packet socket).
    public var attachMode: XDPAttachMode? { link?.mode }
    public var queues: Int { max(sockets.count, packetSocket == nil ? 0 : 1) }
}

/// The AF_XDP datapath: one XDP program for all ports, one UMEM shared by all sockets, and
/// a worker per configured CPU, each running its own `P` (its copy of the tables) over the
/// sockets it receives on: an uplink's rx queues are spread over the workers, each access
/// port goes to the least loaded one. Ports come and go while it runs.
public final class Datapath<P: PacketProcessor> {
    public let program: XDPProgram
    public let umem: UMEM
    public let workers: [Worker<P>]
    public let settings: DatapathSettings
    public private(set) var ports: [PortID: AttachedPort] = [:]
    private let depot: FrameDepot?
    /// The tunnel tap of the uplink, and why there is none when it could not be made.
    public private(set) var tunnelTap: TunnelTap?
    private var tunnelUplink: PortID?
    public private(set) var tunnelError: String?
    /// The uplink's tc program for overlay frames to taps through the kernel's GRO (nil: none,
    /// `tapDeliveryError` says why).
    public private(set) var tapDelivery: UplinkTapDelivery?
    public private(set) var tapDeliveryError: String?
    private var tapDeliveryUplink: PortID?

    /// `processors` are the workers' copies of the tables: one per worker (one per CPU in
    /// `settings.worker.cpus`, or one when that is empty).
    public init(processors: [P], settings: DatapathSettings) throws {
        precondition(!processors.isEmpty, "a datapath needs at least one worker")
        self.settings = settings
        program = try XDPProgram()
        let umem = try UMEM(frameCount: settings.frameCount, frameSize: settings.frameSize,
                            ringSize: settings.ringSize, numaNode: settings.numaNode)
        self.umem = umem
        let count = processors.count
        let depot = count > 1 ? FrameDepot(frameCount: settings.frameCount, frameSize: settings.frameSize,
                                           chunk: max(64, settings.frameCount / count / 4)) : nil
        self.depot = depot
        let workerSettings = settings.worker
        workers = processors.enumerated().map { i, p in
            Worker(processor: p, umem: umem, settings: workerSettings, index: i, count: count, depot: depot)
        }
    }

    /// One worker (the worker count of `settings.worker.cpus` must be 1 or 0).
    public convenience init(processor: P, settings: DatapathSettings) throws {
        try self.init(processors: [processor], settings: settings)
    }

    deinit { shutdown() }

    /// Frames each AF_XDP socket's fill ring holds: half the UMEM shared by the sockets,
    /// counted as at least 4 so the first ports do not take what later ones need, and at most
    /// the ring size; its reserve takes a quarter more (at most 128: `WorkerState.setFrameBudget`).
    /// The rest is for frames in tx rings and in flight, and flood copies. Every socket's
    /// budget follows the socket count (`WorkerJob.frameBudget` when a port comes or goes).
    private func frameBudget(extraSockets: Int = 0) -> Int {
        let sockets = ports.values.reduce(0) { $0 + $1.sockets.count } + extraSockets
        return max(64, min(settings.ringSize, settings.frameCount / (2 * max(4, sockets))))
    }

    /// Tells every worker the budget for the sockets there are now.
    private func rebalanceFrames() {
        let budget = UInt32(frameBudget())
        postToAll { _ in [.frameBudget(budget)] }
    }

    /// Sockets and taps each worker receives on now.
    private var receiveLoad: [Int] {
        var load = [Int](repeating: 0, count: workers.count)
        for p in ports.values { for w in p.receivers { load[w] += 1 } }
        return load
    }

    /// The worker with the fewest sockets and taps to receive on.
    private func leastLoaded(_ load: [Int]) -> Int { load.indices.min { load[$0] < load[$1] } ?? 0 }

    /// Free frames: every worker's pool and the depot.
    public var freeFrames: Int { workers.reduce(depot?.available ?? 0) { $0 + $1.freeFrames } }

    /// Posts `jobs(worker)` to every worker and waits until all have applied them.
    private func postToAll(_ jobs: (Int) -> [WorkerJob]) {
        for w in workers { w.post(jobs: jobs(w.index), wait: false) }
        for w in workers { w.waitUntilApplied() }
    }

    /// Attaches `interface` as port `id`: its sockets join the worker's loop (this returns once
    /// they have), then the XDP program steers frames to them. The caller puts the port in the
    /// tables (a `TableUpdate.setPort` posted before).
    /// `mode` overrides the datapath's attach mode for this port; `auto` falls back to generic
    /// where the driver has no native XDP (`AttachedPort.attachMode` says which it got). A
    /// failed attach leaves nothing behind: no program on the interface, no socket, no port.
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
        // The program first: until `setPort` below it passes the interface's frames to the
        // kernel, and the mode is settled (auto: native, else generic) before any socket is
        // bound — a socket bound for a failed mode and bound again would find its queue taken.
        let link = try program.attach(ifindex: info.ifindex, mode: mode ?? settings.attachMode)
        var sockets: [XSKSocket] = []
        do {
            for q in queueIDs { sockets.append(try createSocket(interface: interface, queue: q)) }
        } catch {
            link.detach()
            throw error
        }
        let target = UInt32(frameBudget(extraSockets: sockets.count))
        // A port with at least a socket per worker (an uplink with a queue per worker) gives
        // each worker its own, round robin: a worker transmits only on one it receives on, so
        // no tx ring is shared. A port with fewer (a single-queue veth) is received on by the
        // least loaded worker and its tx rings are shared by all, under a lock per ring.
        let shared = sockets.count < workers.count
        var load = receiveLoad
        let receivers = sockets.indices.map { i in
            guard shared else { return i % workers.count }
            let w = leastLoaded(load)
            load[w] += 1
            return w
        }
        let shares: [UnsafeMutablePointer<SocketShare>] = shared ? sockets.map { _ in
            let p = UnsafeMutablePointer<SocketShare>.allocate(capacity: 1)
            p.initialize(to: SocketShare())
            return p
        } : []
        postToAll { w in
            let views = sockets.enumerated().map { i, socket in
                var q = QueueState(rx: socket.rx, tx: socket.tx, fill: socket.fill, comp: socket.comp,
                                   fd: socket.fd, port: id.raw, active: true, fillTarget: target)
                q.busyPoll = socket.busyPolls
                q.receives = receivers[i] == w
                q.share = shared ? shares[i] : nil
                return q
            }
            let transmit = receivers.firstIndex(of: w) ?? w % sockets.count
            return [.addSockets(views, port: id, transmit: transmit)]
        }
        // Before the uplink joins the program's ports: the delivery is there before any frame could use it.
        if role == .uplink { openTapDelivery(uplink: id, info: info) }
        do {
            for socket in sockets { try program.setSocket(slot: slot, queue: socket.queue, fd: socket.fd) }
            try program.setPort(ifindex: info.ifindex, slot: slot, role: role)
            let port = AttachedPort(id: id, info: info, role: role, slot: slot, sockets: sockets,
                                    link: link, packetSocket: nil, tapPath: nil, tapPathProblem: nil,
                                    receivers: receivers, shares: shares)
            ports[id] = port
            rebalanceFrames()
            if role == .uplink { openTunnel(uplink: id, ifindex: info.ifindex) }
            return port
        } catch {
            link.detach()
            if tapDeliveryUplink == id { closeTapDelivery() }
            program.removePort(ifindex: info.ifindex)
            for socket in sockets { program.removeSocket(slot: slot, queue: socket.queue) }
            postToAll { _ in [.removePort(id)] }
            for p in shares { p.deallocate() }
            throw error
        }
    }

    /// Gives the workers a tunnel tap toward the uplink `id`; where the kernel cannot, keeps
    /// the reason (`tunnelError`) and super-frames are segmented as before.
    private func openTunnel(uplink id: PortID, ifindex: Int32) {
        guard settings.tunnelGSO else { tunnelError = "off (datapath.tunnel-gso: false)"; return }
        closeTunnel()
        do {
            let tap = try TunnelTap(uplinkIfindex: ifindex)
            tunnelTap = tap
            tunnelUplink = id
            tunnelError = nil
            postToAll { _ in [.setTunnel(fd: tap.fd, uplink: id)] }
        } catch {
            tunnelError = "\(error)"
        }
    }

    /// Attaches the uplink's tap delivery (UplinkTapDelivery); where the kernel refuses it, keeps
    /// the reason and frames to taps go through the worker as before.
    private func openTapDelivery(uplink id: PortID, info: InterfaceInfo) {
        closeTapDelivery()
        do {
            tapDelivery = try UplinkTapDelivery(program: program, uplink: info)
            tapDeliveryUplink = id
            tapDeliveryError = nil
        } catch {
            tapDeliveryError = "\(error)"
        }
    }

    private func closeTapDelivery() {
        tapDelivery?.detach()
        tapDelivery = nil
        tapDeliveryUplink = nil
    }

    /// Takes the tunnel tap out of every worker, then closes it.
    private func closeTunnel() {
        guard tunnelTap != nil else { return }
        postToAll { _ in [.setTunnel(fd: -1, uplink: PortID(0))] }
        tunnelTap = nil
        tunnelUplink = nil
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
        var tapPath: TapPath?, problem: String?
        do { tapPath = try TapPath(program: program, socket: socket) } catch { problem = "\(error)" }
        let receiver = leastLoaded(receiveLoad)
        postToAll { w in [.addTap(fd: socket.fd, port: id, receives: w == receiver)] }
        // Slot -1: it has no entry in the XDP program's tables.
        let port = AttachedPort(id: id, info: info, role: .access, slot: -1, sockets: [],
                                link: nil, packetSocket: socket, tapPath: tapPath, tapPathProblem: problem,
                                receivers: [receiver], shares: [])
        ports[id] = port
        return port
    }

    /// Detaches port `id`: the XDP program first (no more frames), then the sockets leave the
    /// loop (their frames return to the pool; this waits for the worker), then they are closed.
    /// The caller takes the port out of the tables.
    public func detach(_ id: PortID) {
        guard let port = ports.removeValue(forKey: id) else { return }
        if id == tunnelUplink { closeTunnel() }
        port.tapPath?.detach()
        port.link?.detach()
        if id == tapDeliveryUplink { closeTapDelivery() } // after XDP: nothing passes a frame up for it any more
        if port.link != nil { program.removePort(ifindex: port.info.ifindex) }
        for socket in port.sockets { program.removeSocket(slot: port.slot, queue: socket.queue) }
        postToAll { _ in [.removePort(id)] }
        for p in port.shares { p.deallocate() }
        if !port.sockets.isEmpty { rebalanceFrames() }
        // The sockets are deleted here, when `port` goes out of scope.
    }

    public func start() { for w in workers { w.start() } }

    /// Stops the workers and detaches every port. Safe to call twice.
    public func shutdown() {
        for w in workers { w.stop() }
        for id in Array(ports.keys) { detach(id) }
    }

    // MARK: Readers (any thread; the workers go on)

    /// Returns once every worker has applied everything posted to it so far.
    public func waitUntilApplied() { for w in workers { w.waitUntilApplied() } }

    /// Every socket once, seen by the worker that receives on it, with every worker's tx
    /// kicks on it added up.
    public var queueCounters: [QueueCounters] {
        Self.mergedByFD(workers.map(\.queueCounters), fd: \.fd) { have, q in
            let kicks = have.txKicks &+ q.txKicks, errors = have.txKickErrors &+ q.txKickErrors
            if q.receives { have = q }
            have.txKicks = kicks
            have.txKickErrors = errors
        }
    }

    /// Super-frames every worker sent whole through the tunnel tap.
    public var tunnelCounters: TunnelCounters {
        workers.reduce(into: TunnelCounters()) { $0.add($1.tunnelCounters) }
    }

    /// Every tap once: its counters summed over the workers.
    public var tapCounters: [TapPortCounters] {
        Self.mergedByFD(workers.map(\.tapCounters), fd: \.fd) { have, t in have.counters.add(t.counters) }
    }

    /// One row per socket from every worker's rows, in first-seen order, merged by `merge`.
    private static func mergedByFD<T>(_ lists: [[T]], fd: KeyPath<T, Int32>, merge: (inout T, T) -> Void) -> [T] {
        var byFD: [Int32: T] = [:]
        var order: [Int32] = []
        for row in lists.joined() {
            if var have = byFD[row[keyPath: fd]] { merge(&have, row); byFD[row[keyPath: fd]] = have }
            else { byFD[row[keyPath: fd]] = row; order.append(row[keyPath: fd]) }
        }
        return order.compactMap { byFD[$0] }
    }

    /// Why workers could not be pinned, if any could not.
    public var pinError: String? {
        let errors = workers.compactMap(\.pinError)
        return errors.isEmpty ? nil : errors.joined(separator: "; ")
    }
}
