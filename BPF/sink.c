// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* vxsw bench counting sink: attached to the far veth of the rig, it counts every
 * frame and its bytes by class and drops it (XDP_DROP), so a figure measures the
 * switch under test and nothing behind it. Frags-aware, so it also attaches to
 * veths with a jumbo MTU.
 *
 *   class 0  every frame
 *   class 1  IPv4/UDP to port 4789 (VXLAN: what encap produces)
 *   class 2  IPv4/UDP to port 9 (the generator's inner frames: what decap produces)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum sink_class { SINK_ALL = 0, SINK_VXLAN, SINK_BENCH, SINK_CLASSES };

/* Read by Sources/VXBench/BenchPrograms.swift; keep the layout identical. */
struct sink_count {
    __u64 frames;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, SINK_CLASSES);
    __type(key, __u32);
    __type(value, struct sink_count);
} sink_stats SEC(".maps");

static __always_inline void count(__u32 class, __u64 len) {
    struct sink_count *c = bpf_map_lookup_elem(&sink_stats, &class);
    if (c) {
        c->frames += 1;
        c->bytes += len;
    }
}

SEC("xdp.frags")
int sink(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u64 len = bpf_xdp_get_buff_len(ctx);
    count(SINK_ALL, len);

    struct ethhdr *eth = data;
    struct iphdr *ip = (void *)(eth + 1);
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > end) return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return XDP_DROP;
    if (udp->dest == bpf_htons(4789)) count(SINK_VXLAN, len);
    else if (udp->dest == bpf_htons(9)) count(SINK_BENCH, len);
    return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
