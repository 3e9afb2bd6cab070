import VXCore
import VXDatapath
import VXLabKit
import XCTest

/// Port 0 <-> port 1, frames passed by address: proves sockets, shared UMEM, fill/completion
/// handling, need_wakeup kicks and the XDP program's access role on real veths.
struct Wire: PacketProcessor {
    /// Read by the test while the worker runs: memory the worker writes, not a copy of it.
    let forwarded = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    init() { forwarded.initialize(to: 0) }
    mutating func process<IO: FrameIO>(_ batch: UnsafeMutableBufferPointer<FrameDescriptor>,
                                       from port: PortID, now: UInt32, io: inout IO) {
        let out = PortID(port.raw ^ 1)
        for frame in batch {
            if io.transmit(frame.addr, length: frame.length, on: out) { forwarded.pointee += 1 } else { io.releaseFrame(frame.addr) }
        }
    }
    mutating func housekeeping(now: UInt32) {}
    mutating func countDrops(_ reason: DropReason, port: PortID, count: UInt64) {}
}

final class AFXDPWireTests: XCTestCase {
    func testPingAcrossAnAFXDPWire() throws {
        try XCTSkipUnless(isRoot, "needs root: creates network namespaces and attaches XDP programs")
        let sw = try NetworkNamespace("dpt\(labTag)-sw")
        let a = try NetworkNamespace("dpt\(labTag)-a")
        let b = try NetworkNamespace("dpt\(labTag)-b")
        defer { a.remove(); b.remove(); sw.remove() }
        try addVeth("eth0", in: a, "pa", in: sw)
        try addVeth("eth0", in: b, "pb", in: sw)
        try a.exec(["ip", "addr", "add", "198.18.99.1/24", "dev", "eth0"])
        try b.exec(["ip", "addr", "add", "198.18.99.2/24", "dev", "eth0"])

        let wire = Wire()
        defer { wire.forwarded.deallocate() }
        let datapath = try sw.enter {
            let dp = try Datapath(processor: wire, settings: DatapathSettings(frameCount: 4096, ringSize: 1024))
            _ = try dp.attach(interface: "pa", as: PortID(0), role: .access)
            _ = try dp.attach(interface: "pb", as: PortID(1), role: .access)
            return dp
        }
        datapath.start()
        defer { datapath.shutdown() }

        let ping = try a.exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.99.2"], check: false)
        XCTAssertTrue(ping.succeeded, ping.output + ping.error)
        let forwarded = wire.forwarded.pointee
        XCTAssertGreaterThanOrEqual(forwarded, 6, "echo requests, replies and ARP went through the switch")
        XCTAssertGreaterThanOrEqual(datapath.program.statistics()["access_to_switch"] ?? 0, 6)
        datapath.shutdown()
        // bpf_link detached: no XDP program is left on either port.
        let links = try sw.exec(["ip", "-o", "link", "show"]).output
        XCTAssertNil(links.range(of: #" xdp(generic|drv|offload)? "#, options: .regularExpression), links)
    }
}
