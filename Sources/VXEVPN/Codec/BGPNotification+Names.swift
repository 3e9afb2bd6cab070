/// Error code and subcode names as FRR prints them ("Cease/Administrative Reset"), so logs,
/// `show bgp neighbors` and FRR's side of the same session read alike.
extension BGPNotification {
    /// "Code name/Subcode name"; a code without subcodes (Hold Timer Expired) has no "/…".
    public var reason: String {
        let codeName = Self.codeNames[code] ?? "Unknown code \(code)"
        guard let subcodes = Self.subcodeNames[code] else { return codeName }
        return codeName + "/" + (subcode == 0 ? "Unspecific" : subcodes[subcode] ?? "Unknown subcode \(subcode)")
    }

    /// FRR's `lastErrorCodeSubcode`: code and subcode as two hex bytes ("0604").
    public var codeSubcodeHex: String { hexString([code, subcode]).uppercased() }

    static let codeNames: [UInt8: String] = [
        1: "Message Header Error", 2: "OPEN Message Error", 3: "UPDATE Message Error", 4: "Hold Timer Expired",
        5: "Neighbor Events Error", 6: "Cease", 7: "ROUTE-REFRESH Message Error",
    ]

    static let subcodeNames: [UInt8: [UInt8: String]] = [
        1: [1: "Connection Not Synchronized", 2: "Bad Message Length", 3: "Bad Message Type"],
        2: [1: "Unsupported Version Number", 2: "Bad Peer AS", 3: "Bad BGP Identifier", 4: "Unsupported Optional Parameter",
            5: "Authentication Failure", 6: "Unacceptable Hold Time", 7: "Unsupported Capability", 11: "Role Mismatch"],
        3: [1: "Malformed Attribute List", 2: "Unrecognized Well-known Attribute", 3: "Missing Well-known Attribute",
            4: "Attribute Flags Error", 5: "Attribute Length Error", 6: "Invalid ORIGIN Attribute", 7: "AS Routing Loop",
            8: "Invalid NEXT_HOP Attribute", 9: "Optional Attribute Error", 10: "Invalid Network Field", 11: "Malformed AS_PATH"],
        5: [1: "Receive Unexpected Message in OpenSent State", 2: "Receive Unexpected Message in OpenConfirm State",
            3: "Receive Unexpected Message in Established State"],
        6: [1: "Maximum Number of Prefixes Reached", 2: "Administrative Shutdown", 3: "Peer De-configured",
            4: "Administrative Reset", 5: "Connection Rejected", 6: "Other Configuration Change",
            7: "Connection Collision Resolution", 8: "Out of Resources", 9: "Hard Reset", 10: "BFD Down"],
        7: [1: "Invalid Message Length"],
    ]
}
