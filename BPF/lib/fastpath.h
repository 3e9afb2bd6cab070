/* The XDP fast path: known-unicast encap (access port -> VTEP), local delivery (access
 * port -> access port) and decap (uplink -> access port) done here with bpf_redirect,
 * from the maps in fast_maps.h. It produces the same bytes as the Swift engine
 * (Sources/VXCore: Pipeline.receiveLocal/receiveOverlay, Encap, Decap,
 * ChecksumCompletion, FlowHash) for every frame it takes; everything else is declined
 * (-1) and goes to the AF_XDP socket as before:
 *
 *   - the source MAC is not known at this very place (the engine must learn or move it);
 *     so a frame from a source VTEP the switch does not know (fast_vteps holds only the
 *     switch's VTEPs) is never decapsulated here: the engine drops it (unknown_vtep with
 *     vtep.accept: known) or, with accept: any, learns the VTEP (vtep_limit when full);
 *   - broadcast/multicast/unknown destinations (flooding; the engine also drops the 802.1Q
 *     link-local group addresses), 802.1Q/802.1ad-tagged frames, outer and inner;
 *   - what a host must not decapsulate, for the engine to drop and count: an outer
 *     destination MAC not the uplink's, a wrong IPv4 header checksum, an outer source that
 *     is multicast, broadcast, unspecified, loopback, v4-mapped or ours;
 *   - a destination that is a VTEP for an overlay frame (split horizon: the engine drops it);
 *   - a destination port of another bridge domain (VNI isolation: the engine drops it);
 *   - a wrong outer UDP checksum where it is verified (verify_udp_csum4/6; bad_udp_checksum);
 *   - an outer IPv6 chain parse_ipv6_ext does not take, or one running past the payload;
 *   - frames too big for the target, unresolved VTEPs, outer IPv4 options, inner IPv4
 *     options when a checksum must be completed, anything the engine would drop.
 *
 *   access frame ─▶ fast_ports[in]? ─▶ src known here? ─▶ dst in fast_fdb?
 *        port of the same BD ─▶ complete csum ─▶ redirect(port)            fast_local
 *        resolved VTEP ─▶ complete csum ─▶ hash ─▶ push outer ─▶ redirect(uplink) fast_encap
 *        not in it, to the domain's gateway MAC ─▶ fast_route (fastroute.h): routed        fast_routed
 *   uplink VXLAN ─▶ Decap.parse checks ─▶ fast_vnis[vni] ─▶ src known at that VTEP?
 *        ─▶ dst a port of that BD ─▶ complete csum ─▶ pull outer ─▶ redirect(port) fast_decap
 */
#ifndef VXSW_FASTPATH_H
#define VXSW_FASTPATH_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "fast_maps.h"
#include "csum.h"
#include "flowhash.h"
#include "parsing.h"

#define FAST_DECLINE (-1)
#define VXLAN_OVERHEAD_V4 50
#define VXLAN_OVERHEAD_V6 70

static __always_inline __u16 be16_at(const __u8 *p) { return ((__u16)p[0] << 8) | p[1]; }

/* FDB key as VXCore builds it: bd << 48 | the MAC as a big-endian 48-bit number. */
static __always_inline __u64 fdb_key(__u32 bd, const __u8 *m) {
    return (__u64)bd << 48 | (__u64)m[0] << 40 | (__u64)m[1] << 32 | (__u64)m[2] << 24 |
           (__u64)m[3] << 16 | (__u64)m[4] << 8 | m[5];
}

static __always_inline int mac_is_zero(const __u8 *m) {
    return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

/* An 802.1Q (C-tag) or 802.1ad (S-tag) EtherType: left to the engine (ingress filtering,
 * priority tags, RFC 7348 §6.1 inner tags). */
static __always_inline int is_vlan_type(__u16 type) {
    return type == ETH_P_8021Q || type == ETH_P_8021AD;
}

/* Not IPv4.isUnicastSource / IPv6.isUnicastSource, or one of our own addresses (VXCore Decap.parse). */
static __always_inline int bad_outer_source(const __u8 *s, int v6, const struct vxsw_fast_config *cfg) {
    if (!v6) {
        if (s[0] == 0 || s[0] == 127 || (s[0] & 0xf0) == 0xe0) return 1;
        if ((s[0] & s[1] & s[2] & s[3]) == 0xff) return 1;
        return __builtin_memcmp(s, cfg->local_v4, 4) == 0;
    }
    if (s[0] == 0xff) return 1;
    __u8 z = 0;
#pragma unroll
    for (int i = 0; i < 10; i++) z |= s[i];
    if (z == 0) {
        if (s[10] == 0xff && s[11] == 0xff) return 1;               /* ::ffff:0:0/96 */
        if ((s[10] | s[11] | s[12] | s[13] | s[14]) == 0 && s[15] <= 1) return 1; /* :: and ::1 */
    }
    return __builtin_memcmp(s, cfg->local_v6, 16) == 0;
}

/* The aging clock: CLOCK_MONOTONIC in seconds, the clock of the worker's `now`. */
static __always_inline void touch(struct vxsw_fast_fdb *e) {
    __u32 now = bpf_ktime_get_coarse_ns() / 1000000000ULL;
    if (e->last_seen != now) e->last_seen = now;
}

/* ChecksumCompletion.complete on the frame `l2` bytes in, `flen` bytes long: 0 when done
 * or when the engine would leave the frame alone too, FAST_DECLINE otherwise. With
 * `only_partial`, 1 (frame unchanged) when the field is not the pseudo-header sum alone. */
static __always_inline int complete_csum(struct xdp_md *ctx, __u32 l2, __u32 flen, int only_partial) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u8 *eth = data + l2;
    if ((void *)(eth + ETH_HLEN) > end || flen < ETH_HLEN) return FAST_DECLINE;
    __u16 type = be16_at(eth + 12);
    if (type == ETH_P_8021Q) return FAST_DECLINE; /* the engine skips one tag; left to it */
    __u8 *ip = eth + ETH_HLEN;
    __u32 present = flen - ETH_HLEN, l4off, l4len;
    __u8 proto;
    int v4;
    __u64 pseudo; /* addresses now; protocol and length once known */
    if (type == ETH_P_IP) {
        if (present < 20) return 0;
        if ((void *)(ip + 20) > end) return FAST_DECLINE;
        if ((ip[0] >> 4) != 4) return 0;
        __u32 ihl = (ip[0] & 0x0f) << 2, total = be16_at(ip + 2);
        if (ihl < 20 || total < ihl || total > present || (be16_at(ip + 6) & 0x3fff)) return 0;
        if (ihl != 20) return FAST_DECLINE; /* options: a variable offset, left to the engine */
        proto = ip[9];
        pseudo = csum_words(ip + 12, 8);
        l4off = l2 + ETH_HLEN + 20;
        l4len = total - 20;
        v4 = 1;
    } else if (type == ETH_P_IPV6) {
        if (present < 40) return 0;
        if ((void *)(ip + 40) > end) return FAST_DECLINE;
        if ((ip[0] >> 4) != 6) return 0;
        __u32 payload = be16_at(ip + 4);
        if (payload > present - 40) return 0;
        proto = ip[6];
        pseudo = csum_words(ip + 8, 32);
        l4off = l2 + ETH_HLEN + 40;
        l4len = payload;
        v4 = 0;
    } else {
        return 0;
    }
    __u32 field;
    if (proto == IPPROTO_TCP) {
        if (l4len < 20) return 0;
        field = 16;
    } else if (proto == IPPROTO_UDP) {
        if (l4len < 8) return 0;
        field = 6;
    } else {
        return 0;
    }
    __u8 *seg = data + l4off;
    if ((void *)(seg + 20) > end) {
        if (proto == IPPROTO_TCP || (void *)(seg + 8) > end) return FAST_DECLINE;
    }
    if (proto == IPPROTO_UDP && v4 && seg[6] == 0 && seg[7] == 0) return 0; /* "no checksum" */
    pseudo += bpf_htons((__u16)proto) + bpf_htons((__u16)l4len);
    if (only_partial && (field == 16 ? *(__u16 *)(seg + 16) : *(__u16 *)(seg + 6)) != csum_fold64(pseudo)) return 1;
    if (field == 16) *(__u16 *)(seg + 16) = 0;
    else *(__u16 *)(seg + 6) = 0;
    int sum = vxsw_csum_range(ctx, l4off, l4len);
    if (sum < 0) return FAST_DECLINE; /* the field is 0 now: the engine recomputes it the same way */
    data = (void *)(long)ctx->data;
    end = (void *)(long)ctx->data_end;
    seg = data + l4off;
    if ((void *)(seg + 20) > end) {
        if (field == 16 || (void *)(seg + 8) > end) return FAST_DECLINE;
    }
    __u16 c = csum_l4_final(pseudo, (__u16)sum, proto == IPPROTO_UDP);
    if (field == 16) *(__u16 *)(seg + 16) = c;
    else *(__u16 *)(seg + 6) = c;
    return 0;
}

/* Pushes the outer headers (Encap.writeHeaders) in front of the `flen`-byte frame and
 * redirects it to the uplink; FAST_DECLINE (frame unchanged) when it cannot. */
static __always_inline int push_outer(struct xdp_md *ctx, struct vxsw_fast_config *cfg, struct vxsw_fast_vtep *vt,
                                      __u32 vni, __u32 flen, __u16 sport) {
    int v6 = vt->ipv6;
    int overhead = v6 ? VXLAN_OVERHEAD_V6 : VXLAN_OVERHEAD_V4;
    if (bpf_xdp_adjust_head(ctx, -overhead)) return FAST_DECLINE;
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u32 udplen = flen + 16;
    __u8 *eth = data;
    __u8 *udp;
    if (!v6) {
        if ((void *)(eth + VXLAN_OVERHEAD_V4) > end) goto undo;
        __builtin_memcpy(eth, vt->next_hop, 6);
        __builtin_memcpy(eth + 6, cfg->uplink_mac, 6);
        eth[12] = 0x08; eth[13] = 0x00;
        __u8 *ip = eth + ETH_HLEN;
        __u16 total = 20 + udplen;
        ip[0] = 0x45; ip[1] = 0; ip[2] = total >> 8; ip[3] = total & 0xff;
        ip[4] = 0; ip[5] = 0; ip[6] = 0x40; ip[7] = 0;   /* id 0, DF */
        ip[8] = 64; ip[9] = IPPROTO_UDP; ip[10] = 0; ip[11] = 0;
        __builtin_memcpy(ip + 12, cfg->local_v4, 4);
        __builtin_memcpy(ip + 16, vt->remote, 4);
        *(__u16 *)(ip + 10) = ~csum_fold64(csum_words(ip, 20));
        udp = ip + 20;
    } else {
        if ((void *)(eth + VXLAN_OVERHEAD_V6) > end) goto undo;
        __builtin_memcpy(eth, vt->next_hop, 6);
        __builtin_memcpy(eth + 6, cfg->uplink_mac, 6);
        eth[12] = 0x86; eth[13] = 0xdd;
        __u8 *ip = eth + ETH_HLEN;
        ip[0] = 0x60; ip[1] = 0; ip[2] = 0; ip[3] = 0;
        ip[4] = udplen >> 8; ip[5] = udplen & 0xff; ip[6] = IPPROTO_UDP; ip[7] = 64;
        __builtin_memcpy(ip + 8, cfg->local_v6, 16);
        __builtin_memcpy(ip + 24, vt->remote, 16);
        udp = ip + 40;
    }
    udp[0] = sport >> 8; udp[1] = sport & 0xff;
    *(__u16 *)(udp + 2) = cfg->udp_port;
    udp[4] = udplen >> 8; udp[5] = udplen & 0xff;
    udp[6] = 0; udp[7] = 0;
    udp[8] = 0x08; udp[9] = 0; udp[10] = 0; udp[11] = 0;
    udp[12] = vni >> 16; udp[13] = vni >> 8; udp[14] = vni; udp[15] = 0;
    if (v6 && !cfg->udp6_zero_csum) {
        /* RFC 6935: the UDP checksum over the whole encapsulated frame. */
        __u64 pseudo = csum_words(eth + ETH_HLEN + 8, 32) + bpf_htons(IPPROTO_UDP) + bpf_htons((__u16)udplen);
        int sum = vxsw_csum_range(ctx, ETH_HLEN + 40, udplen);
        if (sum < 0) goto undo;
        data = (void *)(long)ctx->data;
        end = (void *)(long)ctx->data_end;
        udp = data + ETH_HLEN + 40;
        if ((void *)(udp + 8) > end) goto undo;
        *(__u16 *)(udp + 6) = csum_l4_final(pseudo, (__u16)sum, 1);
    }
    return bpf_redirect(cfg->uplink_ifindex, 0);
undo:
    /* Outer headers only ever sit in the headroom: taking them off leaves the inner frame as it came. */
    bpf_xdp_adjust_head(ctx, overhead);
    return FAST_DECLINE;
}

/* The outer UDP pseudo-header sum, unfolded (`ip` checked for 40 bytes by the caller). */
static __always_inline __u64 udp_pseudo_sum(const __u8 *ip, __u32 udplen, int v6) {
    return (v6 ? csum_words(ip + 8, 32) : csum_words(ip + 12, 8)) + bpf_htons(IPPROTO_UDP) + bpf_htons((__u16)udplen);
}

/* Whether the outer UDP checksum field holds the pseudo-header sum alone: a local sender (a
 * kernel VTEP behind a veth) left it for "hardware" that never comes, and the skb still says
 * CHECKSUM_PARTIAL with its start in the outer headers. */
static __always_inline int udp_checksum_partial(struct xdp_md *ctx, __u32 l4, __u32 udplen, int v6) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u8 *ip = data + ETH_HLEN;
    __u8 *udp = data + l4;
    if ((void *)(ip + 40) > end || (void *)(udp + 8) > end) return 0;
    __u16 field = *(__u16 *)(udp + 6);
    return field != 0 && field == csum_fold64(udp_pseudo_sum(ip, udplen, v6));
}

/* Whether the outer UDP checksum of the datagram `l4` bytes in (`udplen` bytes, inside the
 * frame) is zero ("none", RFC 768 and RFC 6935/6936) or right, as Decap.parse verifies it.
 * A datagram starting beyond 256 bytes (long IPv6 extension headers) is not summed here: false. */
static __always_inline int udp_checksum_ok(struct xdp_md *ctx, __u32 l4, __u32 udplen, int v6) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u8 *ip = data + ETH_HLEN;
    __u8 *udp = data + l4;
    if ((void *)(ip + 40) > end || (void *)(udp + 8) > end) return 0;
    if (*(__u16 *)(udp + 6) == 0) return 1;
    __u64 pseudo = udp_pseudo_sum(ip, udplen, v6);
    /* The pseudo-header sum alone: left partial by a local sender (veth), as Decap.parse accepts. */
    if (*(__u16 *)(udp + 6) == csum_fold64(pseudo)) return 1;
    int sum = vxsw_csum_range(ctx, l4, udplen);
    return sum >= 0 && csum_fold64(pseudo + (__u16)sum) == 0xffff;
}

/* The end of a decapsulation both fast decap paths share: the outer UDP checksum verified
 * where configured, the inner TCP/UDP checksum completed, the outer headers and any trailing
 * bytes taken off (the engine sends `ilen` bytes); with `complete` (a frame leaving as an
 * xdp_frame, which carries no checksum state) the inner checksum completed. 0, or FAST_DECLINE with the frame as it came
 * (but for a completed inner checksum, which the engine completes the same way). */
static __always_inline int finish_decap(struct xdp_md *ctx, struct vxsw_fast_config *cfg, __u32 l4, __u32 udplen, int v6,
                                        __u32 ioff, __u32 ilen, __u32 flen, int complete) {
    /* Last, so only frames taken here pay for it. A kernel VTEP behind a veth computes the outer
     * checksum for the frame with its inner checksum filled in (local checksum offload) and
     * leaves the inner one partial: a mismatch is looked at again once the inner one is complete. */
    int completed = 0;
    if (v6 ? cfg->verify_udp_csum6 : cfg->verify_udp_csum4) {
        if (!udp_checksum_ok(ctx, l4, udplen, v6)) {
            /* Only a partial inner checksum: completing a wrong one would hide damage. */
            if (!complete || complete_csum(ctx, ioff, ilen, 1) != 0) return FAST_DECLINE;
            completed = 1;
            if (!udp_checksum_ok(ctx, l4, udplen, v6)) return FAST_DECLINE; /* bad_udp_checksum */
        }
    }
    if (!completed && complete && complete_csum(ctx, ioff, ilen, 0) < 0) return FAST_DECLINE;
    int excess = (int)flen - (int)(ioff + ilen);
    if (bpf_xdp_adjust_head(ctx, (int)ioff)) return FAST_DECLINE;
    if (excess > 0 && bpf_xdp_adjust_tail(ctx, -excess)) {
        bpf_xdp_adjust_head(ctx, -(int)ioff);
        return FAST_DECLINE;
    }
    return 0;
}

#include "fastroute.h"
#include "tapgro.h"

/* A frame from an access port: local delivery, encapsulation or routing, or FAST_DECLINE. */
/* A unicast ARP (reply) or IPv6 neighbour solicitation/advertisement: the engine learns the
 * sender's IP (local neighbours for EVPN MAC/IP routes), so the fast path leaves it alone. */
static __always_inline int is_neighbor_discovery(const __u8 *eth, const void *end) {
    __u16 type = be16_at(eth + 12);
    if (type == 0x0806) return 1;
    if (type != ETH_P_IPV6) return 0;
    const __u8 *ip = eth + ETH_HLEN;
    if ((const void *)(ip + 41) > end || ip[6] != 58) return 0;
    return ip[40] == 135 || ip[40] == 136;
}

static __always_inline int fast_from_access(struct xdp_md *ctx, __u32 ifindex) {
    __u32 zero = 0;
    struct vxsw_fast_config *cfg = bpf_map_lookup_elem(&fast_config, &zero);
    if (!cfg || !cfg->enabled) return FAST_DECLINE;
    struct vxsw_fast_port *in = bpf_map_lookup_elem(&fast_ports, &ifindex);
    if (!in) return FAST_DECLINE;
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u8 *eth = data;
    if ((void *)(eth + ETH_HLEN) > end) return FAST_DECLINE;
    __u32 flen = end - data;
    if (is_vlan_type(be16_at(eth + 12))) return FAST_DECLINE;
    if ((eth[6] & 1) || mac_is_zero(eth + 6) || (eth[0] & 1)) return FAST_DECLINE;
    if (is_neighbor_discovery(eth, end)) return FAST_DECLINE; /* the engine learns the VM's IP */
    __u32 bd = in->bd, vni = in->vni, complete = in->complete_csum;
    __u64 key = fdb_key(bd, eth + 6);
    struct vxsw_fast_fdb *src = bpf_map_lookup_elem(&fast_fdb, &key);
    if (!src || src->kind != VXSW_FAST_PORT || src->target != ifindex) return FAST_DECLINE;
    key = fdb_key(bd, eth);
    struct vxsw_fast_fdb *dst = bpf_map_lookup_elem(&fast_fdb, &key);
    if (!dst) return fast_route(ctx, cfg, in, src, bd, flen); /* to the gateway MAC, or declined */
    __u32 target = dst->target;

    if (dst->kind == VXSW_FAST_PORT) {
        if (target == ifindex) return FAST_DECLINE; /* same segment: the engine drops it */
        struct vxsw_fast_port *out = bpf_map_lookup_elem(&fast_ports, &target);
        if (!out || out->tap || out->bd != bd || flen > out->max_frame) return FAST_DECLINE;
        if (complete && complete_csum(ctx, 0, flen, 0) < 0) return FAST_DECLINE;
        touch(src);
        count(VXSW_STAT_FAST_LOCAL);
        return bpf_redirect(target, 0);
    }
    if (dst->kind != VXSW_FAST_VTEP) return FAST_DECLINE;
    struct vxsw_fast_vtep *vt = bpf_map_lookup_elem(&fast_vteps, &target);
    if (!vt || !vt->resolved || !cfg->uplink_ifindex) return FAST_DECLINE;
    if (vt->ipv6 ? !cfg->has_v6 : !cfg->has_v4) return FAST_DECLINE;
    __u32 overhead = vt->ipv6 ? VXLAN_OVERHEAD_V6 : VXLAN_OVERHEAD_V4;
    if (overhead - ETH_HLEN + flen > cfg->uplink_mtu) return FAST_DECLINE; /* too_big: the engine counts it */
    if (complete && complete_csum(ctx, 0, flen, 0) < 0) return FAST_DECLINE;
    data = (void *)(long)ctx->data;
    end = (void *)(long)ctx->data_end;
    __u16 sport = flow_source_port(flow_hash(data, end), cfg->sport_lo, cfg->sport_hi);
    int verdict = push_outer(ctx, cfg, vt, vni, flen, sport);
    if (verdict < 0) return FAST_DECLINE;
    touch(src);
    count(VXSW_STAT_FAST_ENCAP);
    return verdict;
}

/* A TCP segment with no data and only ACK (and PSH/ECE/CWR) set: what a remote receiver sends
 * back to a guest's bulk send. Such a frame goes to a guest's tap straight from XDP; one with
 * data goes to the engine, which coalesces a flow's segments into super-frames for the guest. */
static __always_inline int is_bare_tcp_ack(const __u8 *eth, const void *end) {
    __u16 type = be16_at(eth + 12);
    const __u8 *ip = eth + ETH_HLEN;
    const __u8 *tcp;
    __u32 tcplen;
    if (type == ETH_P_IP) {
        if ((const void *)(ip + 20) > end || ip[0] != 0x45 || ip[9] != IPPROTO_TCP) return 0;
        if (be16_at(ip + 6) & 0x3fff) return 0; /* a fragment */
        tcp = ip + 20;
        tcplen = (__u32)be16_at(ip + 2) - 20;
    } else if (type == ETH_P_IPV6) {
        if ((const void *)(ip + 40) > end || ip[6] != IPPROTO_TCP) return 0;
        tcp = ip + 40;
        tcplen = be16_at(ip + 4);
    } else {
        return 0;
    }
    if ((const void *)(tcp + 20) > end) return 0;
    __u8 flags = tcp[13];
    return (flags & 0x10) && !(flags & 0x07) && tcplen == (__u32)(tcp[12] >> 4) * 4; /* ACK; no SYN/FIN/RST; no data */
}

/* VXLAN to our VTEP on the uplink: decapsulation to a local port, or FAST_DECLINE.
 * The checks are Decap.parse's, in its order; outer IPv4 options are declined. A frame the
 * engine would drop is declined, never dropped here: the engine counts it by reason. */
static __always_inline int fast_from_uplink(struct xdp_md *ctx) {
    __u32 zero = 0;
    struct vxsw_fast_config *cfg = bpf_map_lookup_elem(&fast_config, &zero);
    if (!cfg || !cfg->enabled) return FAST_DECLINE;
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u8 *eth = data;
    if ((void *)(eth + ETH_HLEN) > end) return FAST_DECLINE;
    /* Not our MAC (a promiscuous uplink): not_our_mac. Group addresses are the engine's. */
    if (!mac_is_zero(cfg->uplink_mac) && __builtin_memcmp(eth, cfg->uplink_mac, 6) != 0) return FAST_DECLINE;
    __u32 flen = end - data, l4, endoff;
    __u16 type = be16_at(eth + 12);
    __u8 *ip = eth + ETH_HLEN;
    __u8 *outer_src;
    int v6;
    if (type == ETH_P_IP) {
        if ((void *)(ip + 20) > end) return FAST_DECLINE;
        __u32 total = be16_at(ip + 2);
        if (ip[0] != 0x45 || total < 20 || total > flen - ETH_HLEN) return FAST_DECLINE;
        if ((be16_at(ip + 6) & 0x3fff) || ip[9] != IPPROTO_UDP) return FAST_DECLINE;
        if (!cfg->has_v4 || __builtin_memcmp(ip + 16, cfg->local_v4, 4) != 0) return FAST_DECLINE;
        /* After the cheap tests: the host's own traffic on the uplink never pays for the sum. */
        if (csum_fold64(csum_words(ip, 20)) != 0xffff) return FAST_DECLINE; /* bad_ip_checksum */
        l4 = ETH_HLEN + 20;
        endoff = ETH_HLEN + total;
        outer_src = ip + 12;
        v6 = 0;
    } else if (type == ETH_P_IPV6) {
        if ((void *)(ip + 40) > end) return FAST_DECLINE;
        __u32 payload = be16_at(ip + 4);
        if ((ip[0] >> 4) != 6 || payload > flen - ETH_HLEN - 40) return FAST_DECLINE;
        if (!cfg->has_v6 || __builtin_memcmp(ip + 24, cfg->local_v6, 16) != 0) return FAST_DECLINE;
        l4 = ETH_HLEN + 40;
        if (parse_ipv6_ext(data, end, &l4, ip[6]) != IPPROTO_UDP) return FAST_DECLINE;
        endoff = ETH_HLEN + 40 + payload;
        if (l4 > endoff) return FAST_DECLINE; /* a header past the payload: bad_ext_header */
        outer_src = ip + 8;
        v6 = 1;
    } else {
        return FAST_DECLINE;
    }
    if (bad_outer_source(outer_src, v6, cfg)) return FAST_DECLINE; /* bad_outer_source */
    __u8 *udp = data + l4;
    __u8 *inner = udp + 16;
    if ((void *)(inner + ETH_HLEN) > end || endoff < l4 + 8) return FAST_DECLINE;
    if (*(__u16 *)(udp + 2) != cfg->udp_port) return FAST_DECLINE;
    __u32 udplen = be16_at(udp + 4);
    if (udplen < 16 || udplen > endoff - l4) return FAST_DECLINE;
    if (!(udp[8] & 0x08)) return FAST_DECLINE;
    __u32 vni = (__u32)udp[12] << 16 | (__u32)udp[13] << 8 | udp[14];
    __u32 ilen = udplen - 16, ioff = l4 + 16;
    if (ilen < ETH_HLEN) return FAST_DECLINE;
    __u32 *bdp = bpf_map_lookup_elem(&fast_vnis, &vni);
    if (!bdp) return FAST_DECLINE;
    __u32 bd = *bdp;

    if ((inner[6] & 1) || mac_is_zero(inner + 6) || (inner[0] & 1)) return FAST_DECLINE;
    if (is_vlan_type(be16_at(inner + 12))) return FAST_DECLINE; /* inner_vlan_tag, or a carry-tagged VNI */
    struct vxsw_fast_gateway *l3 = bpf_map_lookup_elem(&fast_gateways, &bd);
    if (l3 && l3->l3) return fast_route_overlay(ctx, cfg, l3, outer_src, v6, l4, udplen, ioff, ilen, flen);
    __u64 key = fdb_key(bd, inner + 6);
    struct vxsw_fast_fdb *src = bpf_map_lookup_elem(&fast_fdb, &key);
    if (!src || src->kind != VXSW_FAST_VTEP) return FAST_DECLINE;
    __u32 sv = src->target;
    struct vxsw_fast_vtep *from = bpf_map_lookup_elem(&fast_vteps, &sv);
    if (!from || from->ipv6 != v6) return FAST_DECLINE;
    if (v6 ? __builtin_memcmp(from->remote, outer_src, 16) != 0 : __builtin_memcmp(from->remote, outer_src, 4) != 0)
        return FAST_DECLINE; /* the source moved (or is new) here: the engine learns it */
    key = fdb_key(bd, inner);
    struct vxsw_fast_fdb *dst = bpf_map_lookup_elem(&fast_fdb, &key);
    if (!dst || dst->kind != VXSW_FAST_PORT) return FAST_DECLINE; /* a VTEP: split horizon */
    __u32 target = dst->target;
    struct vxsw_fast_port *out = bpf_map_lookup_elem(&fast_ports, &target);
    if (!out || out->bd != bd || ilen > out->max_frame) return FAST_DECLINE;
    /* A guest's tap takes its bare ACKs from here (the ACK clock of the guest's bulk send is not
     * held up by the worker); whatever carries data goes up through the kernel's GRO (tapgro.h),
     * or, where that is off, waits for the engine's coalescing. */
    int tap_ack = out->tap;
    if (tap_ack && !is_bare_tcp_ack(inner, end)) {
        if (!cfg->tap_gro || __builtin_memcmp(inner, cfg->uplink_mac, 6) == 0) return FAST_DECLINE;
        /* An skb whose checksum state points into the outer headers would reach the guest with a
         * checksum start before its frame, which the guest drops: the engine takes it. */
        if (udp_checksum_partial(ctx, l4, udplen, v6)) return FAST_DECLINE;
        if (decap_to_tap_gro(ctx, cfg, l4, udplen, v6, ioff, ilen, flen, target, bd) < 0) return FAST_DECLINE;
        touch(src);
        count(VXSW_STAT_FAST_DECAP_TAP);
        return XDP_PASS;
    }
    if (finish_decap(ctx, cfg, l4, udplen, v6, ioff, ilen, flen, cfg->decap_complete_csum) < 0) return FAST_DECLINE;
    touch(src);
    count(tap_ack ? VXSW_STAT_FAST_DECAP_TAP_ACK : VXSW_STAT_FAST_DECAP);
    return bpf_redirect(target, 0);
}

#endif
