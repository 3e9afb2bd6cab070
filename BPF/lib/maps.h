/* Maps shared between the XDP program and the Swift loader (VXDatapath/XDPProgram.swift, VXDatapath/FastPathMaps.swift).
 * Keep the layouts here and there identical. */
#ifndef VXSW_MAPS_H
#define VXSW_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define VXSW_MAX_PORTS   256
#define VXSW_MAX_QUEUES  64

enum vxsw_port_role {
    VXSW_ROLE_ACCESS = 1, /* VM port: every frame goes to the switch */
    VXSW_ROLE_UPLINK = 2, /* underlay: only VXLAN to our VTEP goes to the switch */
};

struct vxsw_port {
    __u32 slot; /* index of the port's sockets in `xsks` (slot * VXSW_MAX_QUEUES + queue) */
    __u32 role;
};

struct vxsw_config {
    __u8  vtep4[4];    /* local IPv4 VTEP, network order */
    __u8  vtep6[16];   /* local IPv6 VTEP */
    __u16 udp_port;    /* VXLAN UDP port, network order */
    __u8  has_vtep4;
    __u8  has_vtep6;
};

enum vxsw_stat {
    VXSW_STAT_ACCESS_TO_SWITCH = 0, /* access frames handed to an XSK */
    VXSW_STAT_VXLAN_TO_SWITCH,      /* uplink VXLAN frames for our VTEP handed to an XSK */
    VXSW_STAT_UPLINK_PASS,          /* uplink frames left to the kernel (BGP, SSH, ...) */
    VXSW_STAT_UNKNOWN_PORT_PASS,    /* interface not in `ports` */
    VXSW_STAT_QUEUE_OUT_OF_RANGE,   /* rx queue >= VXSW_MAX_QUEUES */
    VXSW_STAT_FAST_ENCAP,           /* fast path: access frame encapsulated, redirected to the uplink */
    VXSW_STAT_FAST_DECAP,           /* fast path: VXLAN frame decapsulated, redirected to a port */
    VXSW_STAT_FAST_LOCAL,           /* fast path: access frame redirected to another access port */
    VXSW_STAT_FAST_ROUTED,          /* fast path: access frame routed (to a local host or through the L3 VNI) */
    VXSW_STAT_FAST_TAP,             /* tap path: a tap's frame (super-frames whole) redirected to another tap */
    VXSW_STAT_FAST_TAP_ENCAP,       /* tap path: a tap's frame encapsulated whole, redirected to the uplink */
    VXSW_STAT_FAST_TAP_LOST,        /* tap path: a frame the socket filter took that tc could not send; or one XDP decapsulated for a tap gone by delivery (dropped) */
    VXSW_STAT_FAST_DECAP_TAP_ACK,   /* fast path: a bare TCP ACK decapsulated, redirected to a guest's tap */
    VXSW_STAT_FAST_DECAP_TAP,       /* fast path: a frame decapsulated for a guest's tap, passed up for GRO (tapgro.h) */
    VXSW_STAT_MAX,
};

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, VXSW_MAX_PORTS * VXSW_MAX_QUEUES);
    __type(key, __u32);
    __type(value, __u32);
} xsks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VXSW_MAX_PORTS);
    __type(key, __u32); /* ifindex */
    __type(value, struct vxsw_port);
} ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct vxsw_config);
} config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, VXSW_STAT_MAX);
    __type(key, __u32);
    __type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 stat) {
    __u64 *v = bpf_map_lookup_elem(&stats, &stat);
    if (v) *v += 1;
}

#endif
