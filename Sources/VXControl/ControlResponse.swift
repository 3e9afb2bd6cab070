import VXConfig
/// The answer to one `ControlRequest`: one line of JSON,
/// `{"ok":true,"payload":...}` or `{"ok":false,"error":"..."}`.
public struct ControlResponse: Codable, Equatable, Sendable {
    public var ok: Bool
    /// What went wrong, for the operator; nil when `ok`.
    public var error: String?
    /// The result (`show` tables as arrays of objects, `version` as an object, ...).
    public var payload: JSONValue?

    public init(ok: Bool, error: String? = nil, payload: JSONValue? = nil) {
        self.ok = ok
        self.error = error
        self.payload = payload
    }

    public static func success(_ payload: JSONValue? = nil) -> ControlResponse {
        ControlResponse(ok: true, payload: payload)
    }

    public static func failure(_ message: String) -> ControlResponse {
        ControlResponse(ok: false, error: message)
    }
}
