// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* vxsw bench traffic generator. Not attached anywhere: the loader runs it with
 * BPF_PROG_RUN in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES) over a template
 * frame, `repeat` times per call, with the generator's veth as ingress device.
 * Each run varies the frame from a per-CPU sequence number, so the switch under
 * test sees `flows` UDP flows from `macs` source MACs, and sends it with XDP_TX
 * out of that veth into the switch.
 *
 *   layout PLAIN   eth | ipv4 | udp | payload          (VM port -> switch: encap)
 *   layout VXLAN4  eth | ipv4 | udp 4789 | vxlan | PLAIN   (underlay -> switch: decap)
 *
 * Varied per frame (flow f = seq % flows, mac m = seq % macs):
 *   source MAC bytes 3..5 = m + 1, UDP source port = 1024 + (f & 0x7fff),
 *   IPv4 source byte 2 += f >> 15 (checksum recomputed); in VXLAN4 also the outer
 *   UDP source port (49152 + (f & 0x3fff)), the entropy a VTEP would put there.
 * Every varied field is written on every run: live-frames pages are recycled and
 * may hold the previous run's bytes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum gen_layout { GEN_PLAIN = 0, GEN_VXLAN4 = 1 };

/* Written by the loader (Sources/VXBench/BenchPrograms.swift); keep the layouts identical. */
struct gen_config {
    __u32 flows;   /* >= 1 */
    __u32 macs;    /* >= 1 */
    __u32 layout;  /* enum gen_layout */
    __u32 ip_src2; /* template's IPv4 source byte 2 (the base the flow index adds to) */
};

enum gen_stat { GEN_STAT_FRAMES = 0, GEN_STAT_BYTES, GEN_STAT_MAX };

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct gen_config);
} gen_config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, GEN_STAT_MAX);
    __type(key, __u32);
    __type(value, __u64);
} gen_stats SEC(".maps");

static __always_inline __u16 ipv4_checksum(struct iphdr *ip) {
    __u16 *w = (__u16 *)ip;
    __u32 sum = 0;
    ip->check = 0;
#pragma unroll
    for (int i = 0; i < 10; i++) sum += w[i];
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)~sum;
}

/* Varies one eth | ipv4 | udp frame starting at `eth`. */
static __always_inline int vary_plain(struct ethhdr *eth, void *end, __u32 flow, __u32 mac, __u32 ip_src2) {
    struct iphdr *ip = (void *)(eth + 1);
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > end) return -1;
    __u32 m = mac + 1;
    eth->h_source[3] = (__u8)(m >> 16);
    eth->h_source[4] = (__u8)(m >> 8);
    eth->h_source[5] = (__u8)m;
    __u8 *saddr = (__u8 *)&ip->saddr;
    saddr[2] = (__u8)(ip_src2 + (flow >> 15));
    ip->check = ipv4_checksum(ip);
    udp->source = bpf_htons((__u16)(1024 + (flow & 0x7fff)));
    return 0;
}

SEC("xdp")
int trafficgen(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u32 k = 0;
    struct gen_config *cfg = bpf_map_lookup_elem(&gen_config, &k);
    __u64 *frames = bpf_map_lookup_elem(&gen_stats, &k);
    if (!cfg || !frames) return XDP_ABORTED;
    __u32 seq = (__u32)*frames;
    *frames += 1;
    __u32 b = GEN_STAT_BYTES;
    __u64 *bytes = bpf_map_lookup_elem(&gen_stats, &b);
    if (bytes) *bytes += (__u64)(end - data);

    __u32 flows = cfg->flows ? cfg->flows : 1;
    __u32 macs = cfg->macs ? cfg->macs : 1;
    __u32 flow = seq % flows, mac = seq % macs;

    if (cfg->layout == GEN_VXLAN4) {
        struct ethhdr *eth = data;
        struct iphdr *ip = (void *)(eth + 1);
        struct udphdr *udp = (void *)(ip + 1);
        if ((void *)(udp + 1) > end) return XDP_ABORTED;
        udp->source = bpf_htons((__u16)(49152 + (flow & 0x3fff)));
        /* outer eth 14 + ipv4 20 + udp 8 + vxlan 8 = 50 bytes to the inner frame */
        if (vary_plain(data + 50, end, flow, mac, cfg->ip_src2) < 0) return XDP_ABORTED;
    } else {
        if (vary_plain(data, end, flow, mac, cfg->ip_src2) < 0) return XDP_ABORTED;
    }
    return XDP_TX;
}

char _license[] SEC("license") = "Dual BSD/GPL";
