// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "updatectl",
    products: [
        .executable(name: "updatectl", targets: ["updatectl"]),
        .library(name: "YAMLTree", targets: ["YAMLTree"]),
        .library(name: "UpdatePolicy", targets: ["UpdatePolicy"]),
        .library(name: "UpdatePlan", targets: ["UpdatePlan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),
        .target(name: "YAMLTree", dependencies: ["CYAML"]),
        // JSON values, the strict reader and the stable writer: the policy's exports, the plan's
        // rendering, the state file, release metadata and registries all use it.
        .target(name: "JSONValue"),
        .target(name: "UpdatePolicy", dependencies: ["YAMLTree", "JSONValue"]),
        .target(name: "UpdatePlan", dependencies: ["UpdatePolicy", "JSONValue"]),
        // libcurl is opened with dlopen on first use; the shim declares the part of its ABI it uses.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CSupport"),
        .target(
            name: "UpdateAgent",
            dependencies: [
                "UpdatePlan", "UpdatePolicy", "YAMLTree", "JSONValue", "CCurl", "CSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "updatectl",
            dependencies: [
                "YAMLTree",
                "JSONValue",
                "UpdatePolicy",
                "UpdatePlan",
                "UpdateAgent",
                "CSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "FuzzHarness", dependencies: ["UpdatePolicy", "UpdatePlan", "UpdateAgent", "JSONValue"]),
        // The libFuzzer target (scripts/fuzz.sh); without -D FUZZING it replays files.
        .executableTarget(
            name: "updatectl-fuzz",
            dependencies: ["FuzzHarness"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // Not part of the test run: `swift build -c release --product updatectl-bench`.
        .executableTarget(
            name: "updatectl-bench",
            dependencies: ["CYAML", "YAMLTree", "UpdatePolicy", "UpdatePlan", "UpdateAgent"]
        ),
        .testTarget(name: "JSONValueTests", dependencies: ["JSONValue"]),
        .testTarget(
            name: "YAMLTreeTests",
            dependencies: ["YAMLTree"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "UpdatePolicyTests",
            dependencies: ["UpdatePolicy", "YAMLTree", "FuzzHarness"],
            exclude: ["Fixtures", "Fuzz"]
        ),
        .testTarget(
            name: "UpdatePlanTests",
            dependencies: ["UpdatePlan", "UpdatePolicy", "YAMLTree", "JSONValue"],
            exclude: ["Snapshots", "Fixtures"]
        ),
        .testTarget(
            name: "UpdateAgentTests",
            dependencies: ["UpdateAgent", "UpdatePlan", "UpdatePolicy", "JSONValue", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "updatectlTests",
            dependencies: [
                "updatectl",
                "JSONValue",
                "UpdateAgent",
                "UpdatePlan",
                "UpdatePolicy",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
            ],
            exclude: ["Fixtures", "Snapshots"]
        ),
    ]
)

for target in package.targets where target.type != .system && !["CCurl", "CSupport"].contains(target.name) {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    // The node binary is held to 21 MB (docs/performance.md): release builds optimise for size
    // but where the benchmarks' time goes (reading YAML, decoding and linting policies).
    if !["YAMLTree", "UpdatePolicy", "JSONValue", "updatectl-bench"].contains(target.name) {
        settings.append(.unsafeFlags(["-Osize"], .when(configuration: .release)))
    }
    target.swiftSettings = settings
}
