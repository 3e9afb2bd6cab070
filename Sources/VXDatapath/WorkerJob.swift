import VXCore

/// A change the control plane asks a worker to make between batches, through its job ring
/// (`Worker.post`). The worker is the only thread that touches its tables and socket views;
/// nothing else takes a lock it holds.
enum WorkerJob: @unchecked Sendable {
    /// A table change (the owner of the tables has applied it to its own copy).
    case update(TableUpdate)
    /// An AF_XDP port's sockets join the loop (this worker's views of them); the one at
    /// `transmit` is the one this worker transmits on for the port.
    case addSockets([QueueState], port: PortID, transmit: Int)
    /// A tap's packet socket joins the loop; one worker `receives` on it, every worker may send to it.
    case addTap(fd: Int32, port: PortID, receives: Bool)
    /// Super-frames to remote VTEPs go whole into this tunnel tap (`TunnelTap`); -1: none
    /// (segment them). Post -1 and wait before closing the tap.
    case setTunnel(fd: Int32, uplink: PortID)
    /// Every socket and tap of the port leaves the loop; their frames return to the pool.
    /// (Post it after the XDP program stopped redirecting to them, wait, then close them.)
    case removePort(PortID)
    /// Frames each socket this worker receives on may hold (fill ring and reserve): the UMEM's
    /// share per socket changed because a port came or went (`Datapath.frameBudget`).
    case frameBudget(UInt32)
    /// A read of part of the tables for the consistency audit (`Worker.inspect`).
    case inspect(TableInspection)
}

/// What a worker runs over each batch, beyond `PacketProcessor.process`: the tables it
/// owns change only through `apply`, and it reports what it learned through `publishReports`.
extension PacketProcessor {
    public mutating func superFrameDestination(_ s: Segmenter, from port: PortID, tunnelHeader: UnsafeMutableRawPointer?,
                                               now: UInt32) -> SuperFrameRoute? { nil }
    public mutating func apply(_ update: TableUpdate) -> Bool { false }
    public mutating func publishReports(into ring: SPSCRing<DataplaneReport>) {}
    public func inspect(_ inspection: TableInspection) {}
}
