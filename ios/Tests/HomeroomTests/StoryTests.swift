import Foundation
import XCTest
@testable import Homeroom

/// Comments and likes on Class Story through the Swift shell, against the real core and server.
final class StoryTests: ServerTestCase {
    let classA = PhotoAudience.classStory(classId: "classA")

    func testParentLikesAndCommentsAndTheTeachersStoryStreamSeesIt() async throws {
        // REQ-STO-4, issue 4 listeners: the teacher's feed stream gets the snapshot, then the post
        // with the parent's like and comment after a sync; the comment stream gets the comment.
        let teacher = try await signedIn("teacher", as: "tA")
        let post = try await teacher.postText(audience: classA, caption: "Our trip to the farm")
        let posted = try await teacher.sync()
        XCTAssertEqual(posted.sent, 1)
        var feed = teacher.storyUpdates(classA).makeAsyncIterator()
        let first = try await feed.next()
        XCTAssertEqual(first?.map(\.likeCount), [0])

        let parent = try await signedIn("parent", as: "pa1")
        try await parent.likePost(id: post)
        let comment = try await parent.commentOnPost(postId: post, body: "Amira loved it!")
        XCTAssertTrue(comment.pending, "shown at once, pending until sent")
        let sent = try await parent.sync()
        XCTAssertEqual(sent.sent, 2)

        try await teacher.sync()
        let second = try await feed.next()
        XCTAssertEqual(second?.first?.likeCount, 1)
        XCTAssertEqual(second?.first?.commentCount, 1)
        XCTAssertEqual(second?.first?.likedByMe, false)
        var comments = teacher.commentUpdates(postId: post).makeAsyncIterator()
        let list = try await comments.next()
        XCTAssertEqual(list?.map(\.body), ["Amira loved it!"])
        XCTAssertEqual(list?.map(\.authorName), ["Sara Ahmed"])
    }

    func testPupilCannotComment() async throws {
        // REQ-STO-4: parents and staff comment; pupils read only.
        let teacher = try await signedIn("teacher", as: "tA")
        let post = try await teacher.postText(audience: classA, caption: "Spelling test on Friday")
        try await teacher.sync()
        let pupil = try HomeroomSession(config: HomeroomConfig(
            serverUrl: server.url, dataDir: tmp.appendingPathComponent("pupil").path, deviceId: nil, atRestKey: testKey))
        _ = try await pupil.signIn(pupilCode: "PUPIL-A1")
        try await pupil.sync()
        let story = try await pupil.story(classA)
        XCTAssertEqual(story.count, 1)
        let page = try await pupil.storyPage(classA, limit: 10)
        XCTAssertEqual(page.map(\.post.id), [post])
        do {
            try await pupil.commentOnPost(postId: post, body: "hi")
            XCTFail("a pupil must not comment")
        } catch HomeroomError.NotAllowed {
        }
        let pending = try await pupil.pendingWrites()
        XCTAssertEqual(pending, 0)
    }
}
