import Foundation

/// One guest's tap over one run, as the host counts it (`ip -s link`): frames the guest wrote
/// (the tap's rx) and frames it was given (the tap's tx, and those its full queue dropped).
/// The average sizes say whether a guest sent and got super-frames or wire-sized ones.
public struct TapTraffic: Codable, Sendable, Equatable {
    public var guest: String
    public var fromGuestFrames = 0, fromGuestBytes = 0
    public var toGuestFrames = 0, toGuestBytes = 0, toGuestDropped = 0

    public init(guest: String) { self.guest = guest }

    /// `after` minus `before`, per counter.
    public static func delta(_ guest: String, _ before: [Int], _ after: [Int]) -> TapTraffic? {
        guard before.count == 5, after.count == 5 else { return nil }
        let d = zip(after, before).map { $0 - $1 }
        var t = TapTraffic(guest: guest)
        (t.fromGuestFrames, t.fromGuestBytes, t.toGuestFrames, t.toGuestBytes, t.toGuestDropped) = (d[0], d[1], d[2], d[3], d[4])
        return t
    }

    /// "guest1 wrote 21,004 frames (avg 52,118 B), got 40,112 (avg 66 B)".
    public var summary: String {
        func avg(_ bytes: Int, _ frames: Int) -> String { frames > 0 ? "avg \(bytes / frames) B" : "–" }
        return "\(guest) wrote \(fromGuestFrames) (\(avg(fromGuestBytes, fromGuestFrames))), got \(toGuestFrames) (\(avg(toGuestBytes, toGuestFrames)))"
            + (toGuestDropped > 0 ? ", \(toGuestDropped) dropped at its full queue" : "")
    }
}

/// vxsw's counters at the end of one vxsw round (`vxsw show stats --json`; vxsw starts afresh each round).

extension QemuGuest {
    /// The guest's tap as the host counts it: rx packets, rx bytes, tx packets, tx bytes, tx dropped ([] if unreadable).
    public func tapCounters() -> [Int] {
        guard let out = try? namespace.exec(["ip", "-j", "-s", "link", "show", "dev", tap], check: false),
              let json = try? JSONSerialization.jsonObject(with: Data(out.output.utf8)) as? [[String: Any]],
              let stats = json.first?["stats64"] as? [String: [String: Any]] else { return [] }
        let values = [stats["rx"]?["packets"], stats["rx"]?["bytes"], stats["tx"]?["packets"], stats["tx"]?["bytes"], stats["tx"]?["dropped"]]
        let counts = values.compactMap { ($0 as? NSNumber)?.intValue }
        return counts.count == 5 ? counts : []
    }

    /// What went through the guest's tap while `body` ran.
    public func tapTraffic(during body: () throws -> Void) rethrows -> TapTraffic? {
        let before = tapCounters()
        try body()
        return TapTraffic.delta(name, before, tapCounters())
    }
}
