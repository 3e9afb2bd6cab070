/// The uplink's half of feeding guests through the kernel's GRO (BPF/lib/tapgro.h): the XDP
/// fast path decapsulates a frame for a tap and passes it up with the tap in its metadata,
/// GRO merges a flow's segments, and `vxsw_uplink_to_tap`, attached here to the uplink's tcx
/// ingress (a bpf_link, gone with the process), redirects the merged frame to the tap.
///
/// The daemon sets the fast path's `tap_gro` only while this exists, so XDP never passes a
/// decapsulated frame up that nothing would take; the datapath attaches it before the uplink
/// joins the XDP program's ports and detaches it after the XDP program.
public final class UplinkTapDelivery {
    private let link: XDPLink

    public init(program: XDPProgram, uplink: InterfaceInfo) throws {
        link = try .tcxIngress(programFD: program.uplinkToTapFD, ifindex: uplink.ifindex,
                               what: "\(uplink.name): the program that hands decapsulated frames to taps")
    }

    public func detach() { link.detach() }

    deinit { link.detach() }
}
