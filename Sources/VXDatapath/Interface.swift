import CLinuxKernel
import Glibc
import VXCore

/// What the datapath needs to know about a network interface, read from sysfs of the
/// current network namespace.
public struct InterfaceInfo: Sendable {
    public let name: String
    public let ifindex: Int32
    public let mac: MACAddress
    public let mtu: Int
    public let rxQueues: Int
    public let numaNode: Int32?
    /// Kernel driver name (ethtool GDRVINFO), e.g. "veth", "tun", "ixgbe"; nil if unknown.
    public let driver: String?

    public init(name: String) throws {
        guard !name.isEmpty, name.utf8.count < 16 else {
            throw DatapathError("interface name '\(name)'", errno: EINVAL)
        }
        let index = if_nametoindex(name)
        guard index != 0 else {
            throw DatapathError("interface \(name)", errno: ENODEV, hint: "it does not exist in this network namespace")
        }
        self.name = name
        ifindex = Int32(index)
        // MAC and MTU through ioctls: they answer for the calling thread's network namespace,
        // while sysfs shows the namespace it was mounted in.
        (mac, mtu) = try InterfaceInfo.macAndMTU(name)
        driver = InterfaceInfo.driver(name)
        let base = "/sys/class/net/\(name)"
        let node = readSysfs("\(base)/device/numa_node").flatMap { Int32($0) }
        numaNode = (node ?? -1) >= 0 ? node : nil
        rxQueues = max(1, listDirectory("\(base)/queues").filter { $0.hasPrefix("rx-") }.count)
    }
}

extension InterfaceInfo {
    /// The driver name from ETHTOOL_GDRVINFO, answered for the calling thread's namespace.
    public static func driver(_ name: String) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = ethtool_drvinfo()
        info.cmd = UInt32(ETHTOOL_GDRVINFO)
        guard clk_ethtool_ioctl(fd, name, &info) >= 0 else { return nil }
        let text = withUnsafeBytes(of: info.driver) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        return text.isEmpty ? nil : text
    }

    /// The MTU of `name` in the calling thread's namespace (SIOCGIFMTU); nil when it cannot be read.
    public static func mtu(of name: String) -> Int? { try? macAndMTU(name).1 }

    static func macAndMTU(_ name: String) throws -> (MACAddress, Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw DatapathError("socket for interface ioctls", errno: errno) }
        defer { close(fd) }
        var req = ifreq()
        withUnsafeMutableBytes(of: &req.ifr_ifrn.ifrn_name) { buf in
            for (i, c) in name.utf8.prefix(15).enumerated() { buf[i] = c }
        }
        guard ioctl(fd, UInt(SIOCGIFHWADDR), &req) == 0 else { throw DatapathError("read MAC of \(name)", errno: errno) }
        let mac = withUnsafeBytes(of: req.ifr_ifru.ifru_hwaddr.sa_data) { MACAddress(loadingFrom: $0.baseAddress!) }
        guard ioctl(fd, UInt(SIOCGIFMTU), &req) == 0 else { throw DatapathError("read MTU of \(name)", errno: errno) }
        return (mac, Int(req.ifr_ifru.ifru_mtu))
    }
}

/// First line of a small sysfs/procfs file, trimmed; nil if it cannot be read.
func readSysfs(_ path: String) -> String? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var buffer = [CChar](repeating: 0, count: 256)
    guard fgets(&buffer, Int32(buffer.count), f) != nil else { return nil }
    let line = String(cString: buffer)
    return line.trimmingCharacters(in: " \n\t")
}

func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let c = s.first, chars.contains(c) { s = s.dropFirst() }
        while let c = s.last, chars.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
