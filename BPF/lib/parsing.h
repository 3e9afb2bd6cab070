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
    return h->nexthdr; /* extension headers are not walked: VXLAN senders do not use them */
}

static __always_inline int parse_udp(struct cursor *c, void *end, struct udphdr **udp) {
    struct udphdr *h = c->pos;
    if ((void *)(h + 1) > end) return -1;
    c->pos = h + 1;
    *udp = h;
    return 0;
}

#endif
