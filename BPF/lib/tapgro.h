/* Frames from the overlay to a guest's tap, through the kernel's GRO: the same way the Linux
 * bridge + kernel vxlan feed a guest (GRO merges a flow's segments, the tap hands the guest
 * one 64 KB frame with a GSO virtio-net header), without vxsw's worker.
 *
 * The XDP fast path (fastpath.h, fast_from_uplink) decides as for any decapsulation (the VNI
 * known, the source known at that VTEP, the destination a tap of that bridge domain), takes
 * the outer headers off and returns XDP_PASS with the target in the frame's XDP metadata. The
 * kernel builds the skb and GRO merges it with the flow's other segments (frames for another
 * tap, or another bridge domain, never merge: GRO keeps skbs whose metadata differ apart).
 * `vxsw_uplink_to_tap`, tcx ingress on the uplink, then redirects the (merged) skb to the tap.
 * Frames without the metadata (the host's own traffic, BGP, SSH) pass untouched.
 *
 * Why not XDP_REDIRECT into the tap, as bare ACKs go: a tap takes xdp_frames one by one, so the
 * guest would get every 1500-byte segment on its own, 40 times as many frames as through the
 * bridge. Why not the worker: its copies (AF_XDP, the coalescer, the packet socket) and its
 * wakeups cost more CPU than GRO, on a host whose CPUs the guests need.
 *
 * Only while `cfg->tap_gro` is set, which the daemon sets once the tc program is attached
 * to the uplink (Sources/VXDatapath/UplinkTapDelivery.swift). Checksums are left as they came,
 * as a bridge leaves them: the skb keeps its checksum state, which the tap writes into the
 * virtio-net header (a partial one is completed by whoever needs it, a verified one is marked
 * valid). Neither XDP nor tc can change that state, so a frame whose state points into the
 * outer headers (its outer UDP checksum left partial by a local kernel VTEP behind a veth:
 * ARP, ICMP, anything without a partial inner checksum) is left to the engine. A frame to the
 * uplink's own MAC is never passed up decapsulated.
 */
#ifndef VXSW_TAPGRO_H
#define VXSW_TAPGRO_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#define VXSW_TAP_META_MAGIC 0x76787467 /* "vxtg" */

/* What XDP leaves in front of a frame for the uplink's tc program. */
struct vxsw_tap_meta {
    __u32 magic;
    __u32 ifindex; /* the tap */
    __u32 bd;      /* its bridge domain, checked again at delivery */
    __u32 pad;
};

/* Decapsulates to tap `target` (bridge domain `bd`) through GRO: XDP_PASS with the metadata,
 * or FAST_DECLINE with the frame as it came. */
static __always_inline int decap_to_tap_gro(struct xdp_md *ctx, struct vxsw_fast_config *cfg, __u32 l4, __u32 udplen,
                                            int v6, __u32 ioff, __u32 ilen, __u32 flen, __u32 target, __u32 bd) {
    if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct vxsw_tap_meta))) return FAST_DECLINE; /* no metadata here */
    void *data = (void *)(long)ctx->data;
    struct vxsw_tap_meta *meta = (void *)(long)ctx->data_meta;
    if ((void *)(meta + 1) > data) {
        bpf_xdp_adjust_meta(ctx, (int)sizeof(struct vxsw_tap_meta));
        return FAST_DECLINE;
    }
    meta->magic = VXSW_TAP_META_MAGIC;
    meta->ifindex = target;
    meta->bd = bd;
    meta->pad = 0;
    if (finish_decap(ctx, cfg, l4, udplen, v6, ioff, ilen, flen, 0) < 0) {
        bpf_xdp_adjust_meta(ctx, (int)sizeof(struct vxsw_tap_meta));
        return FAST_DECLINE;
    }
    return XDP_PASS;
}

/* tcx ingress of the uplink: hands a frame XDP decapsulated for a tap (after GRO) to the tap. */
SEC("tc")
int vxsw_uplink_to_tap(struct __sk_buff *skb) {
    void *data = (void *)(long)skb->data;
    struct vxsw_tap_meta *meta = (void *)(long)skb->data_meta;
    /* Not one of ours (the host's own traffic): on to the next tc program, if any, or the stack. */
    if ((void *)(meta + 1) > data || meta->magic != VXSW_TAP_META_MAGIC) return TC_ACT_UNSPEC;
    __u32 ifindex = meta->ifindex;
    struct vxsw_fast_port *out = bpf_map_lookup_elem(&fast_ports, &ifindex);
    if (!out || !out->tap || out->bd != meta->bd) {
        /* The tap left the switch while the frame was on its way: dropped, and counted. */
        count(VXSW_STAT_FAST_TAP_LOST);
        return TC_ACT_SHOT;
    }
    return bpf_redirect(ifindex, 0);
}

#endif
