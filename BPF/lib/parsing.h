/* Header cursor in the style of xdp-tools' parsing_helpers.h: every parse_*
 * checks bounds against data_end, advances the cursor and returns the next
 * protocol (or -1 when the header does not fit). */
#ifndef VXSW_PARSING_H
#define VXSW_PARSING_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

struct cursor {
    void *pos;
};

static __always_inline int parse_eth(struct cursor *c, void *end, struct ethhdr **eth) {
    struct ethhdr *h = c->pos;
    if ((void *)(h + 1) > end) return -1;
    c->pos = h + 1;
    *eth = h;
    return h->h_proto; /* network order */
}

static __always_inline int parse_ipv4(struct cursor *c, void *end, struct iphdr **ip) {
    struct iphdr *h = c->pos;
    if ((void *)(h + 1) > end) return -1;
    if (h->version != 4 || h->ihl < 5) return -1;
    void *next = (void *)h + h->ihl * 4;
    if (next > end) return -1;
    c->pos = next;
    *ip = h;
    return h->protocol;
}

static __always_inline int parse_ipv6(struct cursor *c, void *end, struct ipv6hdr **ip6) {
    struct ipv6hdr *h = c->pos;
    if ((void *)(h + 1) > end) return -1;
    if (h->version != 6) return -1;
    c->pos = h + 1;
    *ip6 = h;
    return h->nexthdr; /* extension headers: parse_ipv6_ext */
}

#define VXSW_IPV6_MAX_EXT   4      /* extension headers walked (VXCore's IPv6Extensions.maxExtensionHeaders) */
#define VXSW_IPV6_EXT_LIMIT 9216   /* no header starts beyond this offset: a bound for the verifier (a jumbo frame) */

/* One of the IANA IPv6 extension header types (RFC 7045): Hop-by-Hop 0, Routing 43,
 * Fragment 44, ESP 50, AH 51, Destination Options 60, Mobility 135, HIP 139, Shim6 140,
 * experiments 253/254. */
static __always_inline int ipv6_is_ext(int next) {
    switch (next) {
    case 0: case 43: case 44: case 50: case 51: case 60: case 135: case 139: case 140: case 253: case 254:
        return 1;
    }
    return 0;
}

/* Walks the extension headers that start `*off` bytes into the frame, after an IPv6 fixed
 * header whose next header is `next`, as VXCore's IPv6Extensions.walk does: Hop-by-Hop (only
 * first), Destination Options, one atomic Fragment header (offset 0, M = 0: RFC 6946), at most
 * VXSW_IPV6_MAX_EXT of them. Returns the upper-layer protocol with `*off` at its header, or -1
 * for a chain it does not take: a real fragment, a Routing/AH/ESP/... header, too many, or a
 * header not inside the frame (it never reads past `end`; a last header whose length runs past
 * it leaves `*off` beyond `end`, which the caller's next bounds check refuses). */
static __always_inline int parse_ipv6_ext(void *data, void *end, __u32 *off, int next) {
    __u32 o = *off;
    int fragments = 0;
#pragma unroll
    for (int i = 0; i < VXSW_IPV6_MAX_EXT; i++) {
        if (!ipv6_is_ext(next)) break;
        if (o > VXSW_IPV6_EXT_LIMIT) return -1;
        __u8 *h = data + o;
        if ((void *)(h + 8) > end) return -1; /* every extension header is 8 bytes or more */
        __u32 len;
        if ((next == 0 && i == 0) || next == 60) {
            len = ((__u32)h[1] + 1) * 8;
        } else if (next == 44 && !fragments) {
            if (((h[2] << 8 | h[3]) & 0xfff9) != 0) return -1; /* offset or M: a real fragment */
            len = 8;
            fragments = 1;
        } else {
            return -1;
        }
        next = h[0];
        o += len;
    }
    if (ipv6_is_ext(next)) return -1;
    *off = o;
    return next;
}

static __always_inline int parse_udp(struct cursor *c, void *end, struct udphdr **udp) {
    struct udphdr *h = c->pos;
    if ((void *)(h + 1) > end) return -1;
    c->pos = h + 1;
    *udp = h;
    return 0;
}

#endif
