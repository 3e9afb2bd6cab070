import Foundation
import VXLabKit

/// Starts `vxsw run --config CONFIG` (this binary) inside a namespace and waits until its
/// control socket answers; the returned child is stopped by PID (`stop()`, or when it goes away).
/// One way to start a switch for the lab, the EVPN fabric and the benchmarks.
public func startSwitchProcess(binary: String, config: String, socket: String, in ns: NetworkNamespace,
                               logPath: String, what: String = "vxsw") throws -> ChildProcess {
    let child = try ns.spawn([binary, "run", "--config", config], logPath: logPath)
    let ready = waitUntil(timeout: 20) {
        guard child.isRunning else { return true }
        return (try? VXLabKit.run([binary, "show", "ports", "--socket", socket], check: false).succeeded) == true
    }
    guard ready, child.isRunning else {
        let state = child.isRunning ? "no control socket" : "exited \(child.exitStatus ?? -1)"
        child.stop()
        throw LabError("\(what) did not come up (\(state)):\n\(child.log.suffix(3000))")
    }
    return child
}
