import VXDatapath
import VXCore
/// What `vxsw show ... --json` returns; the human output is formatted from the same values
/// (Show/ShowText.swift), so both always agree.

public struct PortView: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    /// uplink | access | trunk
    public var kind: String
    public var vnis: [UInt32]
    public var mtu: Int
    public var rxPackets: UInt64
    public var rxBytes: UInt64
    public var txPackets: UInt64
    public var txBytes: UInt64
    /// Drops by reason (only reasons with a non-zero count).
    public var drops: [String: UInt64]
    /// Storm control (VM ports): frames per second it may flood, per class; 0 = no limit. Optional: older switches do not send it.
    public var stormControl: StormLimits?
    /// What the kernel dropped on its AF_XDP sockets before vxsw saw a frame (XDP_STATISTICS,
    /// summed over its sockets); nil for a tap on a packet socket, or from an older switch.
    public var kernelDrops: XSKKernelDrops? = nil
    /// MACs learned on the port, its MAC limit (nil: none) and the sources not learned because
    /// of it (their frames were forwarded). Optional: older switches do not send them.
    public var learnedMACs: Int?
    public var macLimit: Int?
    public var macLimitHits: UInt64?
}

public struct MACView: Codable, Sendable, Equatable {
    public var vni: UInt32
    public var mac: String
    /// local | remote | static | evpn
    public var type: String
    public var port: String?
    public var vtep: String?
    public var ageSeconds: UInt32?
    public var sequence: UInt32
    public var sticky: Bool
}

public struct MACTable: Codable, Sendable, Equatable {
    public var entries: [MACView]
    /// For a page (`show mac --limit`): the `--from` of the next page; nil: this was the last.
    public var next: Int?
    public init(entries: [MACView], next: Int? = nil) { self.entries = entries; self.next = next }
}

/// `show mac --count`: MACs per VNI and type (local | remote | static | evpn), without rows.
public struct MACCount: Codable, Sendable, Equatable {
    public var total: Int
    public var byType: [String: Int]
    public var byVNI: [String: Int]
    /// Entries toward each remote VTEP (its address); nil from older switches.
    public var byVTEP: [String: Int]?
}

/// `show mac --total`: every entry of the owner's FDB, all VNIs and origins.
public struct MACTotal: Codable, Sendable, Equatable {
    public var total: Int
}

public struct VNIView: Codable, Sendable, Equatable {
    public var vni: UInt32
    public var ports: [String]
    public var floodList: [String]
    public var localMACs: Int
    public var remoteMACs: Int
    public var macLimit: Int?
    public var learnRemote: Bool
    public var rxPackets: UInt64
    public var rxBytes: UInt64
    public var txPackets: UInt64
    public var txBytes: UInt64
    public var floods: UInt64
    /// ARP requests / neighbour solicitations answered by the switch (ARP/ND suppression).
    public var arpSuppressed: UInt64
    public var ndSuppressed: UInt64
    /// Neighbour-table entries (IP → MAC from EVPN MAC/IP routes).
    public var neighbors: Int
    public var drops: [String: UInt64]
    /// Sources not learned (their frames forwarded all the same): the VNI's MAC limit was
    /// reached; the FDB held `fdb.max-entries`; put off while the FDB event stream toward the
    /// owner and EVPN was full (the next frame learns it). Optional: older switches do not send them.
    public var macLimitHits: UInt64?
    public var tableFullHits: UInt64?
    public var learnsDeferred: UInt64?
}

public struct VTEPView: Codable, Sendable, Equatable {
    public var address: String
    public var nextHop: String?
    public var txPackets: UInt64
    public var txBytes: UInt64
    public var drops: UInt64
    /// Learned from the data plane (`vtep.accept: any`; ages out), not given by the control plane.
    /// Optional: older switches do not send it.
    public var learned: Bool?
}

public struct StatsView: Codable, Sendable, Equatable {
    public var uptimeSeconds: Int
    public var ports: [PortView]
    public var vnis: [VNIView]
    public var vteps: [VTEPView]
    /// Drops over all ports by reason, every reason listed.
    public var drops: [String: UInt64]
    /// The XDP program's own counters.
    public var xdp: [String: UInt64]
    public var freeFrames: Int
    public var sockets: [SocketView]
    /// Tap ports on packet sockets: GSO super-frames in, coalesced super-frames out.
    public var taps: [TapView]
    /// Times a worker found the owner's report ring full and kept its FDB events for the next
    /// round (back-pressure: no event is lost; learning waits meanwhile, see `learnsDeferred`).
    public var fdbEventsHeldBack: UInt64
    /// Loops the first worker thread has run (advances at least every 100 ms while it turns;
    /// the systemd watchdog checks it). Optional: older switches do not send it.
    public var workerHeartbeat: UInt64?
    /// Every worker: its CPU, loops, frames received and CPU time (the watchdog checks each).
    public var workers: [WorkerView]?
    /// Guests' super-frames sent whole to remote VTEPs (tunnel GSO). Optional: older switches do not send it.
    public var tunnel: TunnelView?
}

/// The tunnel tap (`datapath.tunnel-gso`): its name, or why there is none, and what went through it.
public struct TunnelView: Codable, Sendable, Equatable {
    /// The tap's name (vxgsoN) while there is one.
    public var tap: String?
    /// Why super-frames to remote VTEPs are segmented instead (off, or the kernel cannot).
    public var unavailable: String?
    public var counters: TunnelCounters
}

public struct WorkerView: Codable, Sendable, Equatable {
    public var index: Int
    public var cpu: Int?
    public var heartbeat: UInt64
    /// Frames the worker received and ran through its tables.
    public var frames: UInt64
    /// CPU time its thread has used (updated once a second).
    public var cpuSeconds: Double
    public var freeFrames: Int
    /// Sockets and taps it receives on.
    public var receivesOn: [String]
}

public struct TapView: Codable, Sendable, Equatable {
    public var port: String
    public var counters: TapCounters
}

public struct SocketView: Codable, Sendable, Equatable {
    public var port: String
    public var txKicks: UInt64
    public var txKickErrors: UInt64
    public var outstandingTx: UInt32
    public var fillFrames: UInt32
    /// The kernel's drops on this socket (XDP_STATISTICS); nil from a switch that does not send them.
    public var kernelDrops: XSKKernelDrops?
}

/// `show ip route vrf NAME`: one VRF's routes of one family.
public struct RouteTableView: Codable, Sendable, Equatable {
    public var vrf: String
    public var l3VNI: UInt32
    public var routerMAC: String
    public var routes: [RouteView]
}

public struct RouteView: Codable, Sendable, Equatable {
    public var prefix: String
    /// connected | host | learned | remote
    public var type: String
    /// The L2 VNI (connected, host, learned).
    public var vni: UInt32?
    /// Host MAC, or the remote router MAC.
    public var mac: String?
    public var vtep: String?
    /// The local port the host's MAC is behind.
    public var port: String?
}
