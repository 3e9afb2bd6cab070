import VXCore

/// What a worker runs over each received batch. The switch pipeline (VXCore) conforms;
/// the worker is generic over it, so the per-packet path has no existential or closure.
public protocol PacketProcessor {
    /// Handles every frame of `batch`: each is transmitted through `io` or released.
    mutating func process<IO: FrameIO>(_ batch: UnsafeMutableBufferPointer<FrameDescriptor>,
                                       from port: PortID, now: UInt32, io: inout IO)
    /// Periodic work between batches (FDB aging); called about once a second.
    mutating func housekeeping(now: UInt32)
    /// Counts frames the I/O layer dropped before the pipeline saw them (e.g. a tap's
    /// malformed super-frame, or the kernel's receive-buffer drops).
    mutating func countDrops(_ reason: DropReason, port: PortID, count: UInt64)
    /// Where a GSO super-frame from a tap may go whole (another tap; with a tunnel tap, a
    /// remote VTEP: then the headers are written at `tunnelHeader`), having learned and
    /// counted it; nil: segment it and `process` the segments.
    mutating func superFrameDestination(_ s: Segmenter, from port: PortID, tunnelHeader: UnsafeMutableRawPointer?,
                                        now: UInt32) -> SuperFrameRoute?
    /// Applies a table change between batches (`WorkerJob.update`); false when it could not.
    mutating func apply(_ update: TableUpdate) -> Bool
    /// Hands what the tables learned since the last call to the owner's report ring.
    mutating func publishReports(into ring: SPSCRing<DataplaneReport>)
    /// Answers a read of part of the tables (the consistency audit), between batches.
    func inspect(_ inspection: TableInspection)
}
