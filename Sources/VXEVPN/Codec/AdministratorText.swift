import VXCore

/// The "administrator:assigned number" text shared by route distinguishers (RFC 4364 §4.2)
/// and route targets (RFC 4360): type 0 = 2-octet AS : 4-octet number, type 1 = IPv4 :
/// 2-octet number, type 2 = 4-octet AS : 2-octet number, over the low 48 bits of `value`.
enum AdministratorText {
    static func format(type: UInt8, value: UInt64) -> String {
        switch type {
        case 0: return "\(UInt16(truncatingIfNeeded: value >> 32)):\(UInt32(truncatingIfNeeded: value))"
        case 1: return "\(IPAddress(v4: UInt32(truncatingIfNeeded: value >> 16))):\(UInt16(truncatingIfNeeded: value))"
        case 2: return "\(UInt32(truncatingIfNeeded: value >> 16)):\(UInt16(truncatingIfNeeded: value))"
        default:
            var b = [UInt8](); b.put48(value)
            return "type\(type):\(hexString(b))"
        }
    }

    static func parse(_ text: String) -> (type: UInt8, value: UInt64)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let admin = String(text[..<colon]), num = String(text[text.index(after: colon)...])
        if admin.contains(".") {
            guard let ip = IPAddress(admin), ip.isIPv4, let n = UInt16(num) else { return nil }
            return (1, UInt64(ip.v4) << 16 | UInt64(n))
        } else if let a = UInt16(admin), let n = UInt32(num) {
            return (0, UInt64(a) << 32 | UInt64(n))
        } else if let a = UInt32(admin), let n = UInt16(num) {
            return (2, UInt64(a) << 16 | UInt64(n))
        }
        return nil
    }
}

/// A value whose JSON form is its text form ("65001:100").
public protocol TextCodable: Codable, CustomStringConvertible {
    init?(_ text: String)
}

extension TextCodable {
    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let v = Self(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad value \(s)"))
        }
        self = v
    }
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(description) }
}
