import Foundation
import XCTest
@testable import Homeroom

/// A real app keeps 32 random bytes in the Keychain; tests use a fixed key.
let testKey = Data(repeating: 7, count: 32)
/// The fixture school enrolled this key for its test tablet (REQ-ACC-6: staff sign in only on school devices).
let enrolledTabletKey = "GREENFIELD-TEST-TABLET"

/// The real homeroom-server on a loopback port, seeded with the fixture school.
final class TestServer {
    let process = Process()
    let url: String
    let dataDir: URL

    init(dataDir: URL, port: Int = 0) throws {
        self.dataDir = dataDir
        guard let bin = ProcessInfo.processInfo.environment["HOMEROOM_SERVER_BIN"] else {
            throw NSError(domain: "test", code: 1, userInfo: [NSLocalizedDescriptionKey: "set HOMEROOM_SERVER_BIN"])
        }
        process.executableURL = URL(fileURLWithPath: bin)
        process.arguments = ["--listen", "127.0.0.1:\(port)", "--data-dir", dataDir.path, "--seed-fixture"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data([0x0a]) { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "listening on ") else {
            throw NSError(domain: "test", code: 2, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(text)"])
        }
        url = String(text[range.upperBound...]).trimmingCharacters(in: .whitespaces)
    }

    var port: Int { Int(url.split(separator: ":").last ?? "0") ?? 0 }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

final class PointsJourneyTests: ServerTestCase {
    func testAwardOnTabletReachesParentPhoneWithNote() async throws {
        // REQ-PTS-2, PTS-5
        let tablet = try await signedIn("tablet", as: "tA")
        let phone = try await signedIn("phone", as: "pa1")
        let ids = try await tablet.awardPoints(pupilIds: ["a1"], skillId: "classA-teamwork",
                                               note: "helped tidy the reading corner")
        XCTAssertEqual(ids.count, 1)
        let local = try await tablet.points(for: "a1")
        XCTAssertTrue(local.awards[0].pending, "shown at once, pending until sent")
        let report = try await tablet.sync()
        XCTAssertEqual(report.sent, 1)

        try await phone.sync()
        let points = try await phone.points(for: "a1")
        XCTAssertEqual(points.total, 1)
        XCTAssertEqual(points.awards.count, 1)
        XCTAssertEqual(points.awards[0].note, "helped tidy the reading corner")
        XCTAssertEqual(points.awards[0].skillName, "Teamwork")
        XCTAssertEqual(points.awards[0].id, ids[0])
        XCTAssertFalse(points.awards[0].pending)
    }

    func testParentOfAnotherPupilSeesNothingOfA1() async throws {
        // REQ-ACC-5
        let tablet = try await signedIn("tablet", as: "tA")
        try await tablet.awardPoints(pupilIds: ["a1"], skillId: "classA-teamwork")
        try await tablet.sync()
        let other = try await signedIn("other", as: "pb1")
        do {
            _ = try await other.points(for: "a1")
            XCTFail("pb1 must not read a1's points")
        } catch HomeroomError.NotAllowed(let message) {
            XCTAssertFalse(message.isEmpty)
        }
        let pupils = try await other.pupils()
        XCTAssertEqual(pupils.map(\.id), ["b1"])
    }

    func testWrongPasswordThrowsTypedErrorWithReadableMessage() async throws {
        let d = try device("d")
        do {
            _ = try await d.signIn(email: "ta@greenfield.test", password: "nope")
            XCTFail("a wrong password must fail")
        } catch HomeroomError.InvalidCredentials(let message) {
            XCTAssertTrue(message.contains("wrong"), message)
        }
        let account = try await d.account()
        XCTAssertNil(account)
    }

    func testAwardOutsideTeachersClassIsRefusedBeforeQueueing() async throws {
        // REQ-ACC-7
        let tablet = try await signedIn("tablet", as: "tA")
        do {
            try await tablet.awardPoints(pupilIds: ["b1"], skillId: "classB-teamwork")
            XCTFail("tA does not teach b1")
        } catch HomeroomError.NotAllowed {}
        let pending = try await tablet.pendingWrites()
        XCTAssertEqual(pending, 0)
    }

    func testOfflineAwardSurvivesAppKillAndIsSentOnce() async throws {
        // REQ-OFF-1
        var tablet: HomeroomSession? = try await signedIn("tablet", as: "tA")
        let port = server.port
        server.stop()
        try await tablet!.awardPoints(pupilIds: ["a1"], skillId: "classA-teamwork", note: "offline")
        do {
            try await tablet!.sync()
            XCTFail("the server is down")
        } catch HomeroomError.Offline {}
        let step = try await tablet!.nextStep()
        guard case .waitMillis(let millis) = step, millis <= 500 else {
            XCTFail("back off after a failure, got \(step)"); return
        }
        tablet = nil  // the app is killed

        server = try TestServer(dataDir: tmp.appendingPathComponent("server"), port: port)
        let reopened = try device("tablet")
        let pending = try await reopened.pendingWrites()
        XCTAssertEqual(pending, 1)
        let first = try await reopened.sync()
        XCTAssertEqual(first.sent, 1)
        let second = try await reopened.sync()
        XCTAssertEqual(second.sent, 0)
        let phone = try await signedIn("phone", as: "pa1")
        let points = try await phone.points(for: "a1")
        XCTAssertEqual(points.awards.map(\.note), ["offline"])
    }

    func testPointsUpdatesStreamYieldsCacheThenChange() async throws {
        let tablet = try await signedIn("tablet", as: "tA")
        let phone = try await signedIn("phone", as: "pa1")
        var iterator = phone.pointsUpdates(for: "a1").makeAsyncIterator()
        let first = try await iterator.next()
        XCTAssertEqual(first?.total, 0)
        try await tablet.awardPoints(pupilIds: ["a1"], skillId: "classA-teamwork", note: "stream")
        try await tablet.sync()
        try await phone.sync()
        let second = try await iterator.next()
        XCTAssertEqual(second?.total, 1)
        XCTAssertEqual(second?.awards.map(\.note), ["stream"])
    }
}
