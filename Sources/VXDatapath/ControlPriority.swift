import CVXSW

/// The control plane yields to the workers. A million EVPN routes keep the speaker, the owner
/// of the tables and the fast-path mirror busy for a second or more; on a small host they
/// share CPUs with the workers, and at the same weight the scheduler lets them hold a worker's
/// CPU for a full time slice (measured: ping through the switch p99 4.3 ms while 1M MACs were
/// installed). At nice +5 a worker that wakes preempts them at once.
public enum ControlPriority {
    public static let nice: Int32 = 5

    /// Lowers the calling thread, and every thread it creates from now on, to `nice`.
    /// Returns why not, if it could not be done (not fatal).
    @discardableResult
    public static func lowerCurrentThread() -> String? {
        let err = cvxsw_set_thread_nice(nice)
        return err == 0 ? nil : "cannot lower the control plane's priority (errno \(-err))"
    }
}
