import Foundation

/// The `process_*` series as the Prometheus client libraries define them (client_golang's
/// process collector), read from `/proc/self` at each scrape.
struct ProcessMetrics {
    var cpuSeconds: Double
    var residentBytes: Double
    var virtualBytes: Double
    var openFDs: Int
    var maxFDs: Double
    var startTime: Double

    /// nil when /proc cannot be read (then the series are left out).
    static func read() -> ProcessMetrics? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after "pid (comm)": state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
        let f = stat[stat.index(after: close)...].split(separator: " ").map(String.init)
        func field(_ n: Int) -> Double { f.indices.contains(n - 3) ? Double(f[n - 3]) ?? 0 : 0 }
        let tick = Double(sysconf(Int32(_SC_CLK_TCK))), page = Double(sysconf(Int32(_SC_PAGESIZE)))
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return ProcessMetrics(cpuSeconds: (field(14) + field(15)) / tick, residentBytes: field(24) * page, virtualBytes: field(23),
                              openFDs: fds, maxFDs: maxOpenFiles(), startTime: bootTime() + field(22) / tick)
    }

    /// The soft limit of "Max open files" in /proc/self/limits.
    static func maxOpenFiles() -> Double {
        let limits = (try? String(contentsOfFile: "/proc/self/limits", encoding: .utf8)) ?? ""
        guard let line = limits.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else { return 0 }
        return line.dropFirst("Max open files".count).split(separator: " ").first.flatMap { Double($0) } ?? 0
    }

    /// `btime` of /proc/stat: when the machine booted (Unix seconds).
    static func bootTime() -> Double {
        let stat = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) } ?? 0
    }

    func add(to m: inout PrometheusText) {
        m.counter("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", seconds: cpuSeconds)
        m.gauge("process_resident_memory_bytes", help: "Resident memory size in bytes.", residentBytes)
        m.gauge("process_virtual_memory_bytes", help: "Virtual memory size in bytes.", virtualBytes)
        m.gauge("process_open_fds", help: "Number of open file descriptors.", Double(openFDs))
        m.gauge("process_max_fds", help: "Maximum number of open file descriptors.", maxFDs)
        m.gauge("process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.", startTime)
    }
}
