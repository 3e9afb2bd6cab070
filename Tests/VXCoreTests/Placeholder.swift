import XCTest
@testable import VXCore
final class VXCorePlaceholderTests: XCTestCase { func testBuilds() {} }
