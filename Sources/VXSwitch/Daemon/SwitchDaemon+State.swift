import VXConfig
import VXCore

/// Run-time ports and static MACs across restarts (`RunState`, `control.state-file`). The
/// control thread records every successful `port add|del` and `fdb add|del` and rewrites the
/// file; `start()` reads it after the config and attaches its ports like configured ones.
/// A port whose interface went away stays recorded: it waits for its interface after a restart too.
extension SwitchDaemon {
    /// Reads the state file (before anything is attached: a bad file stops the start).
    func loadState() throws {
        guard let path = config.control.stateFile else { return }
        guard let state = try RunState.load(path: path) else { return }
        lock.withLock { runState = state }
        log.info("state file \(path): \(state.ports.count) run-time ports, \(state.staticEntries.count) static MACs")
    }

    /// The state file's ports, after the config's: a port in both keeps the config's settings.
    func addStatePorts() throws {
        guard let path = config.control.stateFile else { return }
        let known = Set(config.vnis.map(\.vni))
        for port in lock.withLock({ runState.ports }) {
            if config.port(named: port.name) != nil {
                log.info("state file \(path): port \(port.name) is in the config too; the config's settings are used")
                continue
            }
            let missing = port.vnis.filter { !known.contains($0) }
            guard missing.isEmpty else {
                log.warning("state file \(path): port \(port.name) skipped: VNI \(missing.map { String($0.value) }.joined(separator: ", ")) no longer configured (vxsw port del \(port.name) forgets it)")
                continue
            }
            do { try addOrAwait(port) } catch {
                throw SwitchError("state file \(path): port \(port.name): \(error)")
            }
        }
    }

    /// The state file's static MACs, after the config's (which win for the same VNI and MAC).
    func addStateStatics() {
        guard let path = config.control.stateFile else { return }
        let known = Set(config.vnis.map(\.vni))
        for entry in lock.withLock({ runState.staticEntries }) {
            if config.fdb.staticEntries.contains(where: { $0.vni == entry.vni && $0.mac == entry.mac }) {
                log.info("state file \(path): static \(entry.mac) in VNI \(entry.vni) is in the config too; the config's entry is used")
                continue
            }
            guard known.contains(entry.vni) else {
                log.warning("state file \(path): static \(entry.mac) skipped: VNI \(entry.vni) no longer configured (vxsw fdb del \(entry.mac) --vni \(entry.vni) forgets it)")
                continue
            }
            if case .port(let name) = entry.target, portID(named: name) == nil {
                log.info("state file \(path): static \(entry.mac) in VNI \(entry.vni) is installed when port \(name) is attached")
                continue
            }
            do { try addStatic(entry) } catch { log.warning("state file \(path): \(error)") }
        }
    }

    /// Static MACs (config and state file) that point at `name`: installed again when the port
    /// is attached after its interface (re)appeared, since detaching flushed them.
    func reinstallStatics(for name: String) {
        let state = lock.withLock { runState.staticEntries }
        let configured = config.fdb.staticEntries
        let entries = configured + state.filter { e in !configured.contains { $0.vni == e.vni && $0.mac == e.mac } }
        for entry in entries where entry.target == .port(name) {
            do { try addStatic(entry) } catch { log.warning("\(name): \(error)") }
        }
    }

    /// Applies `change` to the recorded state and rewrites the file when it changed.
    func recordState(_ change: (inout RunState) -> Void) throws {
        guard let path = config.control.stateFile else { return }
        try stateWrites.withLock {
            var state = lock.withLock { runState }
            let before = state
            change(&state)
            guard state != before else { return }
            try state.write(to: path)
            lock.withLock { runState = state }
        }
    }

    /// Whether `port` is a run-time port (not the config's own, with the same settings).
    func isRunTime(_ port: SwitchConfig.Port) -> Bool { config.port(named: port.name) != port }
}
