import Foundation
import XCTest
@testable import Homeroom

/// Learning goals (REQ-PTS-8) through the Swift shell, against the real core and server.
final class GoalsJourneyTests: ServerTestCase {
    func testTeacherSetsAGoalAndTheParentsReportAndListenerShowItsProgress() async throws {
        // REQ-PTS-8, OFF-1: the teacher sets a goal, links a skill and a portfolio item, awards the
        // skill and syncs; the parent's goal stream gets the snapshot, then the goal after a sync,
        // then its new title; the parent's report shows the progress, computed from the cache.
        let teacher = try await signedIn("teacher", as: "tA")
        let phone = try await signedIn("phone", as: "pa1")
        var stream = phone.goalUpdates(pupilId: "a1").makeAsyncIterator()
        let snapshot = try await stream.next()
        XCTAssertEqual(snapshot?.count, 0, "the snapshot first")

        let goal = try await teacher.createGoal(pupilId: "a1", title: "Shares equipment", kind: .learningGoal, target: 4)
        try await teacher.linkGoal(id: goal, skillId: "classA-teamwork")
        let item = try await teacher.postText(audience: .portfolio(pupilId: "a1"), caption: "Shared the paints")
        try await teacher.linkGoal(id: goal, postId: item)
        _ = try await teacher.awardPoints(pupilIds: ["a1"], skillId: "classA-teamwork")
        let onTablet = try await teacher.goals(pupilId: "a1")
        XCTAssertEqual(onTablet.map(\.title), ["Shares equipment"], "shown at once on the tablet")
        let sent = try await teacher.sync()
        XCTAssertEqual(sent.sent, 5)

        try await phone.sync()
        let listed = try await stream.next()
        XCTAssertEqual(listed?.map(\.id), [goal])
        XCTAssertEqual(listed?.first?.skillIds, ["classA-teamwork"])
        XCTAssertEqual(listed?.first?.portfolioPostIds, [item])

        let progress = try await phone.goalProgress(pupilId: "a1", period: "week")
        XCTAssertEqual(progress.count, 1)
        XCTAssertEqual(progress.first?.points, 1)
        XCTAssertEqual(progress.first?.portfolioItems, 1)
        XCTAssertEqual(progress.first?.progress, 2)
        XCTAssertEqual(progress.first?.percent, 50)
        XCTAssertEqual(progress.first?.pointsHidden, false)

        try await teacher.updateGoal(id: goal, title: "Shares equipment with a partner", target: 4)
        try await teacher.sync()
        try await phone.sync()
        let renamed = try await stream.next()
        XCTAssertEqual(renamed?.map(\.title), ["Shares equipment with a partner"])
    }
}
