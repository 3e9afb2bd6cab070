/* Sending an skb that came in through a tap out of the uplink, owned by no socket.
 *
 * Every skb a tap receives is owned by the tap's socket (sock_wfree). When such a super-frame
 * is cut by GSO, skb_segment hands that ownership to its last segment only; a veth keeps it
 * across to the far namespace (skb_orphan_partial), and the far end's GRO compares owners
 * (gro_list_prepare: skb->sk), so it sees a super-frame's last segment as another flow and
 * delivers it ahead of the segments merged before it. Every super-frame then arrives out of
 * order: measured with real guests over a veth underlay, the far guest got 26 KB frames
 * instead of 57 KB, half of them behind their successor, and answered each with an ACK, and
 * guest TCP ran at 0.8x the bridge. A NIC's far end never sees the owner, but a host's own
 * veth-connected namespaces (containers, labs) do, and nothing is lost by not carrying it.
 *
 * So the frame goes out as a clone, which no socket owns (the data is shared, not copied),
 * and the original is freed here. That free shows as a TC_INGRESS drop to kfree_skb tracing
 * (dropwatch, perf): one per frame sent, not a frame lost.
 */
#ifndef VXSW_UNOWNED_H
#define VXSW_UNOWNED_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* TC_ACT_SHOT once the clone is on its way out of `ifindex`, -1 if it could not be sent. */
static __always_inline int redirect_unowned(struct __sk_buff *skb, __u32 ifindex) {
    if (bpf_clone_redirect(skb, ifindex, 0) < 0) return -1;
    return TC_ACT_SHOT;
}

#endif
