package app.homeroom

import app.homeroom.core.HomeroomConfig
import app.homeroom.core.HomeroomException
import app.homeroom.core.PhotoAudience
import java.io.File
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Test

/** Comments and likes on Class Story, through the Kotlin shell against the real core and server. */
class StoryTest : ServerTest("homeroom-kt-story") {
    private val classA = PhotoAudience.ClassStory("classA")

    @Test
    fun parentLikesAndCommentsAndTheTeachersStoryFlowSeesIt() = runBlocking<Unit> {
        // REQ-STO-4, issue 4 listeners: the teacher's feed flow shows the parent's like and comment
        // after a sync; the comment flow shows the comment with the parent's name.
        val teacher = signedIn("teacher", "tA")
        val post = teacher.postText(classA, "Our trip to the farm")
        assertEquals(1u, teacher.sync().sent)
        withTimeout(5_000) { teacher.storyFeed(classA).first { it.size == 1 && it[0].likeCount == 0u } }

        val parent = signedIn("parent", "pa1")
        parent.likePost(post)
        val comment = parent.commentOnPost(post, "Amira loved it!")
        assertTrue(comment.pending, "shown at once, pending until sent")
        assertEquals(2u, parent.sync().sent)

        teacher.sync()
        val item = withTimeout(10_000) { teacher.storyFeed(classA).first { it.single().commentCount == 1u } }.single()
        assertEquals(1u, item.likeCount)
        assertEquals(false, item.likedByMe)
        val comments = withTimeout(5_000) { teacher.commentsOf(post).first { it.isNotEmpty() } }
        assertEquals("Amira loved it!", comments.single().body)
        assertEquals("Sara Ahmed", comments.single().authorName)
        teacher.close(); parent.close()
    }

    @Test
    fun pupilCannotComment() = runBlocking<Unit> {
        // REQ-STO-4: parents and staff comment; pupils read only.
        val teacher = signedIn("teacher", "tA")
        val post = teacher.postText(classA, "Spelling test on Friday")
        teacher.sync()
        val pupil = Homeroom(HomeroomConfig(server.url, File(tmp, "pupil").path, null, TEST_KEY))
            .also { it.signInWithPupilCode("PUPIL-A1"); it.sync() }
        assertEquals(1, pupil.story(classA).size)
        assertEquals(listOf(post), pupil.storyPage(classA, limit = 10).map { it.post.id })
        assertFailsWith<HomeroomException.NotAllowed> { pupil.commentOnPost(post, "hi") }
        assertEquals(0, pupil.pendingWrites())
        teacher.close(); pupil.close()
    }
}
