/// How long an adaptive worker spins after its last packet before it sleeps, learned from
/// the traffic as the kernel's haltpoll cpuidle governor learns its poll window: a spin that
/// ran out (nothing came) halves the window, down to none; a sleep that ended within the full
/// window (spinning would have caught it without a wakeup) restores it.
///
/// Why: on a hypervisor the worker shares CPUs with the guests, and a fixed 50 µs spin after
/// every burst of a guest's TCP (a super-frame every few hundred µs) burned a quarter of a CPU
/// for nothing (`vxsw bench vm`: the worker at 25% with the spin, 5–12% without). Traffic
/// denser than the window keeps it open, so a busy port still avoids a wakeup per batch.
struct SpinWindow {
    /// The widest window, in nanoseconds (`WorkerSettings.spinMicroseconds`).
    let limit: UInt64
    /// The window now.
    private(set) var current: UInt64

    init(microseconds: Int) {
        limit = UInt64(max(0, microseconds)) &* 1000
        current = limit
    }

    /// The worker spun the whole window and found nothing: it goes to sleep.
    mutating func ranOut() {
        current /= 2
        if current < 1000 { current = 0 }
    }

    /// The worker slept `nanoseconds` before traffic (or a job, or the timeout) woke it.
    mutating func woke(after nanoseconds: UInt64) {
        if nanoseconds <= limit { current = limit }
    }
}
