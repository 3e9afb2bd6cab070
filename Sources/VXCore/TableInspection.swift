/// A read of part of a worker's own tables, made by the worker between batches (posted with
/// `Worker.inspect`), for the consistency audit: the worker is never stopped and nothing of
/// it is copied beyond the page asked for.
public final class TableInspection: @unchecked Sendable {
    public enum Request: Sendable {
        /// Up to `limit` FDB entries from slot `from` on (`FDB.page`); from 0 also the VTEPs
        /// and the VNI → bridge-domain map.
        case page(from: Int, limit: Int)
        /// These FDB keys, where present.
        case keys([UInt64])
    }

    public let request: Request
    public internal(set) var entries: [FDBEntry] = []
    public internal(set) var next: Int?
    public internal(set) var vteps: [VTEP] = []
    public internal(set) var domains: [VNI: UInt16] = [:]

    public init(_ request: Request) { self.request = request }
}

extension SwitchPipeline {
    /// Answers `inspection` from these tables (the worker calls it between batches).
    public func inspect(_ inspection: TableInspection) {
        switch inspection.request {
        case .page(let from, let limit):
            (inspection.entries, inspection.next) = fdb.page(from: from, limit: limit)
            if from == 0 {
                inspection.vteps = vteps.entries
                for d in bridgeDomains.domains where d.active {
                    if let bd = bridgeDomains.index(of: d.vni) { inspection.domains[d.vni] = bd }
                }
            }
        case .keys(let keys):
            inspection.entries = keys.compactMap { fdb.entry(key: $0) }
        }
    }
}

extension FDBEntry {
    /// Both forward alike: same place, origin, stickiness and sequence (last-seen aside).
    public func forwardsLike(_ other: FDBEntry) -> Bool {
        key == other.key && destination == other.destination && origin == other.origin
            && sticky == other.sticky && sequence == other.sequence
    }
}
