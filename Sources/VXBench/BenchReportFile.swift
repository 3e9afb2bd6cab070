import Foundation

/// A benchmark's results as `Benchmarks/results/STEM-latest.md` and `.json`: the run's
/// provenance (command, commit, build, date, machine) and a Markdown rendering.
public protocol BenchReportFile: Encodable {
    /// `tables` → `tables-latest.md`.
    static var fileStem: String { get }
    var command: String { get }
    var commit: String { get }
    var build: String { get }
    var date: String { get }
    var machine: BenchMachine { get }
    func markdown() -> String
}

extension BenchReportFile {
    /// The lines every report starts with under its title.
    public var provenance: String {
        "- command: `\(command)`\n- date: \(date)\n- commit: \(commit)\n- build: \(build)\n"
            + "- machine: \(machine.cpuModel), \(machine.vcpus) vCPUs, kernel \(machine.kernel), load average at start \(machine.loadAverageAtStart)\n"
    }

    /// Writes `STEM-latest.md` and `.json` into `directory`; returns the paths.
    public func write(to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let md = directory + "/\(Self.fileStem)-latest.md", json = directory + "/\(Self.fileStem)-latest.json"
        try markdown().write(toFile: md, atomically: true, encoding: .utf8)
        try encoder.encode(self).write(to: URL(fileURLWithPath: json))
        return [md, json]
    }
}
