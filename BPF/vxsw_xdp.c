// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* vxsw's XDP program, attached (through bpf_link) to every port of the switch.
 *
 *   access port: known unicast -> fast path (lib/fastpath.h: local port or encap to
 *                the uplink); every other frame -> the port's AF_XDP socket (the
 *                switch decides).
 *   uplink:      VXLAN (UDP to the configured port) addressed to a local VTEP
 *                -> fast path (decap to a local port) or AF_XDP socket; everything
 *                else -> XDP_PASS, so the host keeps BGP, SSH, storage on the same
 *                NIC untouched.
 *
 * IPv4 fragments are passed to the kernel (VXLAN senders set DF). Over IPv6 the
 * steering walks Hop-by-Hop, Destination Options and atomic Fragment headers
 * (parse_ipv6_ext); any other chain (a real fragment, a Routing header, more than
 * four, one running past the frame) is passed to the kernel.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include "lib/parsing.h"
#include "lib/maps.h"
#include "lib/fastpath.h"
#include "lib/tapfast.h"

static __always_inline int is_vxlan_for_us(void *data, void *end) {
    struct cursor c = { .pos = data };
    struct ethhdr *eth;
    struct udphdr *udp;
    __u32 key = 0;
    struct vxsw_config *cfg = bpf_map_lookup_elem(&config, &key);
    if (!cfg) return 0;

    int proto = parse_eth(&c, end, &eth);
    if (proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip;
        if (!cfg->has_vtep4 || parse_ipv4(&c, end, &ip) != IPPROTO_UDP) return 0;
        if (ip->frag_off & bpf_htons(0x3fff)) return 0; /* MF or offset: a fragment */
        if (__builtin_memcmp(&ip->daddr, cfg->vtep4, 4) != 0) return 0;
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6;
        int next = cfg->has_vtep6 ? parse_ipv6(&c, end, &ip6) : -1;
        if (next < 0 || __builtin_memcmp(&ip6->daddr, cfg->vtep6, 16) != 0) return 0;
        __u32 off = sizeof(struct ethhdr) + sizeof(struct ipv6hdr);
        if (parse_ipv6_ext(data, end, &off, next) != IPPROTO_UDP) return 0;
        c.pos = data + off;
    } else {
        return 0;
    }
    if (parse_udp(&c, end, &udp) < 0) return 0;
    return udp->dest == cfg->udp_port;
}

SEC("xdp")
int vxsw_port(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u32 ifindex = ctx->ingress_ifindex;
    struct vxsw_port *port = bpf_map_lookup_elem(&ports, &ifindex);
    if (!port) {
        count(VXSW_STAT_UNKNOWN_PORT_PASS);
        return XDP_PASS;
    }
    __u32 queue = ctx->rx_queue_index;
    if (queue >= VXSW_MAX_QUEUES) {
        count(VXSW_STAT_QUEUE_OUT_OF_RANGE);
        return port->role == VXSW_ROLE_UPLINK ? XDP_PASS : XDP_DROP;
    }
    __u32 slot = port->slot * VXSW_MAX_QUEUES + queue;

    if (port->role == VXSW_ROLE_ACCESS) {
        int fast = fast_from_access(ctx, ifindex);
        if (fast >= 0) return fast;
        count(VXSW_STAT_ACCESS_TO_SWITCH);
        /* No socket yet (the switch is still starting): drop, never leak to the host. */
        return bpf_redirect_map(&xsks, slot, XDP_DROP);
    }
    /* The fast path first: it checks everything is_vxlan_for_us does (and more) on its own,
     * so a frame it takes is parsed once. Only what it declines is steered by the second
     * parse: VXLAN for us to the switch, the rest (BGP, SSH, storage) to the host. */
    int fast = fast_from_uplink(ctx);
    if (fast >= 0) return fast;
    /* Anew: a helper the fast path called may have moved the frame's pointers. */
    data = (void *)(long)ctx->data;
    end = (void *)(long)ctx->data_end;
    if (is_vxlan_for_us(data, end)) {
        count(VXSW_STAT_VXLAN_TO_SWITCH);
        return bpf_redirect_map(&xsks, slot, XDP_PASS);
    }
    count(VXSW_STAT_UPLINK_PASS);
    return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
