/* The value structs of the XDP fast path's maps: one definition for the BPF program
 * (lib/fast_maps.h) and for Swift, which includes this header through Sources/CVXSW and
 * builds the map values from these types. FastPathLayoutTests compares the compiled program's
 * BTF (sizes and member offsets) with the layout Swift sees.
 */
#ifndef VXSW_FAST_TYPES_H
#define VXSW_FAST_TYPES_H

#include <linux/types.h>

#define VXSW_FAST_MAX_FDB    262144
#define VXSW_FAST_MAX_VTEPS  4096
#define VXSW_FAST_MAX_VNIS   4096
#define VXSW_FAST_MAX_ROUTES 16384

/* The fast path's global settings (array of one). All zero: fast path off. */
struct vxsw_fast_config {
    __u32 enabled;
    __u32 uplink_ifindex;
    __u32 uplink_mtu;        /* largest outer IP packet */
    __u16 sport_lo;          /* outer UDP source port range, host order */
    __u16 sport_hi;
    __u16 udp_port;          /* VXLAN port, network order */
    __u8  udp6_zero_csum;    /* outer IPv6 UDP checksum 0 instead of computed */
    __u8  decap_complete_csum; /* complete inner TCP/UDP checksums after decap */
    __u8  local_v4[4];
    __u8  local_v6[16];
    __u8  has_v4;
    __u8  has_v6;
    __u8  uplink_mac[6];
    __u8  verify_udp_csum4;  /* verify non-zero outer UDP checksums over IPv4 (wrong: declined, the engine drops) */
    __u8  verify_udp_csum6;  /* the same over IPv6 */
    __u32 tap_uplink_ifindex; /* where the tap path (lib/tapfast.h) sends what it encapsulates:
                               * the uplink, also when XDP may not redirect into it (a veth) */
    __u32 tap_gro;           /* decapsulated frames to taps go up through the uplink's GRO to its
                              * tc program (lib/tapgro.h): set only while that is attached */
};

/* An untagged access port the fast path may receive from and deliver to, by ifindex. */
struct vxsw_fast_port {
    __u32 bd;                /* bridge-domain index (the FDB key's high 16 bits) */
    __u32 vni;               /* host order */
    __u32 max_frame;         /* largest (untagged) frame delivered to it: MTU + 14, as the engine */
    __u8  complete_csum;     /* frames received here get their TCP/UDP checksum completed */
    __u8  tap;               /* a VM's tap on a packet socket: only the tap path (lib/tapfast.h)
                              * delivers to it, never XDP (a redirect would bypass GRO) */
    __u8  pad[2];
};

enum vxsw_fast_kind {
    VXSW_FAST_PORT = 1,      /* target: ifindex of a fast port */
    VXSW_FAST_VTEP = 2,      /* target: index into fast_vteps */
};

/* FDB entry, keyed like VXCore's FDB: bd << 48 | MAC (MAC as a 48-bit big-endian number). */
struct vxsw_fast_fdb {
    __u32 kind;
    __u32 target;
    __u32 last_seen;         /* written here: monotonic seconds when this MAC last sent a fast-pathed frame */
    __u32 pad;
};

/* A remote VTEP: its address (for the decap source check) and, when resolved, the outer headers. */
struct vxsw_fast_vtep {
    __u8  next_hop[6];       /* outer destination MAC */
    __u8  resolved;          /* next hop known and a local address of this family exists */
    __u8  ipv6;
    __u8  remote[16];        /* IPv4: first 4 bytes */
};

/* A bridge domain's anycast gateway (key: bridge-domain index): frames to `mac` are routed.
 * An L3 VNI's domain has one too (`l3`): decapsulated frames to the router MAC are routed. */
struct vxsw_fast_gateway {
    __u8  mac[6];
    __u8  router_mac[6];     /* the VRF's router MAC: the inner source toward a remote VTEP */
    __u32 vrf;               /* VRF index (the route key's) */
    __u32 l3_vni;            /* the VRF's L3 VNI, host order; 0: none */
    __u8  v4[4];             /* the gateway's own addresses: left to the engine (it answers) */
    __u8  v6[16];
    __u8  has_v4;
    __u8  has_v6;
    __u8  l3;                /* this domain is the VRF's L3 VNI: `mac` is the router MAC */
    __u8  pad;
};

/* A host route's key: VRF index and the address (IPv4 as ::ffff:a.b.c.d). */
struct vxsw_fast_route_key {
    __u32 vrf;
    __u8  addr[16];
};

enum vxsw_fast_route_kind {
    VXSW_FAST_ROUTE_LOCAL = 1,   /* target: the host's bridge domain; mac: the host's */
    VXSW_FAST_ROUTE_REMOTE = 2,  /* target: index into fast_vteps; mac: its router MAC */
};

/* Where the engine's longest match and host resolution send a packet to that address. */
struct vxsw_fast_route {
    __u32 kind;
    __u32 target;
    __u8  mac[6];
    __u8  pad[2];
};

#endif
