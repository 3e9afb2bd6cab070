/// How long an adaptive worker spins after its last packet before it sleeps, learned from
/// the traffic as the kernel's haltpoll cpuidle governor learns its poll window: a spin that
/// ran out (nothing came) halves the window, down to none; a sleep that ended within the full
/// window (spinning would have caught it without a wakeup) restores it.
///
/// Why: on a hypervisor the worker shares CPUs with the guests, and a fixed 50 µs spin after
/// every burst of a guest's TCP (a super-frame every few hundred µs) spins for nothing
/// (`vxsw bench vm`, Benchmarks/results/real-vm-latest.md: the worker at 24–25% of a CPU with
/// the fixed spin at 3a27ff4, 12–17% with this window at 02cae13, both with tunnel GSO). Traffic
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
