// The rules: Inspection → [Finding]. Pure functions of the inspection and the
// options; no I/O. One file per area: Rules+NIC, Rules+Tap, Rules+CPU, Rules+System.

public enum Rules {
    public static func evaluate(_ inspection: Inspection) -> [Finding] {
        var out: [Finding] = []
        for nic in inspection.interfaces {
            out += nicRules(nic, inspection.options)
            out += driverNotes(nic, inspection.options)
        }
        out += cpuRules(inspection)
        out += systemRules(inspection)
        // Most severe first, stable otherwise.
        return out.enumerated().sorted { a, b in
            a.element.severity != b.element.severity ? a.element.severity > b.element.severity : a.offset < b.offset
        }.map(\.element)
    }

    /// Ring size vxsw asks for: deep enough to absorb a 10G burst while a worker
    /// is busy, not so deep that the ring stops fitting in cache.
    static let targetRing: UInt32 = 4096
}
