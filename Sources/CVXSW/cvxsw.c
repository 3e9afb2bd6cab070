#include "cvxsw.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

int cvxsw_xdp_live_run(int prog_fd, const void *data, uint32_t len, uint32_t ingress_ifindex,
                       uint32_t repeat, uint32_t batch_size) {
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
    return err ? -errno : 0;
}
