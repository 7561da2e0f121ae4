package app.homeroom

import app.homeroom.core.AttachmentKind
import app.homeroom.core.DraftTopic
import app.homeroom.core.HomeroomConfig
import app.homeroom.core.HomeroomException
import app.homeroom.core.OutgoingAttachment
import java.security.MessageDigest
import java.io.File
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

class MessagingTest {
    private lateinit var tmp: File
    private lateinit var server: TestServer

    @BeforeEach
    fun start() {
        tmp = Files.createTempDirectory("homeroom-kt-msg").toFile()
        server = TestServer(File(tmp, "server"))
    }

    @AfterEach
    fun stop() {
        server.close()
        tmp.deleteRecursively()
    }

    private fun device(name: String) = Homeroom(HomeroomConfig(server.url, File(tmp, name).path, ENROLLED_TABLET_KEY, TEST_KEY))

    private suspend fun signedIn(name: String, who: String): Homeroom =
        device(name).also { it.signIn("${who.lowercase()}@greenfield.test", "$who-password"); it.sync() }

    @Test
    fun parentSendsAndTeacherReads() = runBlocking<Unit> {
        // REQ-MSG-1
        val parent = signedIn("parent", "pa1")
        val teacher = signedIn("teacher", "tA")
        val sent = parent.sendMessage("tA", "Amira left her reading book at school")
        assertTrue(sent.pending, "shown at once, pending until sent")
        assertEquals(1u, parent.sync().sent)

        teacher.sync()
        val conversation = teacher.conversations().single()
        assertEquals("Sara Ahmed", conversation.otherName)
        assertEquals(1u, conversation.unread)
        val messages = teacher.messages(conversation.threadId)
        assertEquals("Amira left her reading book at school", messages.single().body)
        teacher.markConversationRead(conversation.threadId)
        assertEquals(0u, teacher.conversations().single().unread)
        teacher.sync()

        parent.sync()
        val mine = parent.messages(parent.conversationWith("tA")).single()
        assertNotNull(mine.readAt, "the parent sees it was read")
    }

    private fun sha256(bytes: ByteArray) = MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

    @Test
    fun parentSendsAPhotoAndTheTeacherGetsTheSameBytes() = runBlocking<Unit> {
        // REQ-MSG-1, PRV-1
        val photo = System.getenv("HOMEROOM_TEST_PHOTO") ?: error("set HOMEROOM_TEST_PHOTO")
        val parent = signedIn("parent", "pa1")
        val teacher = signedIn("teacher", "tA")
        val sent = parent.sendMessage("tA", "Amira's model volcano", listOf(OutgoingAttachment.Photo(photo)))
        val attached = sent.attachments.single()
        assertEquals(AttachmentKind.PHOTO, attached.kind)
        assertEquals("image/jpeg", attached.contentType)
        val report = parent.sync()
        assertEquals(1u, report.sent)

        teacher.sync()
        val conversation = teacher.conversations().single()
        val message = teacher.messages(conversation.threadId).single()
        assertEquals("Amira's model volcano", message.body)
        val got = message.attachments.single()
        assertEquals(attached.sha256, got.sha256)
        val bytes = teacher.attachmentBytes(message.id, got.sha256)
        assertEquals(got.sha256, sha256(bytes), "the teacher's device has the very bytes the parent sent")
        assertEquals(got.size, bytes.size.toULong())
    }

    @Test
    fun aFileOutsideTheAllowlistIsATypedError() = runBlocking<Unit> {
        // REQ-MSG-1
        val parent = signedIn("parent", "pa1")
        val exe = File(tmp, "game.exe").apply { writeBytes(byteArrayOf(0x4d, 0x5a, 0x00)) }
        assertFailsWith<HomeroomException.InvalidAttachment> {
            parent.sendMessage("tA", "see attached", listOf(OutgoingAttachment.File(exe.path, "game.exe", "application/x-msdownload")))
        }
        assertEquals(0, parent.pendingWrites())
    }

    @Test
    fun parentReportsAMessage() = runBlocking<Unit> {
        // REQ-MSG-5
        val teacher = signedIn("teacher", "tA")
        val parent = signedIn("parent", "pa1")
        val mine = parent.sendMessage("tA", "Is the trip still on?")
        teacher.sendMessage("pa1", "Please do not message me at home again")
        parent.sync()
        teacher.sync()
        parent.sync()
        val incoming = parent.messages(parent.conversationWith("tA")).single { it.senderId == "tA" }
        val own = assertFailsWith<HomeroomException.InvalidInput> { parent.reportMessage(mine.id, "mistake") }
        assertTrue(own.message!!.contains("your own message"), own.message)
        parent.reportMessage(incoming.id, "felt unwelcoming")
        val report = parent.sync()
        assertEquals(1u, report.sent, "the report reached the school's leaders")
        assertTrue(report.refused.isEmpty(), report.refused.toString())
    }

    @Test
    fun pupilCannotMessage() = runBlocking<Unit> {
        // REQ-MSG-2
        val pupil = device("pupil").also { it.signInWithPupilCode("PUPIL-A1"); it.sync() }
        val e = assertFailsWith<HomeroomException.NotAllowed> { pupil.sendMessage("tA", "hello") }
        assertTrue(e.message!!.contains("pupils cannot use messaging"), e.message)
        assertFailsWith<HomeroomException.NotAllowed> { pupil.conversations() }
        assertEquals(0, pupil.pendingWrites())
    }

    @Test
    fun composerShowsReplyWindowAndOfficeHint() = runBlocking<Unit> {
        // REQ-MSG-4, MSG-7
        val parent = signedIn("parent", "pa1")
        val hints = parent.composerHints("tA")
        assertEquals("Ms Khan replies 08:00–17:00 on school days; usually within 24 hours", hints.replyWindow)
        assertEquals(DraftTopic.ATTENDANCE, parent.officeHint("Amira is off sick today")?.topic)
        assertNull(parent.officeHint("Thank you for the trip photos"))
    }
}
