/// NOTIFICATION (RFC 4271 §4.5) and its error codes. A decoder error that must reset the
/// session is reported as the notification to send.
public struct BGPNotification: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: UInt8
    public var subcode: UInt8
    public var data: [UInt8]

    public init(code: UInt8, subcode: UInt8, data: [UInt8] = []) {
        self.code = code; self.subcode = subcode; self.data = data
    }
    public init(_ code: Code, _ subcode: UInt8 = 0, data: [UInt8] = []) {
        self.init(code: code.rawValue, subcode: subcode, data: data)
    }

    public enum Code: UInt8, Sendable {
        case messageHeader = 1, open = 2, update = 3, holdTimerExpired = 4, fsm = 5, cease = 6, routeRefresh = 7
    }
    public enum HeaderSubcode: UInt8 { case connectionNotSynchronized = 1, badMessageLength = 2, badMessageType = 3 }
    public enum OpenSubcode: UInt8 {
        /// RFC 4271 §6.2: an error of the OPEN not covered by a subcode (e.g. a recognised
        /// capability whose value is malformed, RFC 5492 §3).
        case unspecific = 0
        case unsupportedVersion = 1, badPeerAS = 2, badBGPIdentifier = 3, unsupportedOptionalParameter = 4
        case unacceptableHoldTime = 6, unsupportedCapability = 7
    }
    public enum UpdateSubcode: UInt8 {
        case malformedAttributeList = 1, unrecognizedWellKnownAttribute = 2, missingWellKnownAttribute = 3
        case attributeFlagsError = 4, attributeLengthError = 5, invalidOriginAttribute = 6
        case invalidNextHop = 8, optionalAttributeError = 9, invalidNetworkField = 10, malformedASPath = 11
    }
    /// RFC 4486 Cease subcodes.
    public enum CeaseSubcode: UInt8 {
        case maxPrefixes = 1, administrativeShutdown = 2, peerDeconfigured = 3, administrativeReset = 4
        case connectionRejected = 5, otherConfigurationChange = 6, connectionCollisionResolution = 7, outOfResources = 8
        case hardReset = 9
    }

    public static func header(_ s: HeaderSubcode, data: [UInt8] = []) -> BGPNotification { .init(.messageHeader, s.rawValue, data: data) }
    public static func open(_ s: OpenSubcode, data: [UInt8] = []) -> BGPNotification { .init(.open, s.rawValue, data: data) }
    public static func update(_ s: UpdateSubcode, data: [UInt8] = []) -> BGPNotification { .init(.update, s.rawValue, data: data) }
    public static func cease(_ s: CeaseSubcode) -> BGPNotification { .init(.cease, s.rawValue) }
    public static let holdTimerExpired = BGPNotification(.holdTimerExpired)
    public static let fsmError = BGPNotification(.fsm)

    /// "Cease/Administrative Shutdown (6/2)", with the data in hex when there is any.
    public var description: String {
        "\(reason) (\(code)/\(subcode))" + (data.isEmpty ? "" : " data \(hexString(data))")
    }

    func encodeBody(into out: inout [UInt8]) {
        out.put8(code); out.put8(subcode); out.append(contentsOf: data)
    }
    static func decodeBody(_ r: inout ByteReader) -> BGPNotification? {
        guard let code = r.u8(), let sub = r.u8(), let data = r.take(r.remaining) else { return nil }
        return BGPNotification(code: code, subcode: sub, data: data)
    }
}
