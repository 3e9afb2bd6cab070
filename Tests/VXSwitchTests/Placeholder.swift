import XCTest
@testable import VXSwitch
final class VXSwitchPlaceholderTests: XCTestCase { func testBuilds() {} }
