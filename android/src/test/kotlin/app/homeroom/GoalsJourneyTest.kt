package app.homeroom

import app.homeroom.core.GoalType
import app.homeroom.core.GoalView
import app.homeroom.core.PhotoAudience
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Test

/** Learning goals (REQ-PTS-8) through the Kotlin shell against the real core and server. */
class GoalsJourneyTest : ServerTest("homeroom-kt-goals") {
    @Test
    fun teacherSetsAGoalAndTheParentsReportAndListenerShowItsProgress() = runBlocking<Unit> {
        // REQ-PTS-8, OFF-1: the teacher sets a goal, links a skill and a portfolio item, awards the
        // skill and syncs; the parent's phone shows the goal in its listener and the progress in its
        // report, computed offline from the cache with the server's rules.
        val teacher = signedIn("teacher", "tA")
        val phone = signedIn("phone", "pa1")
        // One collector for the whole journey: the snapshot, then the core's diffs applied.
        val seen = Channel<List<GoalView>>(Channel.UNLIMITED)
        val listening = launch { phone.goalsOf("a1").collect { seen.send(it) } }
        assertEquals(emptyList(), withTimeout(5_000) { seen.receive() }, "the snapshot first")

        val goal = teacher.createGoal("a1", "Shares equipment", GoalType.LEARNING_GOAL, 4u)
        teacher.linkGoalSkill(goal, "classA-teamwork")
        val item = teacher.postText(PhotoAudience.Portfolio("a1"), "Shared the paints")
        teacher.linkGoalPortfolioItem(goal, item)
        teacher.awardPoints(listOf("a1"), "classA-teamwork")
        assertEquals("Shares equipment", teacher.goals("a1").single().title, "shown at once on the tablet")
        assertEquals(5u, teacher.sync().sent)

        phone.sync()
        val listed = withTimeout(10_000) { seen.receive() }.single()
        assertEquals(goal, listed.id)
        assertEquals(listOf("classA-teamwork"), listed.skillIds)
        assertEquals(listOf(item), listed.portfolioPostIds)

        val progress = phone.goalProgress("a1", "week").single()
        assertEquals("Shares equipment", progress.title)
        assertEquals(1L, progress.points)
        assertEquals(1u, progress.portfolioItems)
        assertEquals(2L, progress.progress)
        assertEquals(50.toUByte(), progress.percent)
        assertFalse(progress.pointsHidden)

        // An edit reaches the listener as an update after the next sync.
        teacher.updateGoal(goal, "Shares equipment with a partner", 4u)
        teacher.sync()
        phone.sync()
        val renamed = withTimeout(10_000) { seen.receive() }.single()
        assertEquals("Shares equipment with a partner", renamed.title)
        assertEquals(listOf(item), renamed.portfolioPostIds)
        listening.cancel()
        teacher.close(); phone.close()
    }
}
