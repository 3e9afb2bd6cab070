// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* vxsw tunnel transmit: attached (tcx ingress, a bpf_link) to the tap vxsw writes
 * VXLAN super-frames into (`Sources/VXDatapath/TunnelTap.swift`). Every skb the tap
 * receives is a whole VXLAN packet vxsw built, with a UDP-tunnel GSO virtio-net header
 * the tap turned into GSO metadata; it goes out of the uplink as it is, so the uplink
 * NIC (tunnel TSO) or the kernel's software GSO cuts it into wire-sized packets; as a clone no
 * socket owns, so that a veth's far end receives its segments in order (lib/unowned.h).
 *
 * tunnel_tx_target[0]: the uplink's ifindex (0: not set yet, drop).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "lib/unowned.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} tunnel_tx_target SEC(".maps");

SEC("tc")
int tunnel_tx(struct __sk_buff *skb) {
    __u32 key = 0;
    __u32 *ifindex = bpf_map_lookup_elem(&tunnel_tx_target, &key);
    if (!ifindex || *ifindex == 0) return TC_ACT_SHOT;
    int verdict = redirect_unowned(skb, *ifindex);
    return verdict < 0 ? TC_ACT_SHOT : verdict;
}

char _license[] SEC("license") = "Dual BSD/GPL";
