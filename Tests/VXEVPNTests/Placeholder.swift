import XCTest
@testable import VXEVPN
final class VXEVPNPlaceholderTests: XCTestCase { func testBuilds() {} }
