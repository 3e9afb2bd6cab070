// swift-tools-version:6.1
import PackageDescription

// Hot-path modules are built with cross-module optimization in release so the
// generic pipeline specializes across module boundaries (see STYLE.md).
let hotPath: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]
// The BGP speaker's route path (decode → RIB → table hand-off) runs on one event-loop thread;
// at 100k routes a tenth of that thread went to the runtime's dynamic exclusivity checks on
// the RIB's class-held tables. Release builds skip them (the compile-time checks stay, and
// debug builds, which every test runs, keep the dynamic ones and trap on a violation).
let routePath: [SwiftSetting] = hotPath + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "vxsw",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vxsw", targets: ["vxsw"]),
        // For the nested Benchmarks/ package (microbenchmarks of the pipeline).
        .library(name: "VXCore", targets: ["VXCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C: libxdp / libbpf / libnuma headers and a few non-inline helpers.
        .target(
            name: "CVXSW",
            exclude: ["README.md"],
            linkerSettings: [.linkedLibrary("xdp"), .linkedLibrary("bpf"), .linkedLibrary("numa")]
        ),
        // C: Linux uapi headers (ethtool, rtnetlink, sockios) for VXTune and VXDatapath. Header-only.
        .target(name: "CLinuxKernel", exclude: ["README.md"]),

        // Build tool: compiles BPF/*.c with clang -target bpf and embeds the object as Swift source.
        .executableTarget(name: "BPFEmbed", exclude: ["README.md"]),
        .plugin(name: "BPFBuild", capability: .buildTool(), dependencies: ["BPFEmbed"]),
        // Build tool: writes the git commit vxsw is built from, for `vxsw --version`.
        .plugin(name: "BuildCommit", capability: .buildTool(), exclude: ["build-commit.sh", "archive-commit"]),

        // Pure packet logic: headers, checksums, FDB, flooding, pipeline. No syscalls.
        .target(name: "VXCore", exclude: ["README.md"], swiftSettings: hotPath),
        // The owner of the switch tables (the control plane's copy; updates to subscribers).
        .target(name: "VXTables", dependencies: ["VXCore"], exclude: ["README.md"], swiftSettings: routePath),
        // Linux I/O: UMEM, XSK rings, BPF load/attach, netlink, workers.
        .target(
            name: "VXDatapath",
            dependencies: ["VXCore", "CVXSW", "CLinuxKernel"],
            exclude: ["README.md"],
            swiftSettings: hotPath,
            plugins: ["BPFBuild"]
        ),
        // BGP EVPN speaker.
        .target(
            name: "VXEVPN",
            dependencies: [
                "VXCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md", "Show/README.md"],
            swiftSettings: routePath
        ),
        // Host inspection and tuning recommendations.
        .target(name: "VXTune", dependencies: ["CLinuxKernel"], exclude: ["README.md"]),
        // Network namespaces, veths and child processes for the lab and the integration tests;
        // everything it creates is removed when its owner ends, also on failure.
        .target(name: "VXLabKit", dependencies: ["CLinuxKernel"], exclude: ["README.md"]),
        // The config model: YAML/JSON parsing, validation, host checks against HostFacts, the state
        // file, reload plans; JSONValue. No syscalls beyond reading and writing files; no root.
        .target(
            name: "VXConfig",
            dependencies: ["VXCore", "VXTune", .product(name: "Yams", package: "Yams")],
            exclude: ["README.md"]
        ),
        // The daemon's sockets: the control protocol (requests, responses), client and server,
        // the metrics HTTP server, the thread-per-connection loop under both.
        .target(
            name: "VXControl",
            dependencies: ["VXCore", "VXConfig", "CVXSW", .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"]
        ),
        // The daemon: wiring of datapath, tables, EVPN, control and metrics; show models; logging.
        .target(
            name: "VXSwitch",
            dependencies: [
                "VXCore", "VXTables", "VXDatapath", "VXEVPN", "VXTune", "VXConfig", "VXControl", "CVXSW",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        // `vxsw lab`: the two-hypervisor lab, its scenarios, the EVPN fabric, the real-VM run;
        // drives vxsw as a child process. The daemon does not import it.
        .target(
            name: "VXLab",
            dependencies: ["VXCore", "VXConfig", "VXControl", "VXSwitch", "VXEVPN", "VXLabKit"],
            exclude: ["README.md"]
        ),
        // `vxsw bench*`: the benchmark rig, contenders, traffic generator and sink, reports.
        // The daemon does not import it.
        .target(
            name: "VXBench",
            dependencies: ["VXCore", "VXConfig", "VXSwitch", "VXLab", "VXLabKit", "VXDatapath"],
            exclude: ["README.md"]
        ),
        .executableTarget(
            name: "vxsw",
            dependencies: [
                "VXSwitch", "VXConfig", "VXControl", "VXLab", "VXBench", "VXTune", "VXDatapath", "VXEVPN", "VXLabKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"],
            plugins: ["BuildCommit"]
        ),

        .testTarget(name: "VXCoreTests", dependencies: ["VXCore", "VXLabKit"]),
        .testTarget(name: "VXTablesTests", dependencies: ["VXTables", "VXCore"]),
        .testTarget(name: "VXDatapathTests", dependencies: ["VXDatapath", "VXCore", "VXLabKit", "CVXSW"]),
        .testTarget(
            name: "VXEVPNTests",
            dependencies: [
                "VXEVPN", "VXCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "VXTuneTests", dependencies: ["VXTune"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "VXSwitchTests",
            dependencies: [
                "VXSwitch", "VXConfig", "VXControl", "VXLab", "VXBench", "VXLabKit", "VXCore", "VXDatapath", "CVXSW",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v5]
)
