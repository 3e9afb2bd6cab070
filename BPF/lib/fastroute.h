/* The XDP fast path's routing (symmetric IRB): an access frame to its domain's anycast
 * gateway MAC, IPv4 or IPv6, from a host the engine already learned there, to an address the
 * engine resolves to one place (`fast_routes`, derived by the switch from the same longest
 * match and host tables the engine uses: VXCore Pipeline+RoutedPath.forward):
 *
 *   gateway MAC ─▶ fast_gateways[bd] ─▶ IP header sound, no options, no padding, TTL > 1
 *     ─▶ source a LOCAL route at this MAC in this domain ─▶ destination in fast_routes (VRF)
 *        LOCAL: FDB of its domain → a fast port of that domain, fits ─▶ TTL−1, MACs := host, gateway ─▶ redirect
 *        REMOTE: resolved VTEP, fits the uplink ─▶ TTL−1, MACs := router MAC of the VTEP, ours ─▶ encap L3 VNI
 *
 * A VXLAN frame in a VRF's L3 VNI to its router MAC (`fast_route_overlay`, VXCore routeOverlay)
 * is routed to a local host the same way, when its source address routes back to the very VTEP
 * it came from (the L3 counterpart of "the source MAC is known at that VTEP").
 *
 * Everything else is declined to the engine, which answers, resolves, sends ICMP errors and
 * counts exactly as before: the gateway's own addresses, TTL 1, no route, unknown or moved
 * source hosts, too big, link-local, options, unresolved next hops.
 */
#ifndef VXSW_FASTROUTE_H
#define VXSW_FASTROUTE_H

/* RFC 1624 eqn. 3, as SwitchPipeline.decrementTTL: TTL|protocol drops by 0x0100, so
 * HC' = ~(~HC + 0xFEFF) in one's complement. */
static __always_inline void ttl_decrement_v4(__u8 *ip) {
    ip[8] -= 1;
    __u32 s = (~(__u32)be16_at(ip + 10) & 0xffff) + 0xfeff;
    s = (s & 0xffff) + (s >> 16);
    __u16 c = ~s & 0xffff;
    ip[10] = c >> 8; ip[11] = c & 0xff;
}

/* The route key of an IPv4 (as ::ffff:a.b.c.d) or IPv6 address in VRF `vrf`. */
static __always_inline void route_key(struct vxsw_fast_route_key *k, __u32 vrf, const __u8 *a, int v6) {
    __builtin_memset(k, 0, sizeof(*k));
    k->vrf = vrf;
    if (v6) {
        __builtin_memcpy(k->addr, a, 16);
    } else {
        k->addr[10] = 0xff; k->addr[11] = 0xff;
        __builtin_memcpy(k->addr + 12, a, 4);
    }
}

/* The IP header at `ip` (40 bytes readable) of a `len`-byte frame of EtherType `type`, as both
 * routed paths take it: IPv4 without options, a right header checksum and no Ethernet padding, or
 * IPv6 with its exact payload, to no link-local address (never routed); TTL / hop limit above 1
 * (else time exceeded, the engine's). 0 for IPv4, 1 for IPv6, with the addresses; FAST_DECLINE
 * otherwise. */
static __always_inline int routable_ip(__u16 type, __u8 *ip, __u32 len, __u8 **saddr, __u8 **daddr) {
    if (type == ETH_P_IP) {
        if (ip[0] != 0x45 || be16_at(ip + 2) != len - ETH_HLEN) return FAST_DECLINE;
        if (csum_fold64(csum_words(ip, 20)) != 0xffff) return FAST_DECLINE; /* bad_ip_checksum */
        if (ip[8] <= 1) return FAST_DECLINE;
        *saddr = ip + 12; *daddr = ip + 16;
        return 0;
    }
    if (type != ETH_P_IPV6) return FAST_DECLINE;
    if ((ip[0] >> 4) != 6 || be16_at(ip + 4) != len - ETH_HLEN - 40) return FAST_DECLINE;
    if (ip[7] <= 1) return FAST_DECLINE;
    if (ip[24] == 0xfe && (ip[25] & 0xc0) == 0x80) return FAST_DECLINE;
    *saddr = ip + 8; *daddr = ip + 24;
    return 1;
}

/* A frame from access port `in` (FDB source entry `src`) to domain `bd`'s gateway MAC. */
static __always_inline int fast_route(struct xdp_md *ctx, struct vxsw_fast_config *cfg, struct vxsw_fast_port *in,
                                      struct vxsw_fast_fdb *src, __u32 bd, __u32 flen) {
    struct vxsw_fast_gateway *gw = bpf_map_lookup_elem(&fast_gateways, &bd);
    if (!gw || gw->l3) return FAST_DECLINE;
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u8 *eth = data;
    __u8 *ip = eth + ETH_HLEN;
    if ((void *)(ip + 40) > end) return FAST_DECLINE;
    if (__builtin_memcmp(eth, gw->mac, 6) != 0) return FAST_DECLINE;
    __u8 *saddr, *daddr;
    int v6 = routable_ip(be16_at(eth + 12), ip, flen, &saddr, &daddr);
    if (v6 < 0) return FAST_DECLINE;
    /* The gateway's own addresses: the engine answers. */
    if (v6 ? gw->has_v6 && __builtin_memcmp(daddr, gw->v6, 16) == 0 : gw->has_v4 && __builtin_memcmp(daddr, gw->v4, 4) == 0)
        return FAST_DECLINE;
    struct vxsw_fast_route_key k;
    /* The source must be a host the engine learned here, at this MAC (else it learns it). */
    route_key(&k, gw->vrf, saddr, v6);
    struct vxsw_fast_route *from = bpf_map_lookup_elem(&fast_routes, &k);
    if (!from || from->kind != VXSW_FAST_ROUTE_LOCAL || from->target != bd || __builtin_memcmp(from->mac, eth + 6, 6) != 0)
        return FAST_DECLINE;
    route_key(&k, gw->vrf, daddr, v6);
    struct vxsw_fast_route *to = bpf_map_lookup_elem(&fast_routes, &k);
    if (!to) return FAST_DECLINE;
    __u8 dmac[6], smac[6];
    __builtin_memcpy(dmac, to->mac, 6);
    __u32 target;
    struct vxsw_fast_vtep *vt = 0;
    if (to->kind == VXSW_FAST_ROUTE_LOCAL) {
        __u32 obd = to->target;
        struct vxsw_fast_gateway *ogw = bpf_map_lookup_elem(&fast_gateways, &obd);
        if (!ogw) return FAST_DECLINE;
        __builtin_memcpy(smac, ogw->mac, 6);
        __u64 key = fdb_key(obd, dmac);
        struct vxsw_fast_fdb *dst = bpf_map_lookup_elem(&fast_fdb, &key);
        if (!dst || dst->kind != VXSW_FAST_PORT) return FAST_DECLINE; /* behind a VTEP in the L2 VNI, or unknown */
        target = dst->target;
        struct vxsw_fast_port *out = bpf_map_lookup_elem(&fast_ports, &target);
        if (!out || out->tap || out->bd != obd || flen > out->max_frame) return FAST_DECLINE; /* too_big: the engine answers */
    } else if (to->kind == VXSW_FAST_ROUTE_REMOTE) {
        if (!gw->l3_vni || !cfg->uplink_ifindex) return FAST_DECLINE;
        target = to->target;
        vt = bpf_map_lookup_elem(&fast_vteps, &target);
        if (!vt || !vt->resolved) return FAST_DECLINE;
        if (vt->ipv6 ? !cfg->has_v6 : !cfg->has_v4) return FAST_DECLINE;
        __u32 overhead = vt->ipv6 ? VXLAN_OVERHEAD_V6 : VXLAN_OVERHEAD_V4;
        if (overhead - ETH_HLEN + flen > cfg->uplink_mtu) return FAST_DECLINE;
        __builtin_memcpy(smac, gw->router_mac, 6);
    } else {
        return FAST_DECLINE;
    }
    if (in->complete_csum && complete_csum(ctx, 0, flen, 0) < 0) return FAST_DECLINE;
    data = (void *)(long)ctx->data;
    end = (void *)(long)ctx->data_end;
    eth = data;
    ip = eth + ETH_HLEN;
    if ((void *)(ip + 40) > end) return FAST_DECLINE;
    /* What the rewrite changes, to put back if the encapsulation fails (the engine then takes it as it came). */
    __u8 saved[16];
    __builtin_memcpy(saved, eth, 12);
    saved[12] = ip[7]; saved[13] = ip[8]; saved[14] = ip[10]; saved[15] = ip[11];
    if (v6) ip[7] -= 1;
    else ttl_decrement_v4(ip);
    __builtin_memcpy(eth, dmac, 6);
    __builtin_memcpy(eth + 6, smac, 6);
    if (vt) {
        __u16 sport = flow_source_port(flow_hash(data, end), cfg->sport_lo, cfg->sport_hi);
        int verdict = push_outer(ctx, cfg, vt, gw->l3_vni, flen, sport);
        if (verdict < 0) {
            data = (void *)(long)ctx->data;
            end = (void *)(long)ctx->data_end;
            eth = data;
            ip = eth + ETH_HLEN;
            if ((void *)(ip + 40) > end) return FAST_DECLINE;
            __builtin_memcpy(eth, saved, 12);
            ip[7] = saved[12]; ip[8] = saved[13]; ip[10] = saved[14]; ip[11] = saved[15];
            return FAST_DECLINE;
        }
        touch(src);
        count(VXSW_STAT_FAST_ROUTED);
        return verdict;
    }
    touch(src);
    count(VXSW_STAT_FAST_ROUTED);
    return bpf_redirect(target, 0);
}

/* Decapsulated in L3 VNI domain `l3` (outer source `osrc`, inner frame `ioff`/`ilen`): to a local host, or FAST_DECLINE. */
static __always_inline int fast_route_overlay(struct xdp_md *ctx, struct vxsw_fast_config *cfg, struct vxsw_fast_gateway *l3,
                                              const __u8 *osrc, int ov6, __u32 l4, __u32 udplen, __u32 ioff, __u32 ilen,
                                              __u32 flen) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (ioff > 512 || ilen < ETH_HLEN + 40) return FAST_DECLINE; /* short ones are the engine's (and the bound below holds) */
    __u8 *inner = data + ioff;
    __u8 *ip = inner + ETH_HLEN;
    if ((void *)(ip + 40) > end) return FAST_DECLINE;
    if (__builtin_memcmp(inner, l3->mac, 6) != 0) return FAST_DECLINE; /* not_routable: the engine drops it */
    __u8 *saddr, *daddr;
    int v6 = routable_ip(be16_at(inner + 12), ip, ilen, &saddr, &daddr);
    if (v6 < 0) return FAST_DECLINE;
    struct vxsw_fast_route_key k;
    route_key(&k, l3->vrf, saddr, v6);
    struct vxsw_fast_route *from = bpf_map_lookup_elem(&fast_routes, &k);
    if (!from || from->kind != VXSW_FAST_ROUTE_REMOTE) return FAST_DECLINE;
    __u32 sv = from->target;
    struct vxsw_fast_vtep *vt = bpf_map_lookup_elem(&fast_vteps, &sv);
    if (!vt || vt->ipv6 != ov6) return FAST_DECLINE;
    if (ov6 ? __builtin_memcmp(vt->remote, osrc, 16) != 0 : __builtin_memcmp(vt->remote, osrc, 4) != 0) return FAST_DECLINE;
    route_key(&k, l3->vrf, daddr, v6);
    struct vxsw_fast_route *to = bpf_map_lookup_elem(&fast_routes, &k);
    if (!to || to->kind != VXSW_FAST_ROUTE_LOCAL) return FAST_DECLINE; /* never back into the overlay */
    __u32 obd = to->target;
    struct vxsw_fast_gateway *ogw = bpf_map_lookup_elem(&fast_gateways, &obd);
    if (!ogw || ogw->l3) return FAST_DECLINE;
    __u8 dmac[6], smac[6];
    __builtin_memcpy(dmac, to->mac, 6);
    __builtin_memcpy(smac, ogw->mac, 6);
    __u64 key = fdb_key(obd, dmac);
    struct vxsw_fast_fdb *dst = bpf_map_lookup_elem(&fast_fdb, &key);
    if (!dst || dst->kind != VXSW_FAST_PORT) return FAST_DECLINE;
    __u32 target = dst->target;
    struct vxsw_fast_port *out = bpf_map_lookup_elem(&fast_ports, &target);
    if (!out || out->tap || out->bd != obd || ilen > out->max_frame) return FAST_DECLINE;
    if (finish_decap(ctx, cfg, l4, udplen, ov6, ioff, ilen, flen, cfg->decap_complete_csum) < 0) return FAST_DECLINE;
    data = (void *)(long)ctx->data;
    end = (void *)(long)ctx->data_end;
    __u8 *eth = data;
    ip = eth + ETH_HLEN;
    if ((void *)(ip + 40) > end) return XDP_ABORTED; /* unreachable: ilen >= 54 was checked (for the verifier) */
    if (v6) ip[7] -= 1;
    else ttl_decrement_v4(ip);
    __builtin_memcpy(eth, dmac, 6);
    __builtin_memcpy(eth + 6, smac, 6);
    count(VXSW_STAT_FAST_ROUTED);
    return bpf_redirect(target, 0);
}

#endif
