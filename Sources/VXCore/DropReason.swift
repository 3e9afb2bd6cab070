/// Why a frame was dropped.
/// (A per-VNI MAC limit is not a drop: the frame is forwarded, only learning stops; see
/// `VNICounters.macLimitHits`.) Every drop has one; each has a counter per port and per VNI.
/// `name` is what `vxsw show stats` and the Prometheus `reason` label print.
public enum DropReason: Int, CaseIterable, Sendable {
    case runt                 // shorter than an Ethernet header
    case truncatedHeader      // an outer header runs past the end of the frame
    case notVXLAN             // uplink frame that is not UDP to the VXLAN port
    case notForLocalVTEP      // outer destination is not a local VTEP address
    case badIPHeader          // outer (or routed) IP version, header length or total length inconsistent
    case fragmented           // outer IPv4 fragment, or IPv6 Fragment header that is not an atomic fragment
    case badVXLANFlags        // I flag clear (RFC 7348 §5)
    case unknownVNI           // VNI not configured here
    case innerRunt            // decapsulated frame shorter than an Ethernet header
    case badSourceMAC         // multicast or zero source MAC
    case vlanNotMapped        // trunk frame with a tag (or none) that maps to no VNI
    case splitHorizon         // overlay frame whose destination is back in the overlay
    case sameSegment          // destination is the port it came from
    case tooBig               // encapsulated frame exceeds the underlay MTU; a routed packet exceeds the way out's MTU (never fragmented)
    case vtepUnresolved       // no underlay next hop (MAC) known yet for the remote VTEP
    case noLocalAddress       // no local VTEP address of the remote VTEP's family (v4/v6)
    case noBuffer             // no free frame for a flood copy
    case txRingFull           // the destination port's tx ring was full
    case portDown             // destination port removed or not ready
    case noFloodTargets       // BUM frame with nowhere to go
    case badOffload           // a tap's GSO super-frame that cannot be segmented (bad virtio-net header or headers)
    case socketOverflow       // the kernel dropped frames for a tap port: its socket's receive buffer was full
    case linkLocalGroup       // destination 01:80:C2:00:00:00-0F (STP, PAUSE, LACP, LLDP, EAPOL): never relayed (802.1Q §8.6.3)
    case taggedOnAccess       // 802.1Q/802.1ad-tagged frame (VID not 0) on an untagged access port (ingress filtering)
    case innerVLANTag         // decapsulated frame with a VLAN tag, VNI not `carry-tagged` (RFC 7348 §6.1)
    case notOurMAC            // outer destination MAC neither the uplink's nor a group address: not decapsulated
    case badOuterSource       // outer source multicast, broadcast, unspecified, loopback, v4-mapped or our own VTEP
    case badIPChecksum        // outer (or routed) IPv4 header checksum wrong (RFC 1122 §3.2.1.2, RFC 1812 §5.2.2)
    case badExtensionHeader     // outer IPv6 extension headers to a local VTEP that vxsw does not take (malformed, routing, too many)
    case badUDPChecksum       // outer UDP checksum non-zero and wrong, with verification on for the family
    case noRoute              // routed packet with no route in its VRF (an ICMP unreachable is sent from a local port)
    case ttlExceeded          // routed packet with TTL / hop limit 1 or 0 (an ICMP time exceeded is sent from a local port)
    case neighborUnresolved   // routed to a host whose MAC (or its place) is not known yet: an ARP request / NS is sent
    case notRoutable          // to a gateway or router MAC but not routable: not IPv4/IPv6, multicast, link-local, bad source
    case forGateway           // addressed to the gateway itself and consumed: ARP replies, neighbour advertisements, other protocols
    case icmpRateLimited      // an ICMP error not sent: its VRF's rate limit (100 per second) was reached (no frame of its own)
    case stormControl         // a broadcast, multicast or unknown-unicast frame from a port over its storm-control rate
    case unknownVTEP          // VXLAN from a source VTEP the control plane did not give (`vtep.accept: known`)
    case vtepLimit            // VXLAN from a new source VTEP with `vtep.accept: any` and `vtep.max-learned` reached

    public var name: String {
        switch self {
        case .runt: return "runt"
        case .truncatedHeader: return "truncated_header"
        case .notVXLAN: return "not_vxlan"
        case .notForLocalVTEP: return "not_for_local_vtep"
        case .badIPHeader: return "bad_ip_header"
        case .fragmented: return "fragmented"
        case .badVXLANFlags: return "bad_vxlan_flags"
        case .unknownVNI: return "unknown_vni"
        case .innerRunt: return "inner_runt"
        case .badSourceMAC: return "bad_source_mac"
        case .vlanNotMapped: return "vlan_not_mapped"
        case .splitHorizon: return "split_horizon"
        case .sameSegment: return "same_segment"
        case .tooBig: return "too_big"
        case .vtepUnresolved: return "vtep_unresolved"
        case .noLocalAddress: return "no_local_address"
        case .noBuffer: return "no_buffer"
        case .txRingFull: return "tx_ring_full"
        case .portDown: return "port_down"
        case .noFloodTargets: return "no_flood_targets"
        case .badOffload: return "bad_offload"
        case .socketOverflow: return "socket_overflow"
        case .linkLocalGroup: return "link_local_group"
        case .taggedOnAccess: return "tagged_on_access"
        case .innerVLANTag: return "inner_vlan_tag"
        case .notOurMAC: return "not_our_mac"
        case .badOuterSource: return "bad_outer_source"
        case .badIPChecksum: return "bad_ip_checksum"
        case .badExtensionHeader: return "bad_ext_header"
        case .badUDPChecksum: return "bad_udp_checksum"
        case .noRoute: return "no_route"
        case .ttlExceeded: return "ttl_exceeded"
        case .neighborUnresolved: return "neighbor_unresolved"
        case .notRoutable: return "not_routable"
        case .forGateway: return "for_gateway"
        case .icmpRateLimited: return "icmp_rate_limited"
        case .stormControl: return "storm_control"
        case .unknownVTEP: return "unknown_vtep"
        case .vtepLimit: return "vtep_limit"
        }
    }
}
