// A recorded host: a directory tree standing for / (sys/…, proc/…), plus
//   links.json    {"/sys/class/net/eth0/device/driver": "../../../bus/pci/drivers/ixgbe", …}
//   ethtool.json  {"eth0": {"driverInfo": {…}, "rings": {…} | {"error": "EOPNOTSUPP"}, …}}
//                 (plus "xdp": "none" | "native" | "generic" | …, the netlink IFLA_XDP answer)
// A file missing from the tree is a missing file; an ethtool answer missing
// from ethtool.json, or recorded as an error, is an unsupported request.
// Features are written the way `ethtool -k` prints them: "on", "off [fixed]".
//
// Writes (from --apply) go to an in-memory overlay, so tests can apply, inspect
// again, revert, and compare — without root.

import Foundation

public final class FixtureHost: HostReader, HostWriter {
    public let root: URL
    private var links: [String: String]
    private var answers: [String: InterfaceAnswers]
    private var overlay: [String: String] = [:]
    /// Every change made through HostWriter, in order, as "what = value".
    public private(set) var changes: [String] = []

    struct Recorded<T: Codable>: Codable {
        var value: T?
        var error: String?
        init(from decoder: Decoder) throws {
            if let keyed = try? decoder.container(keyedBy: ErrorKey.self), let e = try keyed.decodeIfPresent(String.self, forKey: .error) {
                error = e
            } else {
                value = try T(from: decoder)
            }
        }
        init(_ value: T) { self.value = value }
        func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
        enum ErrorKey: String, CodingKey { case error }
    }

    struct InterfaceAnswers: Codable {
        var driverInfo: Recorded<DriverInfo>?
        var rings: Recorded<RingParams>?
        var channels: Recorded<Channels>?
        var coalesce: Recorded<Coalesce>?
        var features: Recorded<[String: String]>?
        var privateFlags: Recorded<[String: Bool]>?
        /// Recorded netlink answer, not ethtool: "none", "native", "generic", ….
        var xdp: Recorded<XDPAttachment>?
    }

    public init(root: URL) throws {
        self.root = root
        let decoder = JSONDecoder()
        if let data = try? Data(contentsOf: root.appendingPathComponent("links.json")) {
            links = try decoder.decode([String: String].self, from: data)
        } else {
            links = [:]
        }
        if let data = try? Data(contentsOf: root.appendingPathComponent("ethtool.json")) {
            answers = try decoder.decode([String: InterfaceAnswers].self, from: data)
        } else {
            answers = [:]
        }
    }

    // MARK: HostReader

    public func readFile(_ path: String) -> Result<String, ReadError> {
        if let v = overlay[path] { return .success(v) }
        guard let text = try? String(contentsOf: root.appendingPathComponent(String(path.dropFirst())), encoding: .utf8) else {
            return .failure(.missing(path))
        }
        return .success(text)
    }

    public func listDirectory(_ path: String) -> Result<[String], ReadError> {
        let dir = path.hasSuffix("/") ? path : path + "/"
        var names = Set(links.keys.filter { $0.hasPrefix(dir) && !$0.dropFirst(dir.count).contains("/") }
                                  .map { String($0.dropFirst(dir.count)) })
        if let real = try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(String(path.dropFirst())).path) {
            names.formUnion(real.filter { !$0.hasPrefix(".") })
        } else if names.isEmpty {
            return .failure(.missing(path))
        }
        return .success(names.sorted())
    }

    public func readLink(_ path: String) -> Result<String, ReadError> {
        links[path].map { .success($0) } ?? .failure(.missing(path))
    }

    public func driverInfo(_ ifname: String) -> Result<DriverInfo, ReadError> {
        answer(ifname, "ETHTOOL_GDRVINFO", \.driverInfo)
    }
    public func rings(_ ifname: String) -> Result<RingParams, ReadError> {
        answer(ifname, "ETHTOOL_GRINGPARAM", \.rings)
    }
    public func channels(_ ifname: String) -> Result<Channels, ReadError> {
        answer(ifname, "ETHTOOL_GCHANNELS", \.channels)
    }
    public func coalesce(_ ifname: String) -> Result<Coalesce, ReadError> {
        answer(ifname, "ETHTOOL_GCOALESCE", \.coalesce)
    }
    public func privateFlags(_ ifname: String) -> Result<[String: Bool], ReadError> {
        answer(ifname, "ETHTOOL_GPFLAGS", \.privateFlags)
    }
    public func xdpAttachment(_ ifname: String) -> Result<XDPAttachment, ReadError> {
        answer(ifname, "RTM_GETLINK IFLA_XDP", \.xdp)
    }
    public func features(_ ifname: String) -> Result<Features, ReadError> {
        answer(ifname, "ETHTOOL_GFEATURES", \.features).map { printed in
            printed.mapValues { text in
                let on = text.hasPrefix("on")
                return FeatureState(changeable: !text.contains("[fixed]"), requested: on, active: on)
            }
        }
    }

    private func answer<T>(_ ifname: String, _ what: String, _ key: KeyPath<InterfaceAnswers, Recorded<T>?>) -> Result<T, ReadError> {
        guard let iface = answers[ifname] else { return .failure(.missing("interface \(ifname)")) }
        guard let recorded = iface[keyPath: key] else { return .failure(.unsupported("\(what) on \(ifname)")) }
        if let v = recorded.value { return .success(v) }
        switch recorded.error {
        case "EOPNOTSUPP", "EINVAL": return .failure(.unsupported("\(what) on \(ifname)"))
        case "ENODEV": return .failure(.missing("interface \(ifname)"))
        case let e: return .failure(.failed("\(what) on \(ifname)", e ?? "unknown"))
        }
    }

    // MARK: HostWriter (in memory)

    public func writeFile(_ path: String, _ contents: String) -> Result<Void, ReadError> {
        guard case .success = readFile(path) else { return .failure(.missing(path)) }
        overlay[path] = contents
        changes.append("\(path) = \(contents.trimmingWhitespace)")
        return .success(())
    }

    public func setRings(_ ifname: String, rx: UInt32, tx: UInt32) -> Result<Void, ReadError> {
        rings(ifname).flatMap { r in
            guard rx <= r.rxMax, tx <= r.txMax else { return .failure(.failed("ETHTOOL_SRINGPARAM on \(ifname)", "EINVAL")) }
            answers[ifname]!.rings = Recorded(RingParams(rxMax: r.rxMax, txMax: r.txMax, rx: rx, tx: tx))
            changes.append("\(ifname) rings = rx \(rx) tx \(tx)")
            return .success(())
        }
    }

    public func setChannels(_ ifname: String, _ ch: Channels) -> Result<Void, ReadError> {
        channels(ifname).flatMap { c in
            var n = c
            n.rx = ch.rx; n.tx = ch.tx; n.other = ch.other; n.combined = ch.combined
            answers[ifname]!.channels = Recorded(n)
            changes.append("\(ifname) channels = combined \(ch.combined) rx \(ch.rx) tx \(ch.tx)")
            return .success(())
        }
    }

    public func setCoalesce(_ ifname: String, rxUsecs: UInt32?, adaptiveRx: Bool?) -> Result<Void, ReadError> {
        coalesce(ifname).flatMap { c in
            var n = c
            if let u = rxUsecs { n.rxUsecs = u }
            if let a = adaptiveRx { n.adaptiveRx = a }
            answers[ifname]!.coalesce = Recorded(n)
            changes.append("\(ifname) coalesce = rx-usecs \(n.rxUsecs) adaptive-rx \(n.adaptiveRx ? "on" : "off")")
            return .success(())
        }
    }

    public func setFeatures(_ ifname: String, _ set: [String: Bool]) -> Result<Void, ReadError> {
        answer(ifname, "ETHTOOL_SFEATURES", \.features).flatMap { printed in
            var n = printed
            for (name, on) in set.sorted(by: { $0.key < $1.key }) {
                guard let old = printed[name], !old.contains("[fixed]") else {
                    return .failure(.unsupported("changing \(name) on \(ifname)"))
                }
                n[name] = on ? "on" : "off"
                changes.append("\(ifname) \(name) = \(on ? "on" : "off")")
            }
            answers[ifname]!.features = Recorded(n)
            return .success(())
        }
    }
}
