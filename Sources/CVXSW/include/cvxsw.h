// The one place where vxsw touches libxdp, libbpf and libnuma headers.
// libxdp's ring helpers (xsk_ring_prod__reserve, ...) are static inline and are
// called directly from Swift; they inline even in debug builds.
#ifndef CVXSW_H
#define CVXSW_H

#include <stdint.h>
#include <stddef.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include <linux/if_link.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>
/* The fast path's map value structs, shared with the BPF program (one layout). */
#include "../../../BPF/lib/fast_types.h"
#include <numa.h>

/// Silences libbpf's default stderr logging unless `verbose` is set; vxsw reports errors itself.
void cvxsw_libbpf_set_verbose(int verbose);

/// Runs an XDP program once over `data` with BPF_PROG_RUN; returns the XDP verdict or -errno.
/// `out`/`out_len` receive the (possibly rewritten) frame; `ingress_ifindex` is set in the ctx
/// when non-zero so the program sees the interface it would be attached to.
int cvxsw_xdp_test_run(int prog_fd, const void *data, uint32_t len, void *out, uint32_t *out_len,
                       uint32_t ingress_ifindex, uint32_t rx_queue_index, uint32_t repeat);

/// Loads the smallest XDP program (XDP_DROP, two instructions): the baseline a program's
/// BPF_PROG_RUN time is compared with. Returns its fd or -errno.
int cvxsw_xdp_drop_program_load(void);

/// Live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES): the program's XDP_TX/REDIRECT verdicts are
/// carried out for real, `repeat` times, from `ingress_ifindex`. Returns 0 or -errno.
int cvxsw_xdp_live_run(int prog_fd, const void *data, uint32_t len, uint32_t ingress_ifindex,
                       uint32_t repeat, uint32_t batch_size);

/// `cvxsw_xdp_live_run` that also returns the kernel's mean time per frame (opts.duration, ns)
/// in `duration_ns`. Live mode starts every run from the frame as given (plain BPF_PROG_RUN
/// repeats over the frame the previous run rewrote), so it times a program that rewrites.
int cvxsw_xdp_live_run_timed(int prog_fd, const void *data, uint32_t len, uint32_t ingress_ifindex,
                             uint32_t repeat, uint32_t batch_size, uint32_t *duration_ns);

// struct mmsghdr and recvmmsg/sendmmsg need _GNU_SOURCE, which Glibc's Swift module does
// not define: the same layout under our own name, and the system calls directly (tap ports).
struct cvxsw_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};
int cvxsw_recvmmsg(int fd, struct cvxsw_mmsghdr *msgs, unsigned int vlen, int flags);
int cvxsw_sendmmsg(int fd, struct cvxsw_mmsghdr *msgs, unsigned int vlen, int flags);


/// A spin lock on one word, for an AF_XDP tx ring that several workers share (a port with
/// fewer sockets than workers): held for one batch's reserve/submit, never across a syscall.
static inline void cvxsw_spin_lock(int32_t *word) {
    while (__atomic_exchange_n(word, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(word, __ATOMIC_RELAXED)) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }
}
static inline int cvxsw_spin_trylock(int32_t *word) { return !__atomic_exchange_n(word, 1, __ATOMIC_ACQUIRE); }
static inline void cvxsw_spin_unlock(int32_t *word) { __atomic_store_n(word, 0, __ATOMIC_RELEASE); }
static inline int32_t cvxsw_atomic_exchange32(int32_t *word, int32_t value) { return __atomic_exchange_n(word, value, __ATOMIC_ACQ_REL); }
static inline int32_t cvxsw_atomic_load32(int32_t *word) { return __atomic_load_n(word, __ATOMIC_ACQUIRE); }

/// The calling thread's CPU time in nanoseconds (CLOCK_THREAD_CPUTIME_ID), for per-worker cost.
uint64_t cvxsw_thread_cpu_ns(void);

#endif

/// Pins the calling thread to one CPU. Returns 0 or -errno.
int cvxsw_pin_current_thread(int cpu);

/// The layout of struct `name` in a loaded object's BTF: its size, and the byte offset of each
/// member in `offsets` with its name in `names` (up to `max`). Returns the member count, or -1.
int cvxsw_btf_struct_layout(struct bpf_object *obj, const char *name, uint32_t *size,
                            const char **names, uint32_t *offsets, int max);

/// Sets the calling thread's nice value (threads it creates inherit it). Returns 0 or -errno.
int cvxsw_set_thread_nice(int nice);

/// Creates a bpf_link attaching an XDP program to `ifindex`; `xdp_flags` is
/// XDP_FLAGS_SKB_MODE or XDP_FLAGS_DRV_MODE (0: driver's choice). Returns the link fd or -errno.
/// Closing the fd (or the process dying) detaches the program: nothing is left behind.
int cvxsw_xdp_link_create(int prog_fd, int ifindex, uint32_t xdp_flags);

/// Sum of a per-CPU u64 array map slot over all possible CPUs (or -errno).
int cvxsw_percpu_u64_sum(int map_fd, uint32_t key, uint64_t *sum);

/// The lowest CPU this process may run on (its affinity mask).
int cvxsw_first_allowed_cpu(void);

/// Sets allowed[i] = 1 for each CPU i < max in this process's affinity mask (sched_getaffinity);
/// 0, or -errno.
int cvxsw_allowed_cpus(uint8_t *allowed, int max);

/// Names the calling thread (shown by top -H, ps -L, /proc/PID/task/TID/comm; 15 characters).
void cvxsw_set_thread_name(const char *name);

/// Creates a bpf_link attaching a tc (SCHED_CLS) program to `ifindex`'s ingress through tcx
/// (kernel 6.6+). Returns the link fd or -errno; closing it detaches the program.
int cvxsw_tcx_ingress_link_create(int prog_fd, int ifindex);

/// Opens a new tap (`IFF_TAP | IFF_NO_PI | IFF_VNET_HDR`, named from `pattern`, e.g.
/// "vxgso%d"; the name the kernel gave is written to `name`, 16 bytes) whose writes carry a
/// 24-byte `virtio_net_hdr_v1_hash_tunnel` and may be UDP-tunnel GSO packets
/// (TUN_F_UDP_TUNNEL_GSO, kernel 6.17+). Non-blocking. Returns the fd, or -errno; *stage
/// says which step failed (1 open, 2 TUNSETIFF, 3 TUNSETVNETHDRSZ, 4 TUNSETOFFLOAD).
int cvxsw_tunnel_tap_open(const char *pattern, char *name, int *stage);

/// Sets IFF_UP on `name` (SIOCSIFFLAGS) in the calling thread's namespace; 0 or -errno.
int cvxsw_link_set_up(const char *name);

/// An epoll set of sockets (EPOLL_CLOEXEC), or -errno.
int cvxsw_epoll_create(void);
/// Adds `fd` (EPOLLIN, level-triggered) with `tag`; 0 or -errno.
int cvxsw_epoll_add(int ep, int fd, uint32_t tag);
/// Removes `fd`; 0 or -errno.
int cvxsw_epoll_del(int ep, int fd);
/// The tags of up to `max` ready sockets, without waiting; their number, or -errno.
int cvxsw_epoll_ready(int ep, uint32_t *tags, int max);
