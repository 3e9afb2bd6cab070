// swift-tools-version:6.1
import PackageDescription

// Microbenchmarks of the VXCore pipeline on synthetic rings (no kernel), kept out of
// the root package as swift-nio does. Release builds only: `swift package -c release benchmark`.
let package = Package(
    name: "vxsw-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "vxsw", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The scenarios: a pipeline with 100k MACs over 1k VNIs and batches of frames to feed it.
        .target(
            name: "VXBenchScenarios",
            dependencies: [.product(name: "VXCore", package: "vxsw")],
            swiftSettings: [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
        ),
        // malloc/free call counter (glibc symbol interposition) for the plain harness.
        .target(name: "CMallocCounter"),
        // Plain harness: clock_gettime timing, malloc counts, fixed batch counts for callgrind.
        .executableTarget(
            name: "vxcore-bench",
            dependencies: ["VXBenchScenarios", "CMallocCounter"],
            swiftSettings: [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
        ),
        // package-benchmark suite with committed thresholds (0 mallocs per batch).
        .executableTarget(
            name: "VXCorePipeline",
            dependencies: [
                "VXBenchScenarios",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/VXCorePipeline",
            swiftSettings: [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
