import Foundation

/// Runs `handler` (on a background queue) when SIGINT or SIGTERM arrives, instead of the
/// default exit, so a lab or a benchmark rig can remove what it built first. The handler
/// runs only while the returned sources are alive and not cancelled.
public func onTerminationSignal(_ handler: @escaping @Sendable () -> Void) -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { sig in
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }
}
