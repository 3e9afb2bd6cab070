import VXCore

/// The microbenchmark world: one `SwitchPipeline` with 1,000 VNIs, one access port per VNI,
/// 64 remote VTEPs and 100,000 MACs (50 local + 50 remote per VNI) learned before the
/// first batch, and two synthetic rings (`SyntheticFrameIO`) whose frames are recycled.
///
///     decap:  uplink  → VXLAN 114 B (inner 64 B) → decap → learn remote src → lookup dst → access port
///     encap:  access  → 64 B frame → learn local src → lookup remote dst → encap (+50 B) → uplink
///     mixed:  decap and encap batches alternating on the same pipeline
///
/// The harness's own per-packet work is a frame from the free list and four small stores
/// (MACs, VNI, outer source) into a frame that already holds the template — the part a
/// NIC's DMA would do. `harnessOnlyBatch` measures exactly that work without the pipeline.
public struct PipelineBench {
    public static let vniCount = 1_000
    public static let localPerVNI = 50
    public static let remotePerVNI = 50
    public static let vtepCount = 64
    public static let batchSize = 64
    public static let innerLength = 64
    public static let outerLength = innerLength + Encap.overheadV4 // 114
    static let headroom = 256
    static let flowCount = 1 << 17

    public static let uplink = PortID(0)
    static let uplinkMAC = MACAddress(raw: 0x02_00_00_00_FF_01)
    static let gatewayMAC = MACAddress(raw: 0x02_00_00_00_FF_02)
    static let localIP: UInt32 = 0x0A00_0001 // 10.0.0.1
    static func vtepIP(_ v: Int) -> UInt32 { 0x0A01_0000 | UInt32(v + 1) } // 10.1.0.x
    static func vni(_ k: Int) -> UInt32 { 10_000 + UInt32(k) }
    static func port(_ k: Int) -> PortID { PortID(k + 1) }
    static func localMAC(_ k: Int, _ i: Int) -> UInt64 { 0x02_AA_00_00_00_00 | UInt64(k) << 8 | UInt64(i) }
    static func remoteMAC(_ k: Int, _ j: Int) -> UInt64 { 0x02_BB_00_00_00_00 | UInt64(k) << 8 | UInt64(j) }
    static func vtepOf(_ k: Int, _ j: Int) -> Int { (k &* 7 &+ j) % vtepCount }

    /// One packet's varying fields.
    struct Flow {
        var k: UInt16 // VNI index (and access port - 1)
        var dst: UInt64
        var src: UInt64
        var outerSource: UInt32
        /// The outer IPv4 header checksum with this source (the switch verifies it).
        var outerChecksum: UInt16
    }

    static func outerChecksum(source: UInt32) -> UInt16 {
        withUnsafeTemporaryAllocation(byteCount: IPv4.headerLength, alignment: 4) { b in
            IPv4.write(b.baseAddress!, totalLength: outerLength - 14, protocol: IPv4.protocolUDP, source: source,
                       destination: localIP)
            return b.baseAddress!.loadBE16(10)
        }
    }

    public var pipeline: SwitchPipeline
    public var decapIO: SyntheticFrameIO
    public var encapIO: SyntheticFrameIO
    let batch: UnsafeMutableBufferPointer<FrameDescriptor>
    let decapFlows: UnsafeMutablePointer<Flow>
    /// Encap flows come in runs of `batchSize` from one access port (one VNI).
    let encapFlows: UnsafeMutablePointer<Flow>
    var decapCursor = 0
    var encapCursor = 0
    public let now: UInt32 = 1_000

    public init() {
        var underlay = UnderlayConfig(uplink: Self.uplink, uplinkMAC: Self.uplinkMAC, localV4: IPAddress(v4: Self.localIP))
        underlay.uplinkMTU = 1500
        var p = SwitchPipeline(underlay: underlay, maxPorts: 1024, maxBridgeDomains: 1024, maxVTEPs: 256,
                               fdbCapacity: 131_072, eventCapacity: 4096)
        p.setPort(Self.uplink, PortConfig(kind: .uplink))
        for v in 0..<Self.vtepCount { p.setNextHop(vtep: IPAddress(v4: Self.vtepIP(v)), Self.gatewayMAC) }
        for k in 0..<Self.vniCount {
            let vni = VNI(Self.vni(k))!
            let bd = p.addVNI(vni, learnRemote: true)!
            p.setPort(Self.port(k), PortConfig(kind: .access(vni)))
            for i in 0..<Self.localPerVNI {
                _ = p.fdb.learnLocal(bd: bd, mac: MACAddress(raw: Self.localMAC(k, i)), port: Self.port(k), now: now)
                _ = p.drainFDBEvents() // a learn waits while the event ring is full (back-pressure)
            }
            for j in 0..<Self.remotePerVNI {
                let v = p.vteps.index(of: IPAddress(v4: Self.vtepIP(Self.vtepOf(k, j))))!
                _ = p.fdb.learnRemote(bd: bd, mac: MACAddress(raw: Self.remoteMAC(k, j)), vtep: v, now: now)
                _ = p.drainFDBEvents()
            }
        }
        _ = p.drainFDBEvents()
        precondition(p.fdb.count == Self.vniCount * (Self.localPerVNI + Self.remotePerVNI), "FDB not populated")
        pipeline = p

        decapIO = SyntheticFrameIO(frameCount: 256, frameSize: 2048, allocationHeadroom: Self.headroom)
        encapIO = SyntheticFrameIO(frameCount: 256, frameSize: 2048, allocationHeadroom: Self.headroom)
        batch = .allocate(capacity: Self.batchSize)
        batch.initialize(repeating: FrameDescriptor(addr: 0, length: 0))

        var rng = SplitMix(seed: 0x5EED)
        decapFlows = .allocate(capacity: Self.flowCount)
        encapFlows = .allocate(capacity: Self.flowCount)
        for n in 0..<Self.flowCount {
            let k = rng.next(Self.vniCount), i = rng.next(Self.localPerVNI), j = rng.next(Self.remotePerVNI)
            let source = Self.vtepIP(Self.vtepOf(k, j))
            decapFlows[n] = Flow(k: UInt16(k), dst: Self.localMAC(k, i), src: Self.remoteMAC(k, j),
                                 outerSource: source, outerChecksum: Self.outerChecksum(source: source))
        }
        var n = 0
        while n < Self.flowCount {
            let k = rng.next(Self.vniCount)
            for _ in 0..<Self.batchSize {
                let i = rng.next(Self.localPerVNI), j = rng.next(Self.remotePerVNI)
                encapFlows[n] = Flow(k: UInt16(k), dst: Self.remoteMAC(k, j), src: Self.localMAC(k, i), outerSource: 0,
                                     outerChecksum: 0)
                n += 1
            }
        }
        Self.fillTemplates(&decapIO, outer: true)
        Self.fillTemplates(&encapIO, outer: false)
    }

    /// Writes the constant bytes of every frame buffer once: (outer headers +) inner
    /// Ethernet/IPv4/UDP, so each batch only rewrites the fields that vary.
    static func fillTemplates(_ io: inout SyntheticFrameIO, outer: Bool) {
        var all: [UInt64] = []
        while let a = io.allocateFrame() { all.append(a) }
        for a in all {
            var p = io.memory + Int(a) + headroom
            if outer {
                Ethernet.write(p, dst: uplinkMAC, src: gatewayMAC, type: Ethernet.typeIPv4)
                IPv4.write(p + 14, totalLength: outerLength - 14, protocol: IPv4.protocolUDP, source: vtepIP(0),
                           destination: localIP)
                UDP.write(p + 34, sourcePort: 50_000, destinationPort: VXLAN.defaultPort, length: outerLength - 34)
                VXLAN.write(p + 42, vni: VNI(unchecked: vni(0)))
                p += Encap.overheadV4
            }
            Ethernet.write(p, dst: MACAddress(raw: localMAC(0, 0)), src: MACAddress(raw: remoteMAC(0, 0)),
                           type: Ethernet.typeIPv4)
            IPv4.write(p + 14, totalLength: innerLength - 14, protocol: IPv4.protocolUDP, source: 0xC0A8_0001,
                       destination: 0xC0A8_0002)
            UDP.write(p + 34, sourcePort: 1234, destinationPort: 80, length: innerLength - 34)
            (p + 42).initializeMemory(as: UInt8.self, repeating: 0xAB, count: innerLength - 42)
        }
        for a in all { io.releaseFrame(a) }
    }

    // MARK: batches

    /// One batch of 64 VXLAN frames from the uplink, then tx completion (recycle).
    @inline(never)
    public mutating func decapBatch() {
        receiveDecapBatch()
        pipeline.process(batch, from: Self.uplink, now: now, io: &decapIO)
        decapIO.recycle()
    }

    /// The "NIC" part of a decap batch: 64 frames from the free list with this batch's
    /// outer source, VNI and inner MACs stored into the template.
    @inline(__always)
    mutating func receiveDecapBatch() {
        for n in 0..<Self.batchSize {
            let base = decapIO.allocateFrame().unsafelyUnwrapped
            let p = decapIO.memory + Int(base) + Self.headroom
            let f = decapFlows[decapCursor]
            decapCursor = (decapCursor &+ 1) & (Self.flowCount - 1)
            p.storeBE32(f.outerSource, 26)
            p.storeBE16(f.outerChecksum, 24)
            p.storeBE32(Self.vni(Int(f.k)) << 8, 46)
            MACAddress(raw: f.dst).store(to: p + 50)
            MACAddress(raw: f.src).store(to: p + 56)
            batch[n] = FrameDescriptor(addr: base &+ UInt64(Self.headroom), length: Self.outerLength)
        }
    }

    /// One batch of 64 frames from one access port toward known remote MACs, then recycle.
    @inline(never)
    public mutating func encapBatch() {
        let port = Self.port(Int(encapFlows[encapCursor].k))
        for n in 0..<Self.batchSize {
            let base = encapIO.allocateFrame().unsafelyUnwrapped
            let p = encapIO.memory + Int(base) + Self.headroom
            let f = encapFlows[encapCursor]
            encapCursor = (encapCursor &+ 1) & (Self.flowCount - 1)
            MACAddress(raw: f.dst).store(to: p)
            MACAddress(raw: f.src).store(to: p + 6)
            batch[n] = FrameDescriptor(addr: base &+ UInt64(Self.headroom), length: Self.innerLength)
        }
        pipeline.process(batch, from: port, now: now, io: &encapIO)
        encapIO.recycle()
    }

    /// A decap batch and an encap batch (128 packets).
    public mutating func mixedPair() {
        decapBatch()
        encapBatch()
    }

    /// The harness's own work for one decap batch (frame from the free list, field
    /// stores, release) without the pipeline: the floor under every figure.
    @inline(never)
    public mutating func harnessOnlyBatch() {
        receiveDecapBatch()
        for n in 0..<Self.batchSize { decapIO.releaseFrame(batch[n].addr) }
    }

    // MARK: checks

    /// Runs one batch of each kind and checks that every frame went where it should:
    /// decap → the access port of its VNI, encap → the uplink; no drops, no floods.
    public mutating func verify() {
        let before = pipeline.counters
        let uplinkTx = before.ports[0].txPackets
        var portTx: UInt64 = 0
        for k in 0..<Self.vniCount { portTx &+= before.ports[k + 1].txPackets }
        decapBatch()
        encapBatch()
        let after = pipeline.counters
        var portTxAfter: UInt64 = 0
        for k in 0..<Self.vniCount { portTxAfter &+= after.ports[k + 1].txPackets }
        precondition(portTxAfter - portTx == UInt64(Self.batchSize), "decap: not every frame reached its access port")
        precondition(after.ports[0].txPackets - uplinkTx == UInt64(Self.batchSize), "encap: not every frame encapsulated")
        for r in DropReason.allCases { precondition(after.drops(r) == 0, "drops: \(r)") }
        var floods: UInt64 = 0
        for k in 0..<Self.vniCount { floods &+= after.vnis[k].floods }
        precondition(floods == 0, "unexpected floods")
        precondition(pipeline.fdb.count == Self.vniCount * (Self.localPerVNI + Self.remotePerVNI), "FDB changed size")
        precondition(decapIO.freeCount == decapIO.frameCount && encapIO.freeCount == encapIO.frameCount, "frame leak")
    }
}

/// Deterministic flows (splitmix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
