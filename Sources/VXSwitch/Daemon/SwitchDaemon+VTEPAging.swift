import VXCore
import VXDatapath

/// VTEPs learned from the data plane (`vtep.accept: any`) leave once no MAC has pointed at
/// them for the FDB aging time (300 s when aging is off): the owner removes them for every
/// copy (`TableUpdate.ageVTEP`, which a VTEP promoted by the control plane meanwhile refuses).
/// Run every 5 s from the resolver's rounds.
extension SwitchDaemon {
    func ageLearnedVTEPs(_ aging: inout LearnedVTEPAging) {
        let now = Worker<SwitchPipeline>.seconds()
        let gone = tables.read { p -> [TableUpdate] in
            guard p.vteps.learnedCount > 0 else { return [] }
            let limit = p.fdb.ageLimit
            return aging.expired(p, now: now, idle: limit == .max ? 300 : limit)
        }
        guard !gone.isEmpty else { return }
        let done = tables.apply(gone)
        log.info("\(done.filter { $0 }.count) learned VTEP(s) aged out")
    }
}
