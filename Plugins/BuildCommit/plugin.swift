import Foundation
import PackagePlugin

/// Stamps the vxsw binary with the git commit it is built from: build-commit.sh writes
/// `let buildCommit = "..."` into the build directory (only when the text changes, so a build
/// at the same commit recompiles nothing).
///
/// SwiftPM re-plans (and so runs prebuild commands) only when the package changes, not when
/// HEAD moves, so this is a build command whose inputs are what a commit, checkout or edit
/// touches: git's HEAD, index and refs, and the package's source files.
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let package = context.package.directoryURL
        let script = package.appending(path: "Plugins/BuildCommit/build-commit.sh")
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildCommit.swift")
        let sources = context.package.targets.compactMap { $0 as? SourceModuleTarget }.flatMap { $0.sourceFiles.map(\.url) }
        let bpf = ((try? FileManager.default.contentsOfDirectory(atPath: package.appending(path: "BPF").path)) ?? [])
            .map { package.appending(path: "BPF/\($0)") }
        let extra = ["Package.swift", "Plugins/BuildCommit/archive-commit"].map { package.appending(path: $0) }
        return [.buildCommand(
            displayName: "Stamping \(target.name) with its git commit",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: [script.path, package.path, output.path],
            environment: ProcessInfo.processInfo.environment.filter { ["PATH", "HOME", "VXSW_COMMIT"].contains($0.key) },
            inputFiles: [script] + extra + gitState(package) + bpf + sources,
            outputFiles: [output]
        )]
    }

    /// The files git rewrites when HEAD moves or the index changes: HEAD, index, the
    /// current branch's ref and packed-refs. `.git` is a file ("gitdir: ...") in a worktree.
    private func gitState(_ package: URL) -> [URL] {
        func pointer(_ file: URL, _ prefix: String) -> String? {
            guard let text = try? String(contentsOf: file, encoding: .utf8), text.hasPrefix(prefix) else { return nil }
            return String(text.dropFirst(prefix.count)).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var gitDir = package.appending(path: ".git")
        if let dir = pointer(gitDir, "gitdir: ") { gitDir = URL(fileURLWithPath: dir, relativeTo: package).standardizedFileURL }
        let common = pointer(gitDir.appending(path: "commondir"), "")
            .map { URL(fileURLWithPath: $0, relativeTo: gitDir.appending(path: "")).standardizedFileURL } ?? gitDir
        var files = [gitDir.appending(path: "HEAD"), gitDir.appending(path: "index"), common.appending(path: "packed-refs")]
        if let ref = pointer(gitDir.appending(path: "HEAD"), "ref: ") { files.append(common.appending(path: ref)) }
        return files.filter { FileManager.default.fileExists(atPath: $0.path) }
    }
}
