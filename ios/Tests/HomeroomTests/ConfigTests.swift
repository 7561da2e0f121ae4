import Foundation
import Testing
@testable import Homeroom

/// Swift Testing: a bad server URL is refused with a typed, readable error before anything runs.
@Test func serverUrlWithoutSchemeIsRejectedWithTypedError() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("homeroom-cfg-\(UUID().uuidString)").path
    do {
        _ = try HomeroomSession(config: HomeroomConfig(serverUrl: "school.example", dataDir: dir, deviceId: nil, atRestKey: testKey))
        Issue.record("a URL without http(s) must be refused")
    } catch HomeroomError.InvalidInput(let message) {
        #expect(message.contains("server_url"))
    }
}
