/// Messages of each type one direction of a peer's sessions carried, over the speaker's life
/// (FRR's `messageStats`). Counted by the header's type, before the body is decoded, so a
/// malformed UPDATE still counts as an UPDATE received.
struct BGPMessageCounts: Sendable, Equatable {
    var opens = 0, updates = 0, notifications = 0, keepalives = 0, routeRefreshes = 0

    var total: Int { opens + updates + notifications + keepalives + routeRefreshes }

    mutating func count(type: UInt8) {
        switch type {
        case 1: opens += 1
        case 2: updates += 1
        case 3: notifications += 1
        case 4: keepalives += 1
        default: routeRefreshes += 1   // 5; the frame decoder refuses any other type
        }
    }
}

/// Why a peer's last session (or attempt at one) ended, and when: FRR's "Last reset".
struct PeerReset: Sendable {
    /// Speaker clock (seconds).
    var at: Double
    /// FRR's `lastResetDueTo` words ("BGP Notification received", "Peer closed the session", …).
    var dueTo: String
    /// The NOTIFICATION that ended it, either way (`dueTo` says which).
    var notification: BGPNotification?
    /// vxsw's own words on the cause (e.g. "peer AS 65010, expected 65000").
    var detail: String?
}
