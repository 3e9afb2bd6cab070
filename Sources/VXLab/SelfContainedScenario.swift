import Foundation

/// A lab run that builds and removes its own lab (the routed and the real-VM runs): what they
/// share, so `LabRunner` runs, interrupts and reports them alike. Subclasses override `run`
/// and `stop`; `stop` must be idempotent and safe from a signal handler.
class SelfContainedScenario: @unchecked Sendable {
    let binary: String
    let workDir: String
    let iperfSeconds: Int
    let say: (String) -> Void
    let lock = NSLock()
    var report: LabReport

    init(binary: String, workDir: String, iperfSeconds: Int, controlPlane: String, say: @escaping (String) -> Void) {
        self.binary = binary
        self.workDir = workDir
        self.iperfSeconds = iperfSeconds
        self.say = say
        report = LabReport(underlay: "ipv4", controlPlane: controlPlane)
    }

    /// Runs every check; never throws (failures are in the report).
    func run() -> LabReport { report }
    func stop() {}
    /// Where vxsw's log (hv1's) is once the run ended, for the report.
    var logPath: String { workDir + "/vxsw.log" }
    /// What `LabRunner` says once the lab is gone.
    var removedMessage: String { "lab removed" }

    func check(_ name: String, _ body: () throws -> (Bool, String)) {
        let c = LabCheck.run(name, say: say, body)
        report.checks.append(c)
    }
}
