/* The tap path: a VM's frame to another VM on this host goes from tap to tap inside the
 * kernel, whole (a guest's 64 KB TSO super-frame included), as the Linux bridge moves it,
 * instead of a copy up into vxsw and a copy back down.
 *
 * Why two programs: vxsw reads a tap through a packet socket (Sources/VXDatapath/
 * PacketSocket.swift), and the kernel hands every received frame to packet sockets *before*
 * tc ingress runs. So the decision is made once, by `vxsw_tap_filter` (the socket's filter,
 * SO_ATTACH_BPF): a frame it takes is kept out of the socket and its target is left in a
 * per-CPU slot; `vxsw_tap_forward` (tcx ingress on the same tap, run right after on the same
 * CPU for the same skb) redirects it to the target tap's egress. The kernel segments it there
 * only if that tap's guest did not negotiate TSO. Anything the filter does not take reaches
 * the socket and the Swift engine, exactly as before.
 *
 * Taken, as the XDP fast path takes a frame (lib/fastpath.h), only when the engine would send
 * it to exactly one place and learn nothing: the source MAC known at this very tap, the
 * destination a unicast entry toward another tap of the same bridge domain or toward a
 * resolved IPv4 VTEP, untagged, not ARP or IPv6 ND (the engine learns VM IPs from them),
 * every segment within the target's largest frame (the uplink MTU with the outer headers).
 * Toward a VTEP the outer headers are the engine's (Encap, FlowHash source port) and the
 * skb is marked a UDP tunnel, so the uplink NIC or the kernel's GSO cuts a super-frame, as
 * behind kernel vxlan; it leaves as a clone no socket owns (unowned.h says why) and with outer
 * IP ids that count up per flow (tap_outer_ids). Checksums need no work: the skb keeps the guest's partial-checksum
 * metadata, which the target tap writes into its virtio-net header (or the uplink completes).
 */
#ifndef VXSW_TAPFAST_H
#define VXSW_TAPFAST_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include "fastpath.h"
#include "flowhash.h"
#include "unowned.h"

/* What the filter decided for the skb it just saw on this CPU. */
enum vxsw_tap_kind {
    TAP_TO_ENGINE = 0, /* the frame went to the socket */
    TAP_TO_PORT = 1,   /* target: ifindex of another tap */
    TAP_TO_VTEP = 2,   /* target: index into fast_vteps (IPv4, resolved) */
};

struct vxsw_tap_verdict {
    __u32 ifindex;
    __u32 len;
    __u32 kind;
    __u32 target;
    __u16 sport;  /* outer UDP source port (TAP_TO_VTEP), FlowHash of the frame as the engine hashes it */
    __u16 segs;   /* wire packets the frame becomes (TAP_TO_VTEP): what its outer IP ids use up */
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct vxsw_tap_verdict);
} tap_verdicts SEC(".maps");

/* The next outer IPv4 id per flow bucket (the outer source port's low bits), for super-frames
 * toward a VTEP. GSO numbers a super-frame's segments from the id in its outer header on up;
 * were that id 0 every time, a flow's ids would restart at each super-frame, and a receiver's
 * GRO, which merges a flow's packets only while their outer ids are fixed or count up (Linux
 * 6.18), would flush there: the far guest got 26 KB frames instead of the 57 KB a kernel vxlan
 * device's ids (ip_select_ident, counting per destination) let it have. Each frame takes as
 * many ids as it has segments, so a flow's ids count up across its super-frames. */
#define TAP_ID_BUCKETS 1024
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, TAP_ID_BUCKETS);
    __type(key, __u32);
    __type(value, __u32);
} tap_outer_ids SEC(".maps");

/* Bytes of the frame the decision reads: Ethernet, IP with options, the L4 ports (flow_hash). */
#define TAP_PEEK (ETH_HLEN + 60 + 4)
#define TAP_MAX_OUTER 0xFFFF

/* The length of the largest segment of a super-frame (headers + gso_size), 0 if the frame
 * is not one the tap path takes whole: TCP over IPv4/IPv6 only (bpf_skb_adjust_room refuses
 * to re-encapsulate UDP GSO, and the filter must never take a frame tc cannot carry). */
static __always_inline __u32 tap_segment_length(struct __sk_buff *skb, const __u8 *h, __u32 have, __u16 type) {
    __u32 l4;
    __u8 proto;
    if (type == ETH_P_IP && have >= ETH_HLEN + 20) {
        l4 = ETH_HLEN + ((h[ETH_HLEN] & 0x0f) << 2);
        proto = h[ETH_HLEN + 9];
    } else if (type == ETH_P_IPV6 && have >= ETH_HLEN + 40) {
        l4 = ETH_HLEN + 40;
        proto = h[ETH_HLEN + 6];
    } else {
        return 0;
    }
    if (proto != IPPROTO_TCP) return 0;
    __u8 doff;
    if (bpf_skb_load_bytes(skb, l4 + 12, &doff, 1) < 0) return 0;
    return l4 + ((doff >> 4) << 2) + skb->gso_size;
}

/* Where the tap path sends this frame (kind, target, sport in `v`); TAP_TO_ENGINE otherwise. */
static __always_inline __u32 tap_fast_decide(struct __sk_buff *skb, struct vxsw_tap_verdict *v) {
    __u32 zero = 0;
    struct vxsw_fast_config *cfg = bpf_map_lookup_elem(&fast_config, &zero);
    if (!cfg || !cfg->enabled) return TAP_TO_ENGINE;
    __u32 ifindex = skb->ifindex;
    struct vxsw_fast_port *in = bpf_map_lookup_elem(&fast_ports, &ifindex);
    if (!in || !in->tap) return TAP_TO_ENGINE;
    __u8 h[TAP_PEEK] = {};
    __u32 have = skb->len < TAP_PEEK ? skb->len : TAP_PEEK;
    if (have < ETH_HLEN || bpf_skb_load_bytes(skb, 0, h, have) < 0) return TAP_TO_ENGINE;
    const void *end = h + have;
    __u16 type = be16_at(h + 12);
    if (is_vlan_type(type) || (h[6] & 1) || mac_is_zero(h + 6) || (h[0] & 1)) return TAP_TO_ENGINE;
    if (is_neighbor_discovery(h, end)) return TAP_TO_ENGINE; /* the engine learns the VM's IP */

    __u32 bd = in->bd;
    __u64 key = fdb_key(bd, h + 6);
    struct vxsw_fast_fdb *src = bpf_map_lookup_elem(&fast_fdb, &key);
    if (!src || src->kind != VXSW_FAST_PORT || src->target != ifindex) return TAP_TO_ENGINE;
    key = fdb_key(bd, h);
    struct vxsw_fast_fdb *dst = bpf_map_lookup_elem(&fast_fdb, &key);
    if (!dst) return TAP_TO_ENGINE;
    __u32 target = dst->target;
    /* The largest frame that will be on a wire: the frame, or its largest segment. */
    __u32 wire = skb->len, segs = 1;
    if (skb->gso_size) {
        wire = tap_segment_length(skb, h, have, type);
        if (!wire || wire > skb->len) return TAP_TO_ENGINE;
        __u32 headers = wire - skb->gso_size;
        segs = (skb->len - headers + skb->gso_size - 1) / skb->gso_size;
    }

    if (dst->kind == VXSW_FAST_PORT) {
        if (target == ifindex) return TAP_TO_ENGINE; /* same segment: the engine drops it */
        struct vxsw_fast_port *out = bpf_map_lookup_elem(&fast_ports, &target);
        if (!out || !out->tap || out->bd != bd || wire > out->max_frame) return TAP_TO_ENGINE;
        v->target = target;
        touch(src);
        return TAP_TO_PORT;
    }
    if (dst->kind != VXSW_FAST_VTEP) return TAP_TO_ENGINE;
    struct vxsw_fast_vtep *vt = bpf_map_lookup_elem(&fast_vteps, &target);
    if (!vt || !vt->resolved || vt->ipv6 || !cfg->has_v4 || !cfg->tap_uplink_ifindex) return TAP_TO_ENGINE;
    __u32 outer = VXLAN_OVERHEAD_V4 - ETH_HLEN;
    if (wire + outer > cfg->uplink_mtu || skb->len + outer > TAP_MAX_OUTER) return TAP_TO_ENGINE;
    v->target = target;
    v->sport = flow_source_port(flow_hash(h, (void *)end), cfg->sport_lo, cfg->sport_hi);
    v->segs = segs;
    touch(src);
    return TAP_TO_VTEP;
}

/* The tap's packet-socket filter: keeps the frame out of the socket when the tap path takes it. */
SEC("socket")
int vxsw_tap_filter(struct __sk_buff *skb) {
    __u32 zero = 0;
    struct vxsw_tap_verdict *v = bpf_map_lookup_elem(&tap_verdicts, &zero);
    if (!v) return skb->len; /* cannot hand it over: the engine takes it */
    v->kind = tap_fast_decide(skb, v);
    v->ifindex = skb->ifindex;
    v->len = skb->len;
    return v->kind == TAP_TO_ENGINE ? skb->len : 0;
}

/* The frame with the outer headers toward VTEP `vt` in front (what Encap writes, IPv4): room
 * made after its Ethernet header, marked as a UDP tunnel so GSO cuts a super-frame into
 * VXLAN packets with the guest's segment size (FIXED_GSO: the inner MSS stays). */
static __always_inline int tap_encap(struct __sk_buff *skb, struct vxsw_fast_config *cfg, struct vxsw_fast_vtep *vt,
                                     __u32 vni, __u16 sport, __u16 segs) {
    __u32 bucket = sport % TAP_ID_BUCKETS;
    __u32 *next_id = bpf_map_lookup_elem(&tap_outer_ids, &bucket);
    __u16 id = next_id ? (__u16)__sync_fetch_and_add(next_id, segs) : 0;
    __u8 hdr[VXLAN_OVERHEAD_V4 + ETH_HLEN];
    __u32 flen = skb->len;
    if (bpf_skb_load_bytes(skb, 0, hdr + VXLAN_OVERHEAD_V4, ETH_HLEN) < 0) return -1;
    __u64 flags = BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |
                  BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(ETH_HLEN);
    if (bpf_skb_adjust_room(skb, VXLAN_OVERHEAD_V4, BPF_ADJ_ROOM_MAC, flags)) return -1;
    __u8 *eth = hdr, *ip = hdr + ETH_HLEN, *udp = ip + 20;
    __u32 udplen = flen + 16, total = 20 + udplen;
    __builtin_memcpy(eth, vt->next_hop, 6);
    __builtin_memcpy(eth + 6, cfg->uplink_mac, 6);
    eth[12] = 0x08; eth[13] = 0x00;
    ip[0] = 0x45; ip[1] = 0; ip[2] = total >> 8; ip[3] = total & 0xff;
    ip[4] = id >> 8; ip[5] = id & 0xff; ip[6] = 0x40; ip[7] = 0;   /* the flow's next id, DF */
    ip[8] = 64; ip[9] = IPPROTO_UDP; ip[10] = 0; ip[11] = 0;
    __builtin_memcpy(ip + 12, cfg->local_v4, 4);
    __builtin_memcpy(ip + 16, vt->remote, 4);
    *(__u16 *)(ip + 10) = ~csum_fold64(csum_words(ip, 20));
    udp[0] = sport >> 8; udp[1] = sport & 0xff;
    *(__u16 *)(udp + 2) = cfg->udp_port;
    udp[4] = udplen >> 8; udp[5] = udplen & 0xff;
    udp[6] = 0; udp[7] = 0;
    udp[8] = 0x08; udp[9] = 0; udp[10] = 0; udp[11] = 0;
    udp[12] = vni >> 16; udp[13] = vni >> 8; udp[14] = vni; udp[15] = 0;
    if (bpf_skb_store_bytes(skb, 0, hdr, sizeof(hdr), 0) < 0) return -1;
    return redirect_unowned(skb, cfg->tap_uplink_ifindex);
}

/* tcx ingress of the tap: carries out the filter's decision for this skb. */
SEC("tc")
int vxsw_tap_forward(struct __sk_buff *skb) {
    __u32 zero = 0;
    struct vxsw_tap_verdict *v = bpf_map_lookup_elem(&tap_verdicts, &zero);
    if (!v || v->kind == TAP_TO_ENGINE) return TC_ACT_OK;
    __u32 kind = v->kind, target = v->target;
    __u16 sport = v->sport, segs = v->segs;
    int mine = v->ifindex == skb->ifindex && v->len == skb->len;
    v->kind = TAP_TO_ENGINE;
    if (!mine) {
        /* A verdict nobody carried out: that frame was kept from the socket and is gone. */
        count(VXSW_STAT_FAST_TAP_LOST);
        return TC_ACT_OK;
    }
    if (kind == TAP_TO_PORT) {
        count(VXSW_STAT_FAST_TAP);
        return bpf_redirect(target, 0);
    }
    /* Anything that fails from here was kept from the socket: dropped, and counted. */
    struct vxsw_fast_config *cfg = bpf_map_lookup_elem(&fast_config, &zero);
    struct vxsw_fast_vtep *vt = bpf_map_lookup_elem(&fast_vteps, &target);
    __u32 ifindex = skb->ifindex;
    struct vxsw_fast_port *in = bpf_map_lookup_elem(&fast_ports, &ifindex);
    if (!cfg || !vt || !in) {
        count(VXSW_STAT_FAST_TAP_LOST);
        return TC_ACT_SHOT;
    }
    int verdict = tap_encap(skb, cfg, vt, in->vni, sport, segs);
    if (verdict < 0) {
        count(VXSW_STAT_FAST_TAP_LOST);
        return TC_ACT_SHOT;
    }
    count(VXSW_STAT_FAST_TAP_ENCAP);
    return verdict;
}

#endif
