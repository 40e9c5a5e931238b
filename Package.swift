// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

/// The package's modules. Their declarations have `package` access: the products are the
/// command lines (and the event stream format they read and write), not Swift libraries. An
/// `import` is internal unless marked (`package import` where a module's declarations expose
/// another module's types, which keeps LMDB's types out of the event log's API), and a file
/// uses only the members of modules it imports itself.
let moduleSettings: [SwiftSetting] = swiftSettings + [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Atlas",
    products: [
        .executable(name: "atlas", targets: ["atlas"]),
        .executable(name: "atlas-replay", targets: ["atlas-replay"]),
        .executable(name: "graph-simulator", targets: ["graph-simulator"]),
        .executable(name: "atlas-demo", targets: ["atlas-demo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.25.0"),
    ],
    targets: [
        // Layer 0: the C library.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // Layer 0: prctl for the sync layer (variadic in C, so not callable from Swift).
        .target(name: "CProcessGuard"),
        // Layer 1: a typed, thread-safe LMDB wrapper.
        .target(name: "LMDB", dependencies: ["CLMDB"], swiftSettings: moduleSettings),
        // Layer 1: RFC 8785 canonical JSON and a byte-level parser.
        .target(name: "CanonicalJSON", swiftSettings: moduleSettings),
        // Layer 2: the append-only, hash-chained event log.
        .target(
            name: "EventLog",
            dependencies: [
                "LMDB", "CanonicalJSON",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: moduleSettings
        ),
        // Layer 2: the event log on a PostgreSQL server, beside the embedded LMDB backend.
        .target(
            name: "EventLogPostgres",
            dependencies: [
                "EventLog", "CanonicalJSON",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: moduleSettings
        ),
        // Layer 3: the inventory domain (registry, selection, events, projections, queries).
        .target(
            name: "Inventory",
            dependencies: [
                "EventLog", "CanonicalJSON",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: moduleSettings
        ),
        // Layer 4: sources (offline export, Microsoft Graph) and run orchestration.
        .target(
            name: "Sync",
            dependencies: [
                "Inventory", "EventLog", "CanonicalJSON", "CProcessGuard",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: moduleSettings
        ),
        // Layer 5: command-line tools and what they share.
        .target(
            name: "CommandSupport",
            dependencies: [
                "Inventory", "EventLog", "EventLogPostgres", "CanonicalJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: moduleSettings
        ),
        // Layer 5: `atlas serve`: the HTTP API, the event stream over Server-Sent Events and the
        // web console, read-only over a store.
        .target(
            name: "AtlasServer",
            dependencies: [
                "Inventory", "EventLog", "CanonicalJSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: moduleSettings
        ),
        .executableTarget(
            name: "atlas",
            dependencies: [
                "Sync", "Inventory", "EventLog", "CanonicalJSON", "CommandSupport", "AtlasServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The auditor's tool: verification, rebuild, as-of replay, audit and export (library
        // shared by the command and the benchmarks).
        .target(
            name: "ReplayKit",
            dependencies: [
                "Inventory", "EventLog", "CanonicalJSON",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: moduleSettings
        ),
        .executableTarget(
            name: "atlas-replay",
            dependencies: [
                "ReplayKit", "Inventory", "EventLog", "CanonicalJSON", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Testing: generators of test data (synthetic inventory logs, seeded random numbers,
        // hostile-input mutation) for tests, benchmarks and tools; never linked into a CLI.
        .target(
            name: "AtlasTesting",
            dependencies: [
                "Inventory", "EventLog", "CanonicalJSON",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: moduleSettings
        ),
        // Tools: the Microsoft Graph simulator (library + executable).
        .target(
            name: "GraphSimulator",
            dependencies: [
                "CanonicalJSON", "AtlasTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tools/GraphSimulator",
            swiftSettings: moduleSettings
        ),
        .executableTarget(
            name: "graph-simulator",
            dependencies: [
                "GraphSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/graph-simulator",
            swiftSettings: swiftSettings
        ),
        // Tools: the end-to-end demo, driving the built `graph-simulator` and `atlas` as processes.
        .executableTarget(
            name: "atlas-demo",
            dependencies: [
                "GraphSimulator", "Inventory", "CanonicalJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tools/atlas-demo-driver",
            swiftSettings: swiftSettings
        ),
        // Tools: a child process for cross-process tests, and benchmarks that print figures.
        .executableTarget(
            name: "atlas-testkit",
            dependencies: ["Sync", "Inventory", "EventLog", "CanonicalJSON"],
            path: "Tools/atlas-testkit",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "atlas-bench",
            dependencies: ["Sync", "Inventory", "EventLog", "EventLogPostgres", "CanonicalJSON", "LMDB", "ReplayKit", "GraphSimulator", "AtlasTesting"],
            path: "Tools/Benchmarks/atlas-bench",
            swiftSettings: swiftSettings
        ),
        // Tests.
        .testTarget(name: "LMDBTests", dependencies: ["LMDB", "CLMDB"], swiftSettings: swiftSettings),
        .testTarget(name: "CanonicalJSONTests", dependencies: ["CanonicalJSON", "AtlasTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EventLogTests",
            dependencies: [
                "EventLog", "LMDB", "CLMDB", "CanonicalJSON", "AtlasTesting", "atlas-testkit",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EventLogPostgresTests",
            dependencies: [
                "EventLogPostgres", "EventLog", "Inventory", "Sync", "CanonicalJSON", "AtlasTesting",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InventoryTests",
            dependencies: ["AtlasTesting", "Inventory", "EventLog", "CanonicalJSON", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SyncTests",
            dependencies: ["AtlasTesting", "Sync", "Inventory", "EventLog", "EventLogPostgres", "CanonicalJSON", "GraphSimulator", "atlas-testkit", "atlas", "atlas-demo"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReplayTests",
            dependencies: ["Inventory", "EventLog", "CanonicalJSON", "LMDB", "CLMDB", "ReplayKit", "AtlasTesting", "atlas-replay", "atlas"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "AtlasServer", "Inventory", "EventLog", "CanonicalJSON", "AtlasTesting", "EventLogPostgres", "atlas", "atlas-replay",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GraphSimulatorTests",
            dependencies: [
                "GraphSimulator", "CanonicalJSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
