// For the root tests: run a command (ip, ethtool, sysctl) and get its exit status.
// Each test runs them only inside a network namespace it creates and removes.

import Foundation

@discardableResult
func sh(_ args: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
}
