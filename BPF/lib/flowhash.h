/* The inner-flow hash for the outer UDP source port: a port of VXCore's FlowHash.swift
 * that must give the same value for the same frame (the fast path and the Swift engine
 * send one flow on one underlay ECMP path, and their bytes are compared in tests).
 * Loads are little-endian (bpfel), like Swift's loadUnaligned on x86-64 and arm64.
 */
#ifndef VXSW_FLOWHASH_H
#define VXSW_FLOWHASH_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>

static __always_inline __u64 fh_mix(__u64 h, __u64 x) {
    __u64 m = (h ^ x) * 0x9E3779B97F4A7C15ULL;
    return m ^ (m >> 29);
}

static __always_inline __u32 fh_fin(__u64 h) { return (__u32)((h >> 32) ^ h); }

static __always_inline __u64 fh_load64(const __u8 *p) {
    __u64 v;
    __builtin_memcpy(&v, p, 8);
    return v;
}

static __always_inline __u32 fh_load32(const __u8 *p) {
    __u32 v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

/* Hash of the untagged frame [data, end) (the caller has checked 14 bytes). An 802.1Q
 * frame never reaches here: the fast path leaves tagged frames to the Swift engine. */
static __always_inline __u32 flow_hash(__u8 *p, void *end) {
    if ((void *)(p + ETH_HLEN) > end) return 0;
    __u64 h = fh_mix(0x243F6A8885A308D3ULL, fh_load64(p));
    h = fh_mix(h, (__u64)fh_load32(p + 8));
    __u16 type = ((__u16)p[12] << 8) | p[13];
    __u8 *ip = p + ETH_HLEN;
    __u8 proto;
    __u32 l4;
    if (type == ETH_P_IP) {
        if ((void *)(ip + 20) > end) return fh_fin(h);
        h = fh_mix(h, fh_load64(ip + 12));
        proto = ip[9];
        __u16 frag = ((__u16)ip[6] << 8) | ip[7];
        l4 = (frag & 0x3fff) ? 0 : (ip[0] & 0x0f) << 2;
    } else if (type == ETH_P_IPV6) {
        if ((void *)(ip + 40) > end) return fh_fin(h);
        h = fh_mix(h, fh_load64(ip + 8));
        h = fh_mix(h, fh_load64(ip + 16));
        h = fh_mix(h, fh_load64(ip + 24));
        h = fh_mix(h, fh_load64(ip + 32));
        proto = ip[6];
        l4 = 40;
    } else {
        return fh_fin(h);
    }
    h = fh_mix(h, proto);
    if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && l4 >= 20 && l4 <= 60) {
        __u8 *ports = ip + l4;
        if ((void *)(ports + 4) <= end) h = fh_mix(h, (__u64)fh_load32(ports));
    }
    return fh_fin(h);
}

/* Multiply-shift into [lo, hi], as FlowHash.sourcePort. */
static __always_inline __u16 flow_source_port(__u32 hash, __u16 lo, __u16 hi) {
    __u64 span = (__u64)hi - lo + 1;
    return lo + (__u16)(((__u64)hash * span) >> 32);
}

#endif
