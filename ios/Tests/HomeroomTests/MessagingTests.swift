import Foundation
import XCTest
@testable import Homeroom

final class MessagingTests: XCTestCase {
    var tmp: URL!
    var server: TestServer!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("homeroom-swift-msg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        server = try TestServer(dataDir: tmp.appendingPathComponent("server"))
    }

    override func tearDownWithError() throws {
        server?.stop()
        try? FileManager.default.removeItem(at: tmp)
    }

    func device(_ name: String) throws -> HomeroomSession {
        try HomeroomSession(config: HomeroomConfig(
            serverUrl: server.url, dataDir: tmp.appendingPathComponent(name).path, deviceId: enrolledTabletKey, atRestKey: testKey))
    }

    func signedIn(_ name: String, as who: String) async throws -> HomeroomSession {
        let d = try device(name)
        _ = try await d.signIn(email: "\(who.lowercased())@greenfield.test", password: "\(who)-password")
        try await d.sync()
        return d
    }

    func testParentSendsAndTeacherReads() async throws {
        // REQ-MSG-1
        let parent = try await signedIn("parent", as: "pa1")
        let teacher = try await signedIn("teacher", as: "tA")
        let sent = try await parent.sendMessage(to: "tA", body: "Amira left her reading book at school")
        XCTAssertTrue(sent.pending, "shown at once, pending until sent")
        let report = try await parent.sync()
        XCTAssertEqual(report.sent, 1)

        try await teacher.sync()
        let conversations = try await teacher.conversations()
        XCTAssertEqual(conversations.count, 1)
        XCTAssertEqual(conversations[0].otherName, "Sara Ahmed")
        XCTAssertEqual(conversations[0].unread, 1)
        let messages = try await teacher.messages(threadId: conversations[0].threadId)
        XCTAssertEqual(messages.map(\.body), ["Amira left her reading book at school"])
        try await teacher.markConversationRead(threadId: conversations[0].threadId)
        try await teacher.sync()

        try await parent.sync()
        let thread = try await parent.conversation(with: "tA")
        let mine = try await parent.messages(threadId: thread)
        XCTAssertNotNil(mine[0].readAt, "the parent sees it was read")
    }

    func testPupilCannotMessage() async throws {
        // REQ-MSG-2
        let pupil = try device("pupil")
        _ = try await pupil.signIn(pupilCode: "PUPIL-A1")
        try await pupil.sync()
        do {
            try await pupil.sendMessage(to: "tA", body: "hello")
            XCTFail("a pupil must not send a message")
        } catch HomeroomError.NotAllowed(let message) {
            XCTAssertTrue(message.contains("pupils cannot use messaging"), message)
        }
        let pending = try await pupil.pendingWrites()
        XCTAssertEqual(pending, 0)
    }

    func testOfficeHintForAnAbsence() async throws {
        // REQ-MSG-7
        let parent = try await signedIn("parent", as: "pa1")
        XCTAssertEqual(parent.officeHint(draft: "Amira is off sick today")?.topic, .attendance)
        XCTAssertNil(parent.officeHint(draft: "Thank you for the trip photos"))
    }
}
