import Foundation
import XCTest
@testable import Homeroom

/// A test with its own real server and temporary directory, and devices signed in as fixture people.
class ServerTestCase: XCTestCase {
    var tmp: URL!
    var server: TestServer!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("homeroom-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        server = try TestServer(dataDir: tmp.appendingPathComponent("server"))
    }

    override func tearDownWithError() throws {
        server?.stop()
        try? FileManager.default.removeItem(at: tmp)
    }

    /// A device over `tmp/name` (the enrolled tablet key, so staff may sign in), not signed in.
    func device(_ name: String) throws -> HomeroomSession {
        try HomeroomSession(config: HomeroomConfig(
            serverUrl: server.url, dataDir: tmp.appendingPathComponent(name).path, deviceId: enrolledTabletKey, atRestKey: testKey))
    }

    /// A device in `tmp/name` signed in as fixture person `who` and synced once.
    func signedIn(_ name: String, as who: String) async throws -> HomeroomSession {
        let d = try device(name)
        _ = try await d.signIn(email: "\(who.lowercased())@greenfield.test", password: "\(who)-password")
        try await d.sync()
        return d
    }
}
