import Foundation
import XCTest
@testable import Homeroom

/// The consent filter through the FFI (REQ-CON-2, CON-5): verdicts arrive as typed values.
final class ConsentTests: XCTestCase {
    var tmp: URL!
    var server: TestServer!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("homeroom-consent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        server = try TestServer(dataDir: tmp.appendingPathComponent("server"))
    }

    override func tearDownWithError() throws {
        server?.stop()
        try? FileManager.default.removeItem(at: tmp)
    }

    func teacher() async throws -> HomeroomSession {
        let d = try HomeroomSession(config: HomeroomConfig(
            serverUrl: server.url, dataDir: tmp.appendingPathComponent("tA").path, deviceId: enrolledTabletKey, atRestKey: testKey))
        _ = try await d.signIn(email: "ta@greenfield.test", password: "tA-password")
        try await d.sync()
        return d
    }

    func testClassStoryPhotoTaggingRestrictedA2IsBlockedAsATypedValue() async throws {
        guard let photo = ProcessInfo.processInfo.environment["HOMEROOM_TEST_PHOTO"] else {
            XCTFail("set HOMEROOM_TEST_PHOTO"); return
        }
        let t = try await teacher()
        let v = try await t.checkPhoto(path: photo, tagged: ["a1", "a2"], audience: .classStory(classId: "classA"))
        guard case let .blocked(pupilId, consentUse, reason, message, _) = v else {
            XCTFail("expected Blocked, got \(v)"); return
        }
        XCTAssertEqual(pupilId, "a2")
        XCTAssertEqual(consentUse, "class_story")
        XCTAssertEqual(reason, .refused)
        XCTAssertTrue(message.contains("a2"), message)
        do {
            try await t.postPhoto(audience: .classStory(classId: "classA"), caption: "sports day",
                                  sha256: String(repeating: "0", count: 64), tagged: ["a1", "a2"])
            XCTFail("nothing was cleared")
        } catch HomeroomError.PhotoNotCleared(let message) {
            XCTAssertFalse(message.isEmpty)
        }
        let pending = try await t.pendingWrites()
        XCTAssertEqual(pending, 0)
    }

    func testWithoutAFaceModelThePhotoNeedsReviewAndA2IsBadged() async throws {
        guard let photo = ProcessInfo.processInfo.environment["HOMEROOM_TEST_PHOTO"] else {
            XCTFail("set HOMEROOM_TEST_PHOTO"); return
        }
        let t = try await teacher()
        let v = try await t.checkPhoto(path: photo, tagged: ["a1"], audience: .classStory(classId: "classA"))
        guard case let .needsReview(_, _, unavailable) = v else {
            XCTFail("expected NeedsReview, got \(v)"); return
        }
        XCTAssertNotNil(unavailable)
        let badges = try await t.consentBadges()
        let a2 = badges.first { $0.pupilId == "a2" }
        XCTAssertEqual(Set(a2?.badges.map(\.consentUse) ?? []), ["class_story", "school_story"])
        XCTAssertEqual(badges.first { $0.pupilId == "a1" }?.badges.count, 0)
    }
}
