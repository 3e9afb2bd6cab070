import CVXSW
import VXLabKit
import VXDatapath
import XCTest

/// The fast path's map values have one definition (BPF/lib/fast_types.h) that the BPF program
/// and Swift both compile; this proves the compiled program agrees: every struct's size and
/// every member's offset in the loaded object's BTF equal what Swift sees.
final class FastPathLayoutTests: XCTestCase {
    func testMapStructsHaveOneLayout() throws {
        try XCTSkipUnless(isRoot, "needs root: loads the XDP program to read its BTF")
        let program = try XDPProgram()
        func check<T>(_ name: String, _ type: T.Type, _ members: [String: PartialKeyPath<T>],
                      file: StaticString = #filePath, line: UInt = #line) throws {
            let btf = try XCTUnwrap(program.structLayout(name), "\(name) in the program's BTF", file: file, line: line)
            XCTAssertEqual(btf.size, MemoryLayout<T>.size, "\(name) size", file: file, line: line)
            XCTAssertEqual(Set(btf.offsets.keys), Set(members.keys), "\(name) members", file: file, line: line)
            for (member, path) in members {
                XCTAssertEqual(btf.offsets[member], MemoryLayout<T>.offset(of: path), "\(name).\(member)", file: file, line: line)
            }
        }
        try check("vxsw_fast_config", vxsw_fast_config.self, [
            "enabled": \.enabled, "uplink_ifindex": \.uplink_ifindex, "uplink_mtu": \.uplink_mtu,
            "sport_lo": \.sport_lo, "sport_hi": \.sport_hi, "udp_port": \.udp_port, "udp6_zero_csum": \.udp6_zero_csum,
            "decap_complete_csum": \.decap_complete_csum, "local_v4": \.local_v4, "local_v6": \.local_v6,
            "has_v4": \.has_v4, "has_v6": \.has_v6, "uplink_mac": \.uplink_mac,
            "verify_udp_csum4": \.verify_udp_csum4, "verify_udp_csum6": \.verify_udp_csum6, "tap_uplink_ifindex": \.tap_uplink_ifindex,
            "tap_gro": \.tap_gro,
        ])
        try check("vxsw_fast_port", vxsw_fast_port.self, [
            "bd": \.bd, "vni": \.vni, "max_frame": \.max_frame, "complete_csum": \.complete_csum, "tap": \.tap, "pad": \.pad,
        ])
        try check("vxsw_fast_fdb", vxsw_fast_fdb.self, ["kind": \.kind, "target": \.target, "last_seen": \.last_seen, "pad": \.pad])
        try check("vxsw_fast_vtep", vxsw_fast_vtep.self, ["next_hop": \.next_hop, "resolved": \.resolved, "ipv6": \.ipv6, "remote": \.remote])
        XCTAssertEqual(FastPathMaps.fdbCapacity, 262_144)
    }
}
