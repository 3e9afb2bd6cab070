/// `vxsw bench --sweep`: the engine knobs of issue 4 (ring size, batch size, poll mode, AF_XDP
/// busy polling), each varied alone from the bench's defaults, for vxsw-afxdp at one frame size.
/// The defaults run first and again last, so drift of the shared machine during the sweep shows.
public enum BenchSweep {
    public struct Variant: Sendable {
        /// What differs from the defaults (the row's name in the results).
        public var label: String
        public var knobs: VXSWKnobs
    }

    public static var variants: [Variant] {
        let d = VXSWKnobs.defaults
        var out = [Variant(label: "defaults", knobs: d)]
        for ring in [512, 4096, 8192] {
            var k = d
            k.ringSize = ring
            // Enough frames that every socket's fill ring can hold a full ring (2 sockets, half the pool each).
            k.frames = max(d.frames, 4 * ring)
            out.append(Variant(label: "ring-size \(ring)", knobs: k))
        }
        for batch in [16, 256] {
            var k = d
            k.batchSize = batch
            out.append(Variant(label: "batch-size \(batch)", knobs: k))
        }
        for poll in ["adaptive", "interrupt"] {
            var k = d
            k.poll = poll
            out.append(Variant(label: "poll \(poll)", knobs: k))
        }
        var busy = d
        busy.busyPollMicroseconds = 20
        busy.busyPollBudget = 64
        busy.preferBusyPoll = false
        out.append(Variant(label: "busy-poll 20 µs, budget 64", knobs: busy))
        busy.preferBusyPoll = true
        out.append(Variant(label: "busy-poll 20 µs, budget 64, prefer", knobs: busy))
        busy.napiDefer = true
        out.append(Variant(label: "busy-poll prefer + NAPI defer", knobs: busy))
        out.append(Variant(label: "defaults (again)", knobs: d))
        return out
    }
}

/// One variant's figures.
public struct SweepResult: Codable, Sendable {
    public var label: String
    public var knobs: VXSWKnobs
    public var packets: [PacketResult] = []
}
