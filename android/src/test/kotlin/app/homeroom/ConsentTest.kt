package app.homeroom

import app.homeroom.core.ConsentReason
import app.homeroom.core.HomeroomConfig
import app.homeroom.core.HomeroomException
import app.homeroom.core.PhotoAudience
import app.homeroom.core.PhotoCheck
import java.io.File
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.test.fail
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

/** The consent filter through the FFI (REQ-CON-2, CON-5): verdicts arrive as typed values. */
class ConsentTest {
    private lateinit var tmp: File
    private lateinit var server: TestServer

    @BeforeEach
    fun start() {
        tmp = Files.createTempDirectory("homeroom-kt-consent").toFile()
        server = TestServer(File(tmp, "server"))
    }

    @AfterEach
    fun stop() {
        server.close()
        tmp.deleteRecursively()
    }

    private suspend fun teacher(): Homeroom =
        Homeroom(HomeroomConfig(server.url, File(tmp, "tA").path, ENROLLED_TABLET_KEY, TEST_KEY)).also {
            it.signIn("ta@greenfield.test", "tA-password")
            it.sync()
        }

    private val photo: String
        get() = System.getenv("HOMEROOM_TEST_PHOTO") ?: error("set HOMEROOM_TEST_PHOTO")

    private val classA = PhotoAudience.ClassStory("classA")

    @Test
    fun classStoryPhotoTaggingRestrictedA2IsBlockedAsATypedValue() = runBlocking<Unit> {
        val t = teacher()
        when (val v = t.checkPhoto(photo, listOf("a1", "a2"), classA)) {
            is PhotoCheck.Blocked -> {
                assertEquals("a2", v.pupilId)
                assertEquals("class_story", v.consentUse)
                assertEquals(ConsentReason.REFUSED, v.reason)
                assertTrue(v.message.contains("a2"), v.message)
            }
            else -> fail("expected Blocked, got $v")
        }
        // Nothing cleared, nothing queued: a typed refusal.
        assertFailsWith<HomeroomException.PhotoNotCleared> {
            t.postPhoto(classA, "sports day", "0".repeat(64), listOf("a1", "a2"))
        }
        assertEquals(0, t.pendingWrites())
        t.close()
    }

    @Test
    fun withoutAFaceModelThePhotoNeedsReviewAndA2IsBadged() = runBlocking<Unit> {
        val t = teacher()
        val v = t.checkPhoto(photo, listOf("a1"), classA)
        assertTrue(v is PhotoCheck.NeedsReview, "$v")
        assertNotNull((v as PhotoCheck.NeedsReview).detectionUnavailable)
        val a2 = t.consentBadges().single { it.pupilId == "a2" }
        assertEquals(setOf("class_story", "school_story"), a2.badges.map { it.consentUse }.toSet())
        assertTrue(t.consentBadges().single { it.pupilId == "a1" }.badges.isEmpty())
        t.close()
    }
}
