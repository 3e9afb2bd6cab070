import VXCore
import XCTest

final class AddressTextTests: XCTestCase {
    func testMACTextIsZeroPaddedLowercaseAndParsesBack() {
        for raw: UInt64 in [0, 0x02_00_5E_00_00_01, 0xFF_FF_FF_FF_FF_FF, 0x0A_0B_0C_0D_0E_0F] {
            let mac = MACAddress(raw: raw)
            XCTAssertEqual(mac.description.count, 17)
            XCTAssertEqual(MACAddress(mac.description), mac, mac.description)
        }
        XCTAssertEqual(MACAddress(raw: 0x02_00_5E_00_00_01).description, "02:00:5e:00:00:01")
        XCTAssertEqual(MACAddress(raw: 0x0A_0B_0C_0D_0E_0F).description, "0a:0b:0c:0d:0e:0f")
    }
}
