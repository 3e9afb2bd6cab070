// Kernel CPU list syntax: "0-3,8,10-11".

public enum CPUList {
    /// Parses "0-3,8" into [0, 1, 2, 3, 8]; nil when malformed.
    public static func parse(_ text: String) -> [Int]? {
        let t = text.trimmingWhitespace
        if t.isEmpty { return [] }
        var cpus: [Int] = []
        for part in t.split(separator: ",") {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false)
            guard let lo = Int(ends[0]) else { return nil }
            if ends.count == 1 {
                cpus.append(lo)
            } else if ends.count == 2, let hi = Int(ends[1]), hi >= lo {
                cpus.append(contentsOf: lo...hi)
            } else {
                return nil
            }
        }
        return Array(Set(cpus)).sorted()
    }

    /// Formats [0, 1, 2, 3, 8] as "0-3,8".
    public static func format(_ cpus: [Int]) -> String {
        let sorted = Array(Set(cpus)).sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
