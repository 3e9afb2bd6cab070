import Foundation
import PackagePlugin

/// Stamps the vxsw binary with the git commit it is built from: before every build it runs
/// build-commit.sh, which writes `let buildCommit = "..."` into the build directory (only
/// when the text changes, so a build at the same commit recompiles nothing). A prebuild
/// command, because a new commit changes no input file SwiftPM could watch.
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let package = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        return [.prebuildCommand(
            displayName: "Stamping \(target.name) with its git commit",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: [package.appending(path: "Plugins/BuildCommit/build-commit.sh").path,
                        package.path, output.appending(path: "BuildCommit.swift").path],
            environment: ProcessInfo.processInfo.environment.filter { ["PATH", "HOME", "VXSW_COMMIT"].contains($0.key) },
            outputFilesDirectory: output
        )]
    }
}
