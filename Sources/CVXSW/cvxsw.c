#define _GNU_SOURCE
#include "cvxsw.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>

static int cvxsw_verbose;

static int cvxsw_print(enum libbpf_print_level level, const char *fmt, va_list args) {
    if (!cvxsw_verbose && level != LIBBPF_WARN) return 0;
    if (!cvxsw_verbose) return 0;
    return vfprintf(stderr, fmt, args);
}

void cvxsw_libbpf_set_verbose(int verbose) {
    cvxsw_verbose = verbose;
    libbpf_set_print(cvxsw_print);
}

int cvxsw_xdp_test_run(int prog_fd, const void *data, uint32_t len, void *out, uint32_t *out_len,
                       uint32_t ingress_ifindex, uint32_t rx_queue_index, uint32_t repeat) {
    struct xdp_md ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.data_end = len;
    ctx.ingress_ifindex = ingress_ifindex;
    ctx.rx_queue_index = rx_queue_index;
    LIBBPF_OPTS(bpf_test_run_opts, opts,
        .data_in = data,
        .data_size_in = len,
        .data_out = out,
        .data_size_out = out_len ? *out_len : 0,
        .ctx_in = ingress_ifindex ? &ctx : NULL,
        .ctx_size_in = ingress_ifindex ? sizeof(ctx) : 0,
        .repeat = repeat);
    int err = bpf_prog_test_run_opts(prog_fd, &opts);
    if (err) return -errno;
    if (out_len) *out_len = opts.data_size_out;
    return (int)opts.retval;
}

int cvxsw_xdp_drop_program_load(void) {
    // r0 = XDP_DROP; exit
    struct bpf_insn insns[2];
    memset(insns, 0, sizeof(insns));
    insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
    insns[0].dst_reg = BPF_REG_0;
    insns[0].imm = XDP_DROP;
    insns[1].code = BPF_JMP | BPF_EXIT;
    int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_drop", "GPL", insns, 2, NULL);
    return fd < 0 ? -errno : fd;
}

int cvxsw_xdp_live_run(int prog_fd, const void *data, uint32_t len, uint32_t ingress_ifindex,
                       uint32_t repeat, uint32_t batch_size) {
    return cvxsw_xdp_live_run_timed(prog_fd, data, len, ingress_ifindex, repeat, batch_size, NULL);
}

int cvxsw_xdp_live_run_timed(int prog_fd, const void *data, uint32_t len, uint32_t ingress_ifindex,
                             uint32_t repeat, uint32_t batch_size, uint32_t *duration_ns) {
    struct xdp_md ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.data_end = len;
    ctx.ingress_ifindex = ingress_ifindex;
    LIBBPF_OPTS(bpf_test_run_opts, opts,
        .data_in = data,
        .data_size_in = len,
        .ctx_in = &ctx,
        .ctx_size_in = sizeof(ctx),
        .repeat = repeat,
        .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
        .batch_size = batch_size);
    int err = bpf_prog_test_run_opts(prog_fd, &opts);
    if (err) return -errno;
    if (duration_ns) *duration_ns = opts.duration;
    return 0;
}

#include <sched.h>
#include <pthread.h>
#include <stdlib.h>

int cvxsw_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    return -err;
}

#include <bpf/btf.h>

int cvxsw_btf_struct_layout(struct bpf_object *obj, const char *name, uint32_t *size,
                            const char **names, uint32_t *offsets, int max) {
    struct btf *btf = bpf_object__btf(obj);
    if (!btf) return -1;
    int id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
    if (id < 0) return -1;
    const struct btf_type *t = btf__type_by_id(btf, id);
    *size = t->size;
    const struct btf_member *m = btf_members(t);
    int n = btf_vlen(t);
    for (int i = 0; i < n && i < max; i++) {
        names[i] = btf__name_by_offset(btf, m[i].name_off);
        offsets[i] = btf_member_bit_offset(t, i) / 8;
    }
    return n;
}

#include <sys/resource.h>

int cvxsw_set_thread_nice(int nice) {
    /* Linux: the nice value belongs to the thread (its tid), and new threads inherit it. */
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice) == 0 ? 0 : -errno;
}

int cvxsw_xdp_link_create(int prog_fd, int ifindex, uint32_t xdp_flags) {
    LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = xdp_flags);
    int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
    return fd < 0 ? -errno : fd;
}

int cvxsw_percpu_u64_sum(int map_fd, uint32_t key, uint64_t *sum) {
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0) return ncpu;
    uint64_t *values = calloc((size_t)ncpu, sizeof(uint64_t));
    if (!values) return -ENOMEM;
    int err = bpf_map_lookup_elem(map_fd, &key, values);
    if (err) { err = -errno; free(values); return err; }
    uint64_t total = 0;
    for (int i = 0; i < ncpu; i++) total += values[i];
    free(values);
    *sum = total;
    return 0;
}

int cvxsw_first_allowed_cpu(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set)) return i;
    return 0;
}

int cvxsw_allowed_cpus(uint8_t *allowed, int max) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -errno;
    for (int i = 0; i < max && i < CPU_SETSIZE; i++) allowed[i] = CPU_ISSET(i, &set) ? 1 : 0;
    return 0;
}

void cvxsw_set_thread_name(const char *name) {
    pthread_setname_np(pthread_self(), name);
}

int cvxsw_recvmmsg(int fd, struct cvxsw_mmsghdr *msgs, unsigned int vlen, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, msgs, vlen, flags, (void *)0);
}

int cvxsw_sendmmsg(int fd, struct cvxsw_mmsghdr *msgs, unsigned int vlen, int flags) {
    return (int)syscall(SYS_sendmmsg, fd, msgs, vlen, flags);
}

uint64_t cvxsw_thread_cpu_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int cvxsw_tcx_ingress_link_create(int prog_fd, int ifindex) {
    /* BPF_TCX_INGRESS (46) by number: libbpf 1.1's headers predate it; the kernel's
     * link_create takes it with no extra options. */
    int fd = bpf_link_create(prog_fd, ifindex, (enum bpf_attach_type)46, NULL);
    return fd < 0 ? -errno : fd;
}

/* TUNSETOFFLOAD bits newer than Debian 12's headers (linux/if_tun.h of 6.17). */
#define CVXSW_TUN_F_USO4 0x20
#define CVXSW_TUN_F_USO6 0x40
#define CVXSW_TUN_F_UDP_TUNNEL_GSO 0x080
#define CVXSW_TUN_F_UDP_TUNNEL_GSO_CSUM 0x100

int cvxsw_tunnel_tap_open(const char *pattern, char *name, int *stage) {
    *stage = 1;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    strncpy(ifr.ifr_name, pattern, IFNAMSIZ - 1);
    int err = 0;
    *stage = 2;
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) goto fail;
    int size = 24;
    *stage = 3;
    if (ioctl(fd, TUNSETVNETHDRSZ, &size) != 0) goto fail;
    *stage = 4;
    unsigned int base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN |
                        CVXSW_TUN_F_UDP_TUNNEL_GSO | CVXSW_TUN_F_UDP_TUNNEL_GSO_CSUM;
    /* USO inside the tunnel where the kernel has it (6.2+), else TCP only. */
    if (ioctl(fd, TUNSETOFFLOAD, base | CVXSW_TUN_F_USO4 | CVXSW_TUN_F_USO6) != 0 &&
        ioctl(fd, TUNSETOFFLOAD, base) != 0) goto fail;
    memcpy(name, ifr.ifr_name, IFNAMSIZ);
    name[IFNAMSIZ - 1] = 0;
    return fd;
fail:
    err = -errno;
    close(fd);
    return err;
}

int cvxsw_link_set_up(const char *name) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    int err = 0;
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) err = -errno;
    else {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = -errno;
    }
    close(s);
    return err;
}

#include <sys/epoll.h>

int cvxsw_epoll_create(void) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    return ep < 0 ? -errno : ep;
}

int cvxsw_epoll_add(int ep, int fd, uint32_t tag) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.u32 = tag;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

int cvxsw_epoll_del(int ep, int fd) {
    return epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0 ? 0 : -errno;
}

int cvxsw_epoll_ready(int ep, uint32_t *tags, int max) {
    struct epoll_event events[256];
    if (max > 256) max = 256;
    int n = epoll_wait(ep, events, max, 0);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) tags[i] = events[i].data.u32;
    return n;
}
