/// What a source MAC's learning did, counted: the per-VNI MAC limit (`macLimitHits` of the
/// VNI), the port's MAC limit (`macLimitHits` of the port), a full table (`tableFullHits` of
/// the VNI) and a learn deferred because the event stream toward the owner is full
/// (`learnsDeferred` of the VNI). The frame is forwarded in every case, as a bridge does.
extension SwitchPipeline {
    @inlinable @inline(__always)
    mutating func countLearning(_ outcome: LearnOutcome, bd: UInt16, port: PortID) {
        switch outcome {
        case .refreshed, .learned, .moved, .kept: return
        case .limited: counters.vnis[Int(bd)].macLimitHits &+= 1
        case .portLimited: counters.ports[Int(port.raw)].macLimitHits &+= 1
        case .full: counters.vnis[Int(bd)].tableFullHits &+= 1
        case .deferred: counters.vnis[Int(bd)].learnsDeferred &+= 1
        }
    }
}
