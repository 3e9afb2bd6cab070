/// A coding key of any name: FRR's JSON keys objects by VNI, MAC, peer address, route
/// distinguisher and prefix, and vxsw's `show` JSON does the same (`FRRShowJSON.md`).
public struct FRRJSONKey: CodingKey, Hashable, Sendable {
    public var stringValue: String
    public init(_ s: String) { stringValue = s }
    public init(stringValue: String) { self.stringValue = stringValue }
    public var intValue: Int? { nil }
    public init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where K == FRRJSONKey {
    /// The keys that name entries (a VNI, a MAC, an RD), not the counts beside them (`numMacs`).
    func entryKeys(except fixed: Set<String>) -> [FRRJSONKey] { allKeys.filter { !fixed.contains($0.stringValue) } }
}
