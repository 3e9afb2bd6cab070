import Foundation
import VXLab
import VXLabKit

/// The `.deb` the package tests check, once per test process. `tools/test` builds it from this
/// tree before the Swift tests and names it in `VXSW_PACKAGE_DEB` (a name that does not exist
/// is a failure, never a skip). Run alone, without that variable, it is built here as a user
/// would, with `tools/package`, into `.build-package/test-dist` (tools/package's own scratch
/// directory, ignored by git): a release build, about 6 minutes the first time on this 2-core
/// machine and 2 to 3 minutes after a change.
enum PackageUnderTest {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static func deb() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if built == nil { built = Result { try make() } }
        return try built!.get()
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: Result<String, Error>?

    private static func make() throws -> String {
        if let given = ProcessInfo.processInfo.environment["VXSW_PACKAGE_DEB"] {
            guard FileManager.default.fileExists(atPath: given) else {
                throw LabError("VXSW_PACKAGE_DEB=\(given) does not exist: tools/package failed or did not run (see tools/test's output)")
            }
            return given
        }
        let dist = repo + "/.build-package/test-dist"
        try? FileManager.default.removeItem(atPath: dist)
        try FileManager.default.createDirectory(atPath: dist, withIntermediateDirectories: true)
        let built = try VXLabKit.run(["sh", "-c", "\"$0\"/tools/package \"$1\" > \"$1\"/package.log 2>&1", repo, dist], check: false)
        let log = (try? String(contentsOfFile: dist + "/package.log", encoding: .utf8)) ?? ""
        guard built.succeeded else { throw LabError("tools/package failed:\n\(log.suffix(4000))") }
        let debs = try FileManager.default.contentsOfDirectory(atPath: dist).filter { $0.hasSuffix(".deb") }
        guard debs.count == 1 else { throw LabError("tools/package left \(debs) in \(dist), not one .deb") }
        return dist + "/" + debs[0]
    }
}
