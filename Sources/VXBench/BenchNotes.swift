/// The caveats every results file states, so a figure is never read without them.
public enum BenchNotes {
    public static func standard(_ r: BenchReport) -> [String] {
        var n = [
            "The rig is veth pairs between network namespaces on one machine. veth runs the receiver's NAPI on the CPU that transmits, "
                + "so the kernel work a frame causes on entry to the switch (XDP, or the bridge and vxlan for the kernel contender) "
                + "runs on the generator's CPU \(r.settings.generatorCPU); only polling threads (vxsw worker, OVS PMD) run on CPU \(r.settings.switchCPU).",
            "The generator is BPF/trafficgen.c run with BPF_PROG_RUN in live-frames mode (XDP_TX out of the generator's veth); "
                + "the sink is BPF/sink.c (XDP_DROP, counting per class). 'offered' is what the generator sent.",
            "8950-byte frames with a 9000-byte underlay MTU are not measured: BPF_PROG_RUN refuses live-frames mode for frames "
                + "larger than a page minus headroom (the kernel's test_run disallows live mode for jumbo frames), so this generator "
                + "cannot send them (tried: an 8950-byte frame gets EINVAL from BPF_PROG_RUN on kernel \(r.machine.kernel)).",
            "Neighbours are static (the sinks drop ARP); the VM MAC and the remote VM MAC are static FDB entries in every contender.",
            "TCP and latency run vm -> switch under test -> hv2 (Linux bridge + kernel vxlan) -> vm2, so hv2's kernel VTEP is in "
                + "every path; the ceiling forwards nothing and has no TCP or latency figure.",
        ]
        if r.settings.contenders.contains("ovs") {
            n.append("OVS: the veths facing OVS (vm0, hv2 ul0) have tx checksum offload off for TCP and latency, as OVS userspace "
                     + "drops tunnel packets with partial checksums.")
        }
        if r.settings.contenders.contains("vxsw-xdp") {
            n.append("vxsw-xdp: with the fast path the XDP program on acc0 (encap) or ul0 (decap) rewrites the frame and "
                     + "bpf_redirects it into the other veth; that veth's peer (hv2 ul0 or vm0) runs its NAPI on the CPU that "
                     + "transmitted, so the whole path — generator, XDP on entry, redirect, sink — runs on CPU \(r.settings.generatorCPU). "
                     + "The worker on CPU \(r.settings.switchCPU) only sees what the fast path declines (the XDP fast path check table).")
        }
        if !r.sweep.isEmpty {
            n.append("Sweep: busy-poll variants set SO_BUSY_POLL, SO_BUSY_POLL_BUDGET and SO_PREFER_BUSY_POLL on every AF_XDP "
                     + "socket (`datapath.busy-poll`), and the worker calls recvfrom on an empty rx ring so the kernel can busy-poll; "
                     + "'NAPI defer' also sets napi_defer_hard_irqs 2 and gro_flush_timeout 200000 ns on the dut's veths.")
        }
        if r.machine.vcpus <= 2 {
            n.append("This machine has \(r.machine.vcpus) vCPUs shared with other work (load average at start: "
                     + "\(r.machine.loadAverageAtStart)): generator, switch and everything else compete, and figures vary by ±25% or more between runs.")
        }
        return n
    }
}
