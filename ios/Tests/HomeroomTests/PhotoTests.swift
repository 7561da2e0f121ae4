import Foundation
import XCTest
@testable import Homeroom

final class PhotoTests: XCTestCase {
    func device() throws -> HomeroomSession {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("homeroom-photo-\(UUID().uuidString)")
        return try HomeroomSession(config: HomeroomConfig(
            serverUrl: "http://127.0.0.1:9", dataDir: dir.path, deviceId: nil, atRestKey: testKey))
    }

    func testCameraPhotoIsPreparedUprightAndStripped() async throws {
        // REQ-PRV-1: a 3000x2000 photo taken upright (EXIF orientation 6) with GPS-like metadata.
        guard let input = ProcessInfo.processInfo.environment["HOMEROOM_TEST_PHOTO"] else {
            XCTFail("set HOMEROOM_TEST_PHOTO"); return
        }
        let p = try await device().preparePhoto(path: input)
        XCTAssertEqual(max(p.large.width, p.large.height), 2048)
        XCTAssertGreaterThan(p.large.height, p.large.width, "turned upright: portrait")
        XCTAssertEqual(max(p.thumbnail.width, p.thumbnail.height), 400)
        for f in [p.large, p.thumbnail] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: f.path))
            XCTAssertEqual(UInt64(bytes.count), f.bytes)
            XCTAssertEqual(f.sha256.count, 64)
            XCTAssertNil(bytes.range(of: Data("GPS 51".utf8)), "no metadata reaches the upload")
        }
    }

    func testAFileThatIsNotAPhotoIsATypedError() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-photo-\(UUID().uuidString).jpg")
        try Data("definitely not a jpeg".utf8).write(to: path)
        do {
            _ = try await device().preparePhoto(path: path.path)
            XCTFail("not a photo")
        } catch HomeroomError.InvalidPhoto(let message) {
            XCTAssertTrue(message.contains("photo"), message)
        }
    }
}
