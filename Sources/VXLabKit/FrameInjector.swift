import CLinuxKernel
import Foundation

/// Sends raw Ethernet frames out of an interface inside a namespace (AF_PACKET), for tests
/// that feed the switch crafted or malformed frames. Traffic stays inside the lab's namespaces.
public func injectFrames(_ frames: [[UInt8]], from namespace: NetworkNamespace, interface: String) throws {
    try namespace.enter {
        let fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0)
        guard fd >= 0 else { throw LabKitError("AF_PACKET socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let index = if_nametoindex(interface)
        guard index != 0 else { throw LabKitError("no interface \(interface) in \(namespace.name)") }
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_ifindex = Int32(index)
        address.sll_halen = 6
        for frame in frames {
            let sent = frame.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
                    }
                }
            }
            guard sent == frame.count else { throw LabKitError("send on \(interface): \(String(cString: strerror(errno)))") }
        }
    }
}

public struct LabKitError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
