import XCTest
@testable import VXDatapath
final class VXDatapathPlaceholderTests: XCTestCase { func testBuilds() {} }
