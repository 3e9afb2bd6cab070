import VXCore
import VXDatapath

/// The switch pipeline is what the AF_XDP worker runs: `process` comes from VXCore;
/// housekeeping ages the FDB a slice at a time (a full pass about every 4 s).
extension SwitchPipeline: PacketProcessor {
    public mutating func housekeeping(now: UInt32) {
        age(now: now, budget: max(256, fdb.slotCount / 4))
    }
}
