import XCTest
@testable import VXTune
final class VXTunePlaceholderTests: XCTestCase { func testBuilds() {} }
