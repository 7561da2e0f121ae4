// swift-tools-version:6.0
// The iOS package: the generated UniFFI bindings (scripts/bindings) plus a thin async/await layer.
// lib/ holds the Rust core: libhomeroom_core.so on Linux for tests; an XCFramework on Apple (README).
import PackageDescription

let libDir = Context.packageDirectory + "/lib"

let package = Package(
    name: "Homeroom",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [.library(name: "Homeroom", targets: ["Homeroom"])],
    targets: [
        .systemLibrary(name: "HomeroomFFI", path: "Sources/HomeroomFFI"),
        .target(
            name: "Homeroom",
            dependencies: ["HomeroomFFI"],
            path: "Sources/Homeroom",
            // Swift 6 mode crashes swiftlang 6.0.3 on the generated async helpers (RECIPE pitfall 6).
            swiftSettings: [.swiftLanguageMode(.v5)],
            linkerSettings: [
                .linkedLibrary("homeroom_core"),
                .unsafeFlags(["-L", libDir, "-Xlinker", "-rpath", "-Xlinker", libDir]),
            ]
        ),
        .testTarget(name: "HomeroomTests", dependencies: ["Homeroom"], path: "Tests/HomeroomTests"),
    ]
)
