import Foundation

/// A directory built once and kept under a name keyed by its recipe, so a changed recipe builds
/// anew and an unchanged one costs nothing: the guest image and the Debian roots.
enum CachedBuild {
    /// `cacheRoot/NAME-HASH`, where HASH is the recipe's. `build` fills a temporary directory
    /// (`…tmp-PID`) that is renamed into place last, so a half-built directory is never taken
    /// for a cached one; `marker`, a path inside it, says a build is complete. Another process
    /// that finished the same build first wins the rename.
    static func directory(in cacheRoot: String, named name: String, recipe: [String], marker: String,
                          build: (_ directory: String) throws -> Void) throws -> String {
        let dir = "\(cacheRoot)/\(name)-\(fnv1a(recipe.joined(separator: "\n")))"
        if FileManager.default.fileExists(atPath: dir + "/" + marker) { return dir }
        let work = "\(dir).tmp-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try build(work)
        if (try? FileManager.default.moveItem(atPath: work, toPath: dir)) == nil,
           !FileManager.default.fileExists(atPath: dir + "/" + marker) {
            throw LabKitError("could not move the build of \(name) into \(dir)")
        }
        return dir
    }

    /// FNV-1a, 64 bit, in hex: a stable key (Swift's `hashValue` changes between runs).
    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }
}
