// The live host: sysfs/procfs files and SIOCETHTOOL ioctls, plus one netlink
// RTM_GETLINK for the attached XDP program (LiveHost+XDP.swift), nothing else.
// No other program is run and no other program's output is parsed.

import CLinuxKernel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public struct LiveHost: HostReader, HostWriter {
    /// Where "/sys" is read from (a private sysfs mount when inspecting another netns).
    public var sysRoot: String

    public init(sysRoot: String = "/sys") {
        self.sysRoot = sysRoot
    }

    /// Logical path → real path. "/proc/net" is the calling *thread's* namespace view.
    func realPath(_ path: String) -> String {
        if path == "/sys" || path.hasPrefix("/sys/") { return sysRoot + path.dropFirst(4) }
        if path.hasPrefix("/proc/net/") { return "/proc/thread-self/net/" + path.dropFirst(10) }
        return path
    }

    // MARK: files

    public func readFile(_ path: String) -> Result<String, ReadError> {
        let fd = open(realPath(path), O_RDONLY | O_CLOEXEC)
        if fd < 0 { return .failure(Self.fileError(path, errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Self.fileError(path, errno))
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    public func listDirectory(_ path: String) -> Result<[String], ReadError> {
        guard let dir = opendir(realPath(path)) else { return .failure(Self.fileError(path, errno)) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names.sorted())
    }

    public func readLink(_ path: String) -> Result<String, ReadError> {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink(realPath(path), &buf, buf.count - 1)
        if n < 0 { return .failure(Self.fileError(path, errno)) }
        return .success(String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    public func writeFile(_ path: String, _ contents: String) -> Result<Void, ReadError> {
        let fd = open(realPath(path), O_WRONLY | O_CLOEXEC)
        if fd < 0 { return .failure(Self.fileError(path, errno)) }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 { return .failure(.failed("writing \(path)", Self.errnoName(errno))) }
        return .success(())
    }

    // MARK: ethtool

    public func driverInfo(_ ifname: String) -> Result<DriverInfo, ReadError> {
        var info = ethtool_drvinfo()
        info.cmd = UInt32(ETHTOOL_GDRVINFO)
        return ethtool(ifname, "ETHTOOL_GDRVINFO", &info).map {
            DriverInfo(driver: Self.string(info.driver), version: Self.string(info.version),
                       firmware: Self.string(info.fw_version), bus: Self.string(info.bus_info))
        }
    }

    public func rings(_ ifname: String) -> Result<RingParams, ReadError> {
        var r = ethtool_ringparam()
        r.cmd = UInt32(ETHTOOL_GRINGPARAM)
        return ethtool(ifname, "ETHTOOL_GRINGPARAM", &r).map {
            RingParams(rxMax: r.rx_max_pending, txMax: r.tx_max_pending, rx: r.rx_pending, tx: r.tx_pending)
        }
    }

    public func channels(_ ifname: String) -> Result<Channels, ReadError> {
        var c = ethtool_channels()
        c.cmd = UInt32(ETHTOOL_GCHANNELS)
        return ethtool(ifname, "ETHTOOL_GCHANNELS", &c).map {
            Channels(maxRx: c.max_rx, maxTx: c.max_tx, maxOther: c.max_other, maxCombined: c.max_combined,
                     rx: c.rx_count, tx: c.tx_count, other: c.other_count, combined: c.combined_count)
        }
    }

    public func coalesce(_ ifname: String) -> Result<Coalesce, ReadError> {
        rawCoalesce(ifname).map {
            Coalesce(rxUsecs: $0.rx_coalesce_usecs, rxFrames: $0.rx_max_coalesced_frames,
                     txUsecs: $0.tx_coalesce_usecs, txFrames: $0.tx_max_coalesced_frames,
                     adaptiveRx: $0.use_adaptive_rx_coalesce != 0, adaptiveTx: $0.use_adaptive_tx_coalesce != 0)
        }
    }

    public func features(_ ifname: String) -> Result<Features, ReadError> {
        stringSet(ifname, set: Int(ETH_SS_FEATURES.rawValue)).flatMap { names in
            let blocks = (names.count + 31) / 32
            // struct ethtool_gfeatures { u32 cmd; u32 size; struct { u32 available, requested, active, never_changed; } features[]; }
            var buf = [UInt32](repeating: 0, count: 2 + 4 * blocks)
            buf[0] = UInt32(ETHTOOL_GFEATURES)
            buf[1] = UInt32(blocks)
            return ethtool(ifname, "ETHTOOL_GFEATURES", &buf).map {
                var out: Features = [:]
                for (i, name) in names.enumerated() where !name.isEmpty {
                    let base = 2 + 4 * (i / 32), bit = UInt32(1) << UInt32(i % 32)
                    out[name] = FeatureState(changeable: buf[base] & bit != 0,
                                             requested: buf[base + 1] & bit != 0,
                                             active: buf[base + 2] & bit != 0)
                }
                return out
            }
        }
    }

    public func privateFlags(_ ifname: String) -> Result<[String: Bool], ReadError> {
        stringSet(ifname, set: Int(ETH_SS_PRIV_FLAGS.rawValue)).flatMap { names in
            var v = ethtool_value()
            v.cmd = UInt32(ETHTOOL_GPFLAGS)
            return ethtool(ifname, "ETHTOOL_GPFLAGS", &v).map {
                var out: [String: Bool] = [:]
                for (i, name) in names.enumerated() where i < 32 { out[name] = v.data & (UInt32(1) << UInt32(i)) != 0 }
                return out
            }
        }
    }

    // MARK: ethtool writes

    public func setRings(_ ifname: String, rx: UInt32, tx: UInt32) -> Result<Void, ReadError> {
        var r = ethtool_ringparam()
        r.cmd = UInt32(ETHTOOL_GRINGPARAM)
        return ethtool(ifname, "ETHTOOL_GRINGPARAM", &r).flatMap {
            r.cmd = UInt32(ETHTOOL_SRINGPARAM)
            r.rx_pending = rx
            r.tx_pending = tx
            return ethtool(ifname, "ETHTOOL_SRINGPARAM", &r)
        }
    }

    public func setChannels(_ ifname: String, _ ch: Channels) -> Result<Void, ReadError> {
        var c = ethtool_channels()
        c.cmd = UInt32(ETHTOOL_SCHANNELS)
        c.rx_count = ch.rx; c.tx_count = ch.tx; c.other_count = ch.other; c.combined_count = ch.combined
        return ethtool(ifname, "ETHTOOL_SCHANNELS", &c)
    }

    public func setCoalesce(_ ifname: String, rxUsecs: UInt32?, adaptiveRx: Bool?) -> Result<Void, ReadError> {
        rawCoalesce(ifname).flatMap { current in
            var c = current
            c.cmd = UInt32(ETHTOOL_SCOALESCE)
            if let u = rxUsecs { c.rx_coalesce_usecs = u }
            if let a = adaptiveRx { c.use_adaptive_rx_coalesce = a ? 1 : 0 }
            return ethtool(ifname, "ETHTOOL_SCOALESCE", &c)
        }
    }

    public func setFeatures(_ ifname: String, _ changes: [String: Bool]) -> Result<Void, ReadError> {
        stringSet(ifname, set: Int(ETH_SS_FEATURES.rawValue)).flatMap { names in
            let blocks = (names.count + 31) / 32
            // struct ethtool_sfeatures { u32 cmd; u32 size; struct { u32 valid, requested; } features[]; }
            var buf = [UInt32](repeating: 0, count: 2 + 2 * blocks)
            buf[0] = UInt32(ETHTOOL_SFEATURES)
            buf[1] = UInt32(blocks)
            for (name, on) in changes {
                guard let i = names.firstIndex(of: name) else {
                    return .failure(.unsupported("feature \(name) on \(ifname)"))
                }
                let base = 2 + 2 * (i / 32), bit = UInt32(1) << UInt32(i % 32)
                buf[base] |= bit
                if on { buf[base + 1] |= bit }
            }
            return ethtool(ifname, "ETHTOOL_SFEATURES", &buf)
        }
    }

    // MARK: ioctl plumbing

    private func rawCoalesce(_ ifname: String) -> Result<ethtool_coalesce, ReadError> {
        var c = ethtool_coalesce()
        c.cmd = UInt32(ETHTOOL_GCOALESCE)
        return ethtool(ifname, "ETHTOOL_GCOALESCE", &c).map { c }
    }

    /// Names of one ethtool string set (ETHTOOL_GSSET_INFO, then ETHTOOL_GSTRINGS).
    private func stringSet(_ ifname: String, set: Int) -> Result<[String], ReadError> {
        // struct ethtool_sset_info { u32 cmd; u32 reserved; u64 sset_mask; u32 data[]; }
        var info = [UInt32](repeating: 0, count: 5)
        info[0] = UInt32(ETHTOOL_GSSET_INFO)
        info[2] = UInt32(1) << UInt32(set)   // little-endian low word of sset_mask
        return ethtool(ifname, "ETHTOOL_GSSET_INFO", &info).flatMap {
            guard info[2] & (UInt32(1) << UInt32(set)) != 0 else { return .success([]) }
            let count = Int(info[4])
            let len = Int(ETH_GSTRING_LEN)
            // struct ethtool_gstrings { u32 cmd; u32 string_set; u32 len; u8 data[]; }
            var buf = [UInt8](repeating: 0, count: 12 + count * len)
            buf.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: UInt32(ETHTOOL_GSTRINGS), toByteOffset: 0, as: UInt32.self)
                raw.storeBytes(of: UInt32(set), toByteOffset: 4, as: UInt32.self)
                raw.storeBytes(of: UInt32(count), toByteOffset: 8, as: UInt32.self)
            }
            return ethtool(ifname, "ETHTOOL_GSTRINGS", &buf).map {
                (0..<count).map { i in
                    let slice = buf[(12 + i * len)..<(12 + (i + 1) * len)]
                    return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
                }
            }
        }
    }

    private func ethtool<T>(_ ifname: String, _ what: String, _ cmd: inout T) -> Result<Void, ReadError> {
        withUnsafeMutableBytes(of: &cmd) { ethtool(ifname, what, $0.baseAddress!) }
    }

    private func ethtool(_ ifname: String, _ what: String, _ buf: inout [UInt32]) -> Result<Void, ReadError> {
        buf.withUnsafeMutableBytes { ethtool(ifname, what, $0.baseAddress!) }
    }

    private func ethtool(_ ifname: String, _ what: String, _ buf: inout [UInt8]) -> Result<Void, ReadError> {
        buf.withUnsafeMutableBytes { ethtool(ifname, what, $0.baseAddress!) }
    }

    /// One SIOCETHTOOL call; EOPNOTSUPP/EINVAL mean "this driver does not do that".
    private func ethtool(_ ifname: String, _ what: String, _ ptr: UnsafeMutableRawPointer) -> Result<Void, ReadError> {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { return .failure(.failed("socket", Self.errnoName(errno))) }
        defer { close(fd) }
        let rc = clk_ethtool_ioctl(fd, ifname, ptr)
        if rc >= 0 { return .success(()) }
        switch -rc {
        case EOPNOTSUPP, EINVAL: return .failure(.unsupported("\(what) on \(ifname)"))
        case ENODEV: return .failure(.missing("interface \(ifname)"))
        default: return .failure(.failed("\(what) on \(ifname)", Self.errnoName(-rc)))
        }
    }

    static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
    }

    static func errnoName(_ e: Int32) -> String {
        switch e {
        case EPERM: return "EPERM"
        case EACCES: return "EACCES"
        case EBUSY: return "EBUSY"
        case ENOENT: return "ENOENT"
        case EIO: return "EIO"
        default: return String(cString: strerror(e))
        }
    }

    static func fileError(_ path: String, _ e: Int32) -> ReadError {
        switch e {
        case ENOENT, ENOTDIR: return .missing(path)
        case EOPNOTSUPP, EINVAL: return .unsupported("reading \(path)")
        default: return .failed("opening \(path)", errnoName(e))
        }
    }
}
