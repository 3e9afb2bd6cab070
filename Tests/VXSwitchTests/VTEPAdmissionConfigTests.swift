@testable import VXConfig
import VXCore
import XCTest

/// `vtep.accept` / `vtep.max-learned`: defaults, errors naming the field, JSON round trip, and
/// `vxsw reload` changing them (the rest of `vtep` stays refused).
final class VTEPAdmissionConfigTests: XCTestCase {
    let base = "vtep: { ipv4: 198.18.0.1 }\nvnis: [{ vni: 1000 }]\n"

    func error(_ yaml: String) -> String {
        do { _ = try SwitchConfig.parse(yaml: yaml); return "" } catch { return "\(error)" }
    }

    func testDefaultsAndValues() throws {
        XCTAssertEqual(try SwitchConfig.parse(yaml: base).vtep.admission, VTEPAdmission(accept: .known, maxLearned: 1024))
        let any = try SwitchConfig.parse(yaml: "vtep: { ipv4: 198.18.0.1, accept: any, max-learned: 64 }\n")
        XCTAssertEqual(any.vtep.admission, VTEPAdmission(accept: .any, maxLearned: 64))
        let json = try JSONEncoder().encode(any)
        XCTAssertEqual(try JSONDecoder().decode(SwitchConfig.self, from: json), any, "show config --json reads back")
    }

    func testErrorsNameTheField() {
        XCTAssertTrue(error("vtep: { ipv4: 198.18.0.1, accept: all }\n").hasPrefix("vtep.accept: 'all' is not one of: known, any"),
                      error("vtep: { ipv4: 198.18.0.1, accept: all }\n"))
        XCTAssertTrue(error("vtep: { ipv4: 198.18.0.1, max-learned: 4096 }\n").hasPrefix("vtep.max-learned: 4096 is out of range (1..2048)"),
                      error("vtep: { ipv4: 198.18.0.1, max-learned: 4096 }\n"))
        XCTAssertTrue(error("vtep: { ipv4: 198.18.0.1, max-learned: 0 }\n").hasPrefix("vtep.max-learned"))
        var code = SwitchConfig(vtep: .init(ipv4: IPAddress("198.18.0.1")))
        code.vtep.admission.maxLearned = 5000
        XCTAssertThrowsError(try code.validate()) { XCTAssertTrue("\($0)".hasPrefix("vtep.max-learned"), "\($0)") }
    }

    func testReloadChangesAdmission() throws {
        let old = try SwitchConfig.parse(yaml: base)
        let new = try SwitchConfig.parse(yaml: base.replacingOccurrences(of: "198.18.0.1 }", with: "198.18.0.1, accept: any }"))
        let plan = try old.reloadPlan(to: new)
        XCTAssertEqual(plan.vtepAdmission, VTEPAdmission(accept: .any))
        XCTAssertTrue(plan.summary.contains("vtep accept: any, max-learned 1024"), "\(plan.summary)")
        XCTAssertNil(try old.reloadPlan(to: old).vtepAdmission)
        let moved = try SwitchConfig.parse(yaml: base.replacingOccurrences(of: "198.18.0.1 }", with: "198.18.0.9, accept: any }"))
        XCTAssertThrowsError(try old.reloadPlan(to: moved)) { XCTAssertTrue("\($0)".hasPrefix("vtep"), "\($0)") }
    }
}
