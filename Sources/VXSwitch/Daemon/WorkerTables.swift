import VXCore
import VXDatapath
import VXTables

/// The worker as a subscriber of the owner of the tables: each change goes into its job ring.
final class WorkerTables: TableSubscriber {
    let worker: Worker<SwitchPipeline>
    init(_ worker: Worker<SwitchPipeline>) { self.worker = worker }
    func tablesChanged(_ updates: [TableUpdate]) { worker.post(updates) }
    func waitUntilApplied() { worker.waitUntilApplied() }
}
