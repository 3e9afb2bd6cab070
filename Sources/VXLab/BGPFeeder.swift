import Foundation
import Glibc
import VXCore
import VXEVPN
import VXLabKit

/// The route benchmark's own BGP speaker: it listens on ADDRESS:179 in its namespace, answers
/// each peer that connects (iBGP, OPEN with MP-BGP L2VPN EVPN and 4-octet AS, KEEPALIVEs every
/// second) and, when told, streams pre-encoded UPDATEs to one of them as fast as TCP takes them.
/// UPDATEs come from VXEVPN's codec, packed with as many type-2 NLRI of one VNI as fit 4096 bytes
/// (the RT differs per VNI). What peers send is read and dropped (framing only).
public final class BGPFeeder: @unchecked Sendable {
    public let address: String
    let asn: UInt32
    private var listener: Int32 = -1
    private let lock = NSLock()
    private var sessions: [String: Session] = [:]
    private var stopped = false
    private var threads: [Thread] = []

    final class Session: @unchecked Sendable {
        let fd: Int32
        let peer: String
        let writeLock = NSLock()
        var established = false
        var closed = false
        init(fd: Int32, peer: String) { self.fd = fd; self.peer = peer }

        /// Writes all of `bytes`; false once the connection is gone.
        func send(_ bytes: [UInt8]) -> Bool {
            writeLock.lock(); defer { writeLock.unlock() }
            return bytes.withUnsafeBytes { buf in
                var off = 0
                while off < buf.count {
                    let n = Glibc.send(fd, buf.baseAddress! + off, buf.count - off, Int32(MSG_NOSIGNAL))
                    if n < 0 { if errno == EINTR { continue }; return false }
                    off += n
                }
                return true
            }
        }
    }

    /// Listens on `address`:179 inside `namespace`.
    public init(namespace: NetworkNamespace, address: String, asn: UInt32) throws {
        self.address = address
        self.asn = asn
        listener = try namespace.enter { () throws -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw LabError("feeder: socket: \(String(cString: strerror(errno)))") }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = UInt16(179).bigEndian
            inet_pton(AF_INET, address, &sa.sin_addr)
            let bound = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(fd, 16) == 0 else {
                let e = String(cString: strerror(errno)); close(fd)
                throw LabError("feeder: bind/listen \(address):179: \(e)")
            }
            return fd
        }
        spawn { [weak self] in self?.acceptLoop() }
        spawn { [weak self] in self?.keepaliveLoop() }
    }

    private func spawn(_ body: @escaping @Sendable () -> Void) {
        let t = Thread(block: body)
        t.stackSize = 1 << 20
        threads.append(t)
        t.start()
    }

    /// True once the session with `peer` (its address) is Established.
    public func isEstablished(_ peer: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return sessions[peer].map { $0.established && !$0.closed } ?? false
    }

    /// Sends the messages in order to `peer`; returns when the last is in the kernel's socket buffer.
    public func send(_ messages: [[UInt8]], to peer: String) throws {
        lock.lock(); let s = sessions[peer]; lock.unlock()
        guard let s, s.established else { throw LabError("feeder: no session with \(peer)") }
        // Large writes: many UPDATEs in one send.
        var batch: [UInt8] = []
        batch.reserveCapacity(256 * 1024)
        for m in messages {
            batch += m
            if batch.count >= 240 * 1024 {
                guard s.send(batch) else { throw LabError("feeder: session with \(peer) closed") }
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { guard s.send(batch) else { throw LabError("feeder: session with \(peer) closed") } }
    }

    public func stop() {
        lock.lock()
        if stopped { lock.unlock(); return }
        stopped = true
        let all = Array(sessions.values)
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR)); close(listener)
        for s in all { shutdown(s.fd, Int32(SHUT_RDWR)) }
    }

    deinit { stop() }

    // MARK: sessions

    private func acceptLoop() {
        while true {
            var sa = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let fd = withUnsafeMutablePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &len) }
            }
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            // Not inherited by the commands the rig runs meanwhile (a session must end when we close it).
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var buf = [CChar](repeating: 0, count: 32)
            inet_ntop(AF_INET, &sa.sin_addr, &buf, 32)
            let peer = String(cString: buf)
            let s = Session(fd: fd, peer: peer)
            lock.lock()
            if stopped { lock.unlock(); close(fd); return }
            if let old = sessions[peer], !old.closed { shutdown(old.fd, Int32(SHUT_RDWR)) }
            sessions[peer] = s
            lock.unlock()
            spawn { [weak self] in self?.readLoop(s) }
        }
    }

    /// Reads what the peer sends: its OPEN (answered with ours and a KEEPALIVE), its KEEPALIVE
    /// (the session is Established), anything else is dropped.
    private func readLoop(_ s: Session) {
        defer { s.closed = true; close(s.fd) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var start = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(s.fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            pending.append(contentsOf: chunk[0..<n])
            while pending.count - start >= BGPMessage.headerLength {
                let len = Int(pending[start + 16]) << 8 | Int(pending[start + 17])
                guard len >= BGPMessage.headerLength else { return }
                guard pending.count - start >= len else { break }
                switch pending[start + 18] {
                case 1:
                    let open = BGPOpen(asn: asn, holdTime: 90, routerID: ipv4(address),
                                       capabilities: [.multiprotocol(.l2vpnEVPN), .fourOctetAS(asn)])
                    guard s.send(BGPMessage.open(open).encode()), s.send(BGPMessage.keepalive.encode()) else { return }
                case 3: return
                case 4: s.established = true
                default: break
                }
                start += len
            }
            if start > 0 { pending.removeFirst(start); start = 0 }
        }
    }

    private func keepaliveLoop() {
        let ka = BGPMessage.keepalive.encode()
        while true {
            sleep(1)
            lock.lock()
            if stopped { lock.unlock(); return }
            let all = sessions.values.filter { $0.established && !$0.closed }
            lock.unlock()
            // A session busy with a stream skips this one (its UPDATEs keep the peer's hold timer going).
            for s in all where s.writeLock.try() {
                s.writeLock.unlock()
                _ = s.send(ka)
            }
        }
    }
}

/// A dotted IPv4 address in host order (0 when it does not parse).
func ipv4(_ text: String) -> UInt32 {
    var a = in_addr()
    guard inet_pton(AF_INET, text, &a) == 1 else { return 0 }
    return UInt32(bigEndian: a.s_addr)
}
