import Foundation
import XCTest
@testable import Homeroom

final class MessagingTests: ServerTestCase {
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

    func testParentSendsAPhotoAndTheTeacherGetsTheSameBytes() async throws {
        // REQ-MSG-1, PRV-1
        guard let photo = ProcessInfo.processInfo.environment["HOMEROOM_TEST_PHOTO"] else {
            XCTFail("set HOMEROOM_TEST_PHOTO"); return
        }
        let parent = try await signedIn("parent", as: "pa1")
        let teacher = try await signedIn("teacher", as: "tA")
        let sent = try await parent.sendMessage(to: "tA", body: "Amira's model volcano", attachments: [.photo(path: photo)])
        XCTAssertEqual(sent.attachments.count, 1)
        XCTAssertEqual(sent.attachments[0].kind, .photo)
        XCTAssertEqual(sent.attachments[0].contentType, "image/jpeg")
        let mine = try await parent.attachmentBytes(messageId: sent.id, sha256: sent.attachments[0].sha256)
        let report = try await parent.sync()
        XCTAssertEqual(report.sent, 1)

        try await teacher.sync()
        let conversations = try await teacher.conversations()
        let messages = try await teacher.messages(threadId: conversations[0].threadId)
        XCTAssertEqual(messages.map(\.body), ["Amira's model volcano"])
        let got = messages[0].attachments
        XCTAssertEqual(got.map(\.sha256), [sent.attachments[0].sha256])
        let bytes = try await teacher.attachmentBytes(messageId: messages[0].id, sha256: got[0].sha256)
        XCTAssertEqual(bytes, mine, "the teacher's device has the very bytes the parent sent")
        XCTAssertEqual(UInt64(bytes.count), got[0].size)
    }

    func testParentReportsAMessage() async throws {
        // REQ-MSG-5
        let teacher = try await signedIn("teacher", as: "tA")
        let parent = try await signedIn("parent", as: "pa1")
        let mine = try await parent.sendMessage(to: "tA", body: "Is the trip still on?")
        try await teacher.sendMessage(to: "pa1", body: "Please do not message me at home again")
        try await parent.sync()
        try await teacher.sync()
        try await parent.sync()
        let thread = try await parent.conversation(with: "tA")
        let incoming = try await parent.messages(threadId: thread).filter { $0.senderId == "tA" }
        XCTAssertEqual(incoming.count, 1)
        do {
            try await parent.reportMessage(id: mine.id, reason: "mistake")
            XCTFail("one's own message cannot be reported")
        } catch HomeroomError.InvalidInput(let message) {
            XCTAssertTrue(message.contains("your own message"), message)
        }
        try await parent.reportMessage(id: incoming[0].id, reason: "felt unwelcoming")
        let report = try await parent.sync()
        XCTAssertEqual(report.sent, 1, "the report reached the school's leaders")
        XCTAssertTrue(report.refused.isEmpty)
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
