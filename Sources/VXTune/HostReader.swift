// Every reading and every change goes through these two protocols, so the same
// inspection and rules run on the live host (LiveHost: files + ethtool ioctls)
// and on fixture trees (FixtureHost: a directory + recorded ioctl answers).
//
// Paths are the logical kernel paths ("/sys/class/net/eth0/mtu",
// "/proc/interrupts"); an implementation maps them to where it reads.

/// ethtool ETHTOOL_GDRVINFO.
public struct DriverInfo: Codable, Equatable, Sendable {
    public var driver: String
    public var version: String
    public var firmware: String
    public var bus: String
    public init(driver: String, version: String = "", firmware: String = "", bus: String = "") {
        self.driver = driver; self.version = version; self.firmware = firmware; self.bus = bus
    }
}

/// ethtool ETHTOOL_GRINGPARAM (0 = the driver has no such ring).
public struct RingParams: Codable, Equatable, Sendable {
    public var rxMax: UInt32
    public var txMax: UInt32
    public var rx: UInt32
    public var tx: UInt32
    public init(rxMax: UInt32, txMax: UInt32, rx: UInt32, tx: UInt32) {
        self.rxMax = rxMax; self.txMax = txMax; self.rx = rx; self.tx = tx
    }
}

/// ethtool ETHTOOL_GCHANNELS.
public struct Channels: Codable, Equatable, Sendable {
    public var maxRx: UInt32 = 0, maxTx: UInt32 = 0, maxOther: UInt32 = 0, maxCombined: UInt32 = 0
    public var rx: UInt32 = 0, tx: UInt32 = 0, other: UInt32 = 0, combined: UInt32 = 0
    public init(maxRx: UInt32 = 0, maxTx: UInt32 = 0, maxOther: UInt32 = 0, maxCombined: UInt32 = 0,
                rx: UInt32 = 0, tx: UInt32 = 0, other: UInt32 = 0, combined: UInt32 = 0) {
        self.maxRx = maxRx; self.maxTx = maxTx; self.maxOther = maxOther; self.maxCombined = maxCombined
        self.rx = rx; self.tx = tx; self.other = other; self.combined = combined
    }
    /// Queues that receive: combined + rx-only.
    public var rxQueues: UInt32 { combined + rx }
    public var maxRxQueues: UInt32 { maxCombined + maxRx }
}

/// The ETHTOOL_GCOALESCE fields the rules use.
public struct Coalesce: Codable, Equatable, Sendable {
    public var rxUsecs: UInt32
    public var rxFrames: UInt32
    public var txUsecs: UInt32
    public var txFrames: UInt32
    public var adaptiveRx: Bool
    public var adaptiveTx: Bool
    public init(rxUsecs: UInt32, rxFrames: UInt32 = 0, txUsecs: UInt32 = 0, txFrames: UInt32 = 0,
                adaptiveRx: Bool = false, adaptiveTx: Bool = false) {
        self.rxUsecs = rxUsecs; self.rxFrames = rxFrames; self.txUsecs = txUsecs
        self.txFrames = txFrames; self.adaptiveRx = adaptiveRx; self.adaptiveTx = adaptiveTx
    }
}

/// One netdev feature from ETHTOOL_GFEATURES, by its ETH_SS_FEATURES name.
public struct FeatureState: Codable, Equatable, Sendable {
    /// The driver lets it be changed (ethtool shows "[fixed]" when false).
    public var changeable: Bool
    public var requested: Bool
    public var active: Bool
    public init(changeable: Bool, requested: Bool, active: Bool) {
        self.changeable = changeable; self.requested = requested; self.active = active
    }
}

/// Feature name → state, for every feature the kernel names.
public typealias Features = [String: FeatureState]

/// Which XDP program is attached to an interface (netlink IFLA_XDP_ATTACHED).
public enum XDPAttachment: String, Codable, Sendable {
    case none, native, generic, offload, multiple
}

/// Read-only access to the host. Results carry `ReadError` instead of throwing
/// so that a missing file is a finding, not an abort.
public protocol HostReader {
    /// Contents of a sysfs/procfs file (trailing newline kept).
    func readFile(_ path: String) -> Result<String, ReadError>
    /// Names in a directory, sorted.
    func listDirectory(_ path: String) -> Result<[String], ReadError>
    /// Target of a symlink, as stored (may be relative).
    func readLink(_ path: String) -> Result<String, ReadError>

    func driverInfo(_ ifname: String) -> Result<DriverInfo, ReadError>
    func rings(_ ifname: String) -> Result<RingParams, ReadError>
    func channels(_ ifname: String) -> Result<Channels, ReadError>
    func coalesce(_ ifname: String) -> Result<Coalesce, ReadError>
    func features(_ ifname: String) -> Result<Features, ReadError>
    /// Driver private flags (ETH_SS_PRIV_FLAGS + ETHTOOL_GPFLAGS), e.g. mlx5 rx_cqe_compress.
    func privateFlags(_ ifname: String) -> Result<[String: Bool], ReadError>
    /// The attached XDP program, if any (RTM_GETLINK, IFLA_XDP).
    func xdpAttachment(_ ifname: String) -> Result<XDPAttachment, ReadError>
}

/// Changes to the host, used only by `--apply`. Each call changes exactly one
/// thing; the caller reads the old value first so it can print the revert.
public protocol HostWriter {
    func writeFile(_ path: String, _ contents: String) -> Result<Void, ReadError>
    func setRings(_ ifname: String, rx: UInt32, tx: UInt32) -> Result<Void, ReadError>
    func setChannels(_ ifname: String, _ channels: Channels) -> Result<Void, ReadError>
    func setCoalesce(_ ifname: String, rxUsecs: UInt32?, adaptiveRx: Bool?) -> Result<Void, ReadError>
    func setFeatures(_ ifname: String, _ changes: [String: Bool]) -> Result<Void, ReadError>
}

extension HostReader {
    /// Hosts that cannot ask netlink say so.
    public func xdpAttachment(_ ifname: String) -> Result<XDPAttachment, ReadError> {
        .failure(.unsupported("RTM_GETLINK IFLA_XDP on \(ifname)"))
    }

    /// A file's contents without surrounding whitespace.
    func readTrimmed(_ path: String) -> Result<String, ReadError> {
        readFile(path).map { $0.trimmingWhitespace }
    }

    /// A file holding one integer.
    func readInt(_ path: String) -> Result<Int, ReadError> {
        readTrimmed(path).flatMap { text in
            Int(text).map { .success($0) } ?? .failure(.failed("parsing \(path)", "not an integer: \(text)"))
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
