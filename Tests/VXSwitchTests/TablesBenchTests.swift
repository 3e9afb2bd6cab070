import VXBench
import VXSwitch
import XCTest

/// The parts of `vxsw bench tables` that do not need a rig: ping's lines into round-trip
/// statistics, and the FDB memory per MAC the report states.
final class TablesBenchTests: XCTestCase {
    func testPingLinesBecomePercentilesAndLosses() {
        let text = """
        PING 10.77.0.2 (10.77.0.2) 56(84) bytes of data.
        64 bytes from 10.77.0.2: icmp_seq=1 ttl=64 time=0.040 ms
        64 bytes from 10.77.0.2: icmp_seq=2 ttl=64 time=0.050 ms
        64 bytes from 10.77.0.2: icmp_seq=4 ttl=64 time=2.50 ms
        """
        let s = PingStats(pingOutput: text)
        XCTAssertEqual(s.sent, 4)
        XCTAssertEqual(s.lost, 1, "icmp_seq 3 never came back")
        XCTAssertEqual(s.p50Ms, 0.05)
        XCTAssertEqual(s.maxMs, 2.5)
    }

    func testMemoryPerMACAtAMillion() {
        // 1M MACs + 64k headroom → 2^21 slots of 24 bytes: ~50 bytes per MAC per copy.
        XCTAssertLessThanOrEqual(TablesBenchReport.fdbBytesPerMAC(1_000_000), 64)
    }
}
