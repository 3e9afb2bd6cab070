/* Internet checksums in XDP, byte for byte what VXCore's Checksum.swift computes.
 *
 * Sums are kept in native order (as the words are loaded), like the kernel's __wsum:
 * the one's-complement sum does not depend on byte order up to a final swap (RFC 1071
 * §2), so a folded native sum stored natively is the right checksum in network order.
 */
#ifndef VXSW_CSUM_H
#define VXSW_CSUM_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Longest region vxsw_csum_range sums: a 9000-byte jumbo frame plus outer headers. */
#define VXSW_CSUM_MAX 9472

static __always_inline __u16 csum_fold64(__u64 s) {
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (__u16)s;
}

/* One's-complement sum (folded, native order, not inverted) of `len` bytes that start
 * `off` bytes into the frame; an odd last byte is padded with zero. -1 when the range
 * is not inside the frame. A global function: the verifier checks it once, not at
 * every call site. bpf_csum_diff takes at most 512 bytes a call, a multiple of 4. */
__attribute__((noinline)) int vxsw_csum_range(struct xdp_md *ctx, __u32 off, __u32 len) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (off > 256 || len > VXSW_CSUM_MAX) return -1;
    __u8 *p = data + off;
    __u64 sum = 0;
    __u32 i;
    for (i = 0; i < VXSW_CSUM_MAX / 256; i++) {
        if (len < 256) break;
        if ((void *)(p + 256) > end) return -1;
        sum += (__u32)bpf_csum_diff(0, 0, (__be32 *)p, 256, 0);
        p += 256;
        len -= 256;
    }
    for (i = 0; i < 256 / 32; i++) {
        if (len < 32) break;
        if ((void *)(p + 32) > end) return -1;
        sum += (__u32)bpf_csum_diff(0, 0, (__be32 *)p, 32, 0);
        p += 32;
        len -= 32;
    }
    /* Under 32 bytes left: 16, 8, 4, 2, 1 by the bits of len. */
    if (len & 16) {
        if ((void *)(p + 16) > end) return -1;
        sum += (__u32)bpf_csum_diff(0, 0, (__be32 *)p, 16, 0);
        p += 16;
    }
    if (len & 8) {
        if ((void *)(p + 8) > end) return -1;
        sum += (__u32)bpf_csum_diff(0, 0, (__be32 *)p, 8, 0);
        p += 8;
    }
    if (len & 4) {
        if ((void *)(p + 4) > end) return -1;
        sum += (__u32)bpf_csum_diff(0, 0, (__be32 *)p, 4, 0);
        p += 4;
    }
    if (len & 2) {
        if ((void *)(p + 2) > end) return -1;
        sum += *(__u16 *)p;
        p += 2;
    }
    if (len & 1) {
        if ((void *)(p + 1) > end) return -1;
        sum += *p; /* the pair [b, 0] read in native (little-endian) order */
    }
    return csum_fold64(sum);
}

/* Native-order sum of `n` (even, constant) header bytes already bounds-checked by the caller. */
static __always_inline __u64 csum_words(const void *p, int n) {
    const __u16 *w = p;
    __u64 s = 0;
#pragma unroll
    for (int i = 0; i < n / 2; i++) s += w[i];
    return s;
}

/* Final TCP/UDP checksum from a pseudo-header sum and the segment sum (both native);
 * for UDP a computed 0 is sent as 0xffff (RFC 768). Returns it in native order. */
static __always_inline __u16 csum_l4_final(__u64 pseudo, __u16 segment, int udp) {
    __u16 c = ~csum_fold64(pseudo + segment);
    return (udp && c == 0) ? 0xffff : c;
}

#endif
