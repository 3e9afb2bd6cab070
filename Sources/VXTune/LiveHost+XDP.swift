// LiveHost: which XDP program is attached to an interface. One RTM_GETLINK
// request by name on NETLINK_ROUTE, in the calling thread's network namespace;
// the answer's IFLA_XDP nest carries IFLA_XDP_ATTACHED.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension LiveHost {
    // uapi values (linux/rtnetlink.h, linux/netlink.h, linux/if_link.h).
    private static let rtmNewLink: UInt16 = 16, rtmGetLink: UInt16 = 18
    private static let nlmsgError: UInt16 = 2, nlmRequest: UInt16 = 1
    private static let iflaIfname: UInt16 = 3, iflaXDP: UInt16 = 43, iflaXDPAttached: UInt16 = 2

    public func xdpAttachment(_ ifname: String) -> Result<XDPAttachment, ReadError> {
        let what = "RTM_GETLINK \(ifname)"
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */)
        if fd < 0 { return .failure(.failed(what, Self.errnoName(errno))) }
        defer { close(fd) }
        // nlmsghdr (16) + ifinfomsg (16) + IFLA_IFNAME attribute.
        let name = Array(ifname.utf8) + [0]
        let attrLen = 4 + name.count
        var msg = [UInt8](repeating: 0, count: 32 + (attrLen + 3) & ~3)
        msg.withUnsafeMutableBytes { m in
            m.storeBytes(of: UInt32(m.count), toByteOffset: 0, as: UInt32.self)
            m.storeBytes(of: Self.rtmGetLink, toByteOffset: 4, as: UInt16.self)
            m.storeBytes(of: Self.nlmRequest, toByteOffset: 6, as: UInt16.self)
            m.storeBytes(of: UInt32(1), toByteOffset: 8, as: UInt32.self)
            m.storeBytes(of: UInt16(attrLen), toByteOffset: 32, as: UInt16.self)
            m.storeBytes(of: Self.iflaIfname, toByteOffset: 34, as: UInt16.self)
            for (i, b) in name.enumerated() { m[36 + i] = b }
        }
        let sent = msg.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        if sent < 0 { return .failure(.failed(what, Self.errnoName(errno))) }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 16 { return .failure(.failed(what, n < 0 ? Self.errnoName(errno) : "short answer")) }
        return buf.withUnsafeBytes { raw -> Result<XDPAttachment, ReadError> in
            let type = raw.loadUnaligned(fromByteOffset: 4, as: UInt16.self)
            if type == Self.nlmsgError {
                let err = n >= 20 ? -raw.loadUnaligned(fromByteOffset: 16, as: Int32.self) : EIO
                return .failure(err == ENODEV ? .missing("interface \(ifname)") : .failed(what, Self.errnoName(err)))
            }
            guard type == Self.rtmNewLink else { return .failure(.failed(what, "unexpected message type \(type)")) }
            let end = min(n, Int(raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
            guard let xdp = Self.attribute(raw, from: 32, to: end, type: Self.iflaXDP) else {
                return .failure(.unsupported("IFLA_XDP on \(ifname)"))
            }
            guard let attached = Self.attribute(raw, from: xdp.lowerBound, to: xdp.upperBound, type: Self.iflaXDPAttached),
                  !attached.isEmpty else { return .failure(.failed(what, "IFLA_XDP without IFLA_XDP_ATTACHED")) }
            switch raw[attached.lowerBound] {
            case 0: return .success(.none)
            case 1: return .success(.native)
            case 2: return .success(.generic)
            case 3: return .success(.offload)
            default: return .success(.multiple)
            }
        }
    }

    /// The payload range of the first rtattr of `type` in bytes[from..<to].
    private static func attribute(_ raw: UnsafeRawBufferPointer, from: Int, to: Int, type: UInt16) -> Range<Int>? {
        var at = from
        while at + 4 <= to {
            let len = Int(raw.loadUnaligned(fromByteOffset: at, as: UInt16.self))
            let t = raw.loadUnaligned(fromByteOffset: at + 2, as: UInt16.self) & 0x3fff  // without NLA_F_NESTED / NET_BYTEORDER
            guard len >= 4, at + len <= to else { return nil }
            if t == type { return (at + 4)..<(at + len) }
            at += (len + 3) & ~3
        }
        return nil
    }
}
