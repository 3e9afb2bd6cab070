import Foundation
import PackagePlugin

/// Compiles every `BPF/*.c` of the package with clang `-target bpf` during `swift build`
/// and hands the object to the target as generated Swift source (base64), so the
/// vxsw binary carries its XDP programs and no object file is ever committed.
@main
struct BPFBuild: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let bpfDir = context.package.directoryURL.appending(path: "BPF")
        let files = (try? FileManager.default.subpathsOfDirectory(atPath: bpfDir.path)) ?? []
        let headers = files.filter { $0.hasSuffix(".h") }.map { bpfDir.appending(path: $0) }
        let sources = files.filter { $0.hasSuffix(".c") && !$0.contains("/") }.sorted()
        let tool = try context.tool(named: "BPFEmbed")
        return sources.map { file in
            let name = String(file.dropLast(2))
            let source = bpfDir.appending(path: file)
            let output = context.pluginWorkDirectoryURL.appending(path: "BPFObject_\(name).swift")
            return .buildCommand(
                displayName: "Compiling BPF program \(file)",
                executable: tool.url,
                arguments: [source.path, output.path, name, bpfDir.path],
                inputFiles: [source] + headers,
                outputFiles: [output]
            )
        }
    }
}
