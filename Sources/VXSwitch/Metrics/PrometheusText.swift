/// Builds a Prometheus text exposition (format 0.0.4).
///
/// Samples may be added in any order; `render()` groups them by metric family, each family
/// introduced once by its `# HELP` and `# TYPE` lines, in the order families first appeared.
///
///     var text = PrometheusText()
///     text.counter("vxsw_port_rx_packets_total", help: "Frames received.", labels: ["port": "tap1"], 12)
///     text.counter("vxsw_drops_total", help: "Frames dropped.", labels: ["port": "ul0", "reason": "bad_vxlan_flags"], 3)
///     text.render()
///     // # HELP vxsw_port_rx_packets_total Frames received.
///     // # TYPE vxsw_port_rx_packets_total counter
///     // vxsw_port_rx_packets_total{port="tap1"} 12
///     // ...
public struct PrometheusText: Sendable {
    public enum MetricType: String, Sendable {
        case counter, gauge, untyped
    }

    private struct Family: Sendable {
        var help: String
        var type: MetricType
        var samples: [String] = []
    }

    private var order: [String] = []
    private var families: [String: Family] = [:]

    public init() {}

    public mutating func counter(
        _ name: String, help: String, labels: KeyValuePairs<String, String> = [:], _ value: UInt64
    ) {
        add(name, type: .counter, help: help, labels: Array(labels), value: String(value))
    }

    /// A counter of seconds or other fractions (`process_cpu_seconds_total`).
    public mutating func counter(_ name: String, help: String, labels: KeyValuePairs<String, String> = [:], seconds value: Double) {
        add(name, type: .counter, help: help, labels: Array(labels), value: Self.format(value))
    }

    public mutating func gauge(_ name: String, help: String, labels: KeyValuePairs<String, String> = [:], _ value: Double) {
        add(name, type: .gauge, help: help, labels: Array(labels), value: Self.format(value))
    }

    /// Adds one sample; the family's HELP and TYPE come from its first sample.
    public mutating func add(
        _ name: String, type: MetricType, help: String, labels: [(key: String, value: String)], value: String
    ) {
        let name = Self.sanitize(name, allowColon: true)
        if families[name] == nil {
            order.append(name)
            families[name] = Family(help: help, type: type)
        }
        var line = name
        if !labels.isEmpty {
            let pairs = labels.map { "\(Self.sanitize($0.key, allowColon: false))=\"\(Self.escapeLabelValue($0.value))\"" }
            line += "{" + pairs.joined(separator: ",") + "}"
        }
        families[name]!.samples.append(line + " " + value)
    }

    /// The exposition text, ending with a newline (empty when there are no samples).
    public func render() -> String {
        var out = ""
        for name in order {
            let family = families[name]!
            out += "# HELP \(name) \(Self.escapeHelp(family.help))\n"
            out += "# TYPE \(name) \(family.type.rawValue)\n"
            for sample in family.samples { out += sample + "\n" }
        }
        return out
    }

    // MARK: Escaping

    /// Label values escape backslash, double quote and newline.
    public static func escapeLabelValue(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// HELP text escapes backslash and newline.
    public static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Metric names are `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names the same without ':';
    /// anything else becomes '_'.
    static func sanitize(_ name: String, allowColon: Bool) -> String {
        var out = ""
        for (i, c) in name.unicodeScalars.enumerated() {
            let ok = (c.isASCII && (c.properties.isAlphabetic || c == "_" || (allowColon && c == ":")))
                || (i > 0 && ("0"..."9").contains(c))
            out.unicodeScalars.append(ok ? c : "_")
        }
        return out.isEmpty ? "_" : out
    }

    /// Go's ParseFloat spellings for the special values.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
