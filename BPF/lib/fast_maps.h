/* Maps of the XDP fast path, mirrored by the switch daemon from its tables
 * (Sources/VXDatapath/FastPathMaps.swift writes them). Their value structs are in fast_types.h,
 * which the Swift side includes too (Sources/CVXSW), so there is one layout; a test compares the
 * compiled program's BTF with what Swift sees.
 *
 * Only what is safe to forward without the Swift engine is mirrored: untagged access
 * ports, resolved VTEPs, unicast FDB entries toward those. A miss anywhere sends the
 * frame to the AF_XDP socket, where the Swift engine handles it exactly as before.
 */
#ifndef VXSW_FAST_MAPS_H
#define VXSW_FAST_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fast_types.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct vxsw_fast_config);
} fast_config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u32); /* ifindex */
    __type(value, struct vxsw_fast_port);
} fast_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VXSW_FAST_MAX_FDB);
    __type(key, __u64);
    __type(value, struct vxsw_fast_fdb);
} fast_fdb SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, VXSW_FAST_MAX_VTEPS);
    __type(key, __u32);
    __type(value, struct vxsw_fast_vtep);
} fast_vteps SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VXSW_FAST_MAX_VNIS);
    __type(key, __u32);   /* VNI, host order */
    __type(value, __u32); /* bridge-domain index */
} fast_vnis SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VXSW_FAST_MAX_VNIS);
    __type(key, __u32);   /* bridge-domain index */
    __type(value, struct vxsw_fast_gateway);
} fast_gateways SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VXSW_FAST_MAX_ROUTES);
    __type(key, struct vxsw_fast_route_key);
    __type(value, struct vxsw_fast_route);
} fast_routes SEC(".maps");

#endif
