import CVXSW
import Foundation
import VXConfig
import VXCore
import VXDatapath
import VXTune

extension HostFacts {
    /// The facts of the host this process runs on, in its network namespace. Needs no
    /// privileges: getifaddrs, SIOCGIFMTU, sysfs and sched_getaffinity.
    public static func live() -> HostFacts {
        var facts = HostFacts()
        var list: UnsafeMutablePointer<ifaddrs>?
        if getifaddrs(&list) == 0 {
            defer { freeifaddrs(list) }
            var entry = list
            while let e = entry {
                let name = String(cString: e.pointee.ifa_name)
                if facts.interfaces[name] == nil {
                    facts.interfaces[name] = InterfaceInfo.mtu(of: name) ?? 0
                    let queues = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net/\(name)/queues")) ?? []
                    let rx = queues.filter { $0.hasPrefix("rx-") }.count
                    if rx > 0 { facts.rxQueues[name] = rx }
                }
                if let address = e.pointee.ifa_addr.flatMap(ipAddress) { facts.addresses.insert(address) }
                entry = e.pointee.ifa_next
            }
        }
        let online = try? String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)
        facts.onlineCPUs = online.flatMap(CPUList.parse)
        var allowed = [UInt8](repeating: 0, count: 1024)
        if cvxsw_allowed_cpus(&allowed, Int32(allowed.count)) == 0 {
            facts.allowedCPUs = allowed.indices.filter { allowed[$0] != 0 }
        }
        return facts
    }

    private static func ipAddress(_ sa: UnsafeMutablePointer<sockaddr>) -> IPAddress? {
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                withUnsafeBytes(of: sin.pointee.sin_addr) { IPAddress(loadingV4From: $0.baseAddress!) }
            }
        case AF_INET6:
            return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                withUnsafeBytes(of: sin6.pointee.sin6_addr) { IPAddress(loadingV6From: $0.baseAddress!) }
            }
        default:
            return nil
        }
    }
}
