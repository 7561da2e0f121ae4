package app.homeroom

import app.homeroom.core.HomeroomConfig
import app.homeroom.core.HomeroomException
import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

/** The real homeroom-server on a free loopback port, seeded with the fixture school. */
class TestServer(private val dataDir: File, port: Int = 0) : AutoCloseable {
    private val process: Process
    val url: String

    init {
        val bin = System.getenv("HOMEROOM_SERVER_BIN") ?: error("set HOMEROOM_SERVER_BIN to the homeroom-server binary")
        process = ProcessBuilder(bin, "--listen", "127.0.0.1:$port", "--data-dir", dataDir.path, "--seed-fixture")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        val line = process.inputStream.bufferedReader().readLine() ?: error("server exited before listening")
        url = line.substringAfter("listening on ").trim()
    }

    val port: Int get() = url.substringAfterLast(':').toInt()

    override fun close() {
        process.destroy()
        process.waitFor(10, TimeUnit.SECONDS)
    }
}

/** A real app keeps 32 random bytes in the Android Keystore; tests use a fixed key. */
val TEST_KEY = ByteArray(32) { 7 }

/** The fixture school enrolled this key for its test tablet (REQ-ACC-6: staff sign in only on school devices). */
const val ENROLLED_TABLET_KEY = "GREENFIELD-TEST-TABLET"

class PointsJourneyTest {
    private lateinit var tmp: File
    private lateinit var server: TestServer

    @BeforeEach
    fun start() {
        tmp = Files.createTempDirectory("homeroom-kt").toFile()
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
    fun awardOnTabletReachesParentPhoneWithNote() = runBlocking<Unit> {
        // REQ-PTS-2, PTS-5
        val tablet = signedIn("tablet", "tA")
        val phone = signedIn("phone", "pa1")
        val ids = tablet.awardPoints(listOf("a1"), "classA-teamwork", "helped tidy the reading corner")
        assertEquals(1, ids.size)
        assertTrue(tablet.pointsFor("a1").awards.single().pending, "shown at once, pending until sent")
        assertEquals(1u, tablet.sync().sent)

        phone.sync()
        val points = phone.pointsFor("a1")
        assertEquals(1L, points.total)
        val award = points.awards.single()
        assertEquals("helped tidy the reading corner", award.note)
        assertEquals("Teamwork", award.skillName)
        assertEquals(ids.single(), award.id)
        assertFalse(award.pending)
        tablet.close(); phone.close()
    }

    @Test
    fun parentOfAnotherPupilSeesNothingOfA1() = runBlocking<Unit> {
        // REQ-ACC-5
        val tablet = signedIn("tablet", "tA")
        tablet.awardPoints(listOf("a1"), "classA-teamwork")
        tablet.sync()
        val other = signedIn("other", "pb1")
        assertFailsWith<HomeroomException.NotAllowed> { other.pointsFor("a1") }
        assertEquals(listOf("b1"), other.pupils().map { it.id })
        tablet.close(); other.close()
    }

    @Test
    fun wrongPasswordRaisesTypedExceptionWithReadableMessage() = runBlocking<Unit> {
        val d = device("d")
        val e = assertFailsWith<HomeroomException.InvalidCredentials> { d.signIn("ta@greenfield.test", "nope") }
        assertTrue(e.message!!.contains("wrong"), e.message)
        assertEquals(null, d.account())
        d.close()
    }

    @Test
    fun awardOutsideTeachersClassIsRefusedBeforeQueueing() = runBlocking<Unit> {
        // REQ-ACC-7: the core refuses what the server would refuse.
        val tablet = signedIn("tablet", "tA")
        assertFailsWith<HomeroomException.NotAllowed> { tablet.awardPoints(listOf("b1"), "classB-teamwork") }
        assertEquals(0, tablet.pendingWrites())
        tablet.close()
    }

    @Test
    fun offlineAwardSurvivesAppKillAndIsSentOnce() = runBlocking<Unit> {
        // REQ-OFF-1: server down, app killed and recreated: nothing lost, nothing sent twice.
        val tablet = signedIn("tablet", "tA")
        val port = server.port
        server.close()
        tablet.awardPoints(listOf("a1"), "classA-teamwork", "offline")
        assertFailsWith<HomeroomException.Offline> { tablet.sync() }
        val step = tablet.nextStep()
        assertTrue(step is app.homeroom.core.NextStep.WaitMillis && step.millis <= 500uL, "back off after a failure: $step")
        tablet.close()

        server = TestServer(File(tmp, "server"), port)
        val reopened = device("tablet")
        assertEquals(1, reopened.pendingWrites())
        assertEquals(1u, reopened.sync().sent)
        assertEquals(0u, reopened.sync().sent)
        val phone = signedIn("phone", "pa1")
        assertEquals("offline", phone.pointsFor("a1").awards.single().note)
        reopened.close(); phone.close()
    }

    @Test
    fun pointsFlowEmitsCacheThenChangeAfterSync() = runBlocking<Unit> {
        val tablet = signedIn("tablet", "tA")
        val phone = signedIn("phone", "pa1")
        val seen = mutableListOf<Pair<Long, List<String?>>>()
        val job = launch { phone.points("a1").take(2).toList().forEach { p -> seen += p.total to p.awards.map { it.note } } }
        // Wait for the first emission (the cached state) before changing anything.
        withTimeout(5_000) { phone.points("a1").first() }
        tablet.awardPoints(listOf("a1"), "classA-teamwork", "stream")
        tablet.sync()
        phone.sync()
        withTimeout(10_000) { job.join() }
        assertEquals(listOf(0L to emptyList(), 1L to listOf("stream")), seen)
        tablet.close(); phone.close()
    }
}

class ConfigTest {
    @Test
    fun serverUrlWithoutSchemeIsRejectedWithTypedError() {
        val dir = Files.createTempDirectory("homeroom-cfg").toFile()
        val e = assertFailsWith<HomeroomException.InvalidInput> {
            Homeroom(HomeroomConfig("school.example", dir.path, null, TEST_KEY))
        }
        assertTrue(e.message!!.contains("server_url"), e.message)
        dir.deleteRecursively()
    }
}

class PhotoTest {
    private val tmp = Files.createTempDirectory("homeroom-photo").toFile()

    private fun device() = Homeroom(HomeroomConfig("http://127.0.0.1:9", File(tmp, "d").path, null, TEST_KEY))

    @Test
    fun cameraPhotoIsPreparedUprightStrippedAndContentAddressed() = runBlocking<Unit> {
        // REQ-PRV-1: a 3000x2000 photo taken upright (EXIF orientation 6) with GPS-like metadata.
        val input = System.getenv("HOMEROOM_TEST_PHOTO") ?: error("set HOMEROOM_TEST_PHOTO")
        val d = device()
        val p = d.preparePhoto(input)
        assertEquals(2048u, maxOf(p.large.width, p.large.height))
        assertTrue(p.large.height > p.large.width, "turned upright: portrait")
        assertEquals(400u, maxOf(p.thumbnail.width, p.thumbnail.height))
        for (f in listOf(p.large, p.thumbnail)) {
            val bytes = File(f.path).readBytes()
            assertEquals(f.bytes.toLong(), bytes.size.toLong())
            val hex = java.security.MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }
            assertEquals(f.sha256, hex, "content address matches the bytes")
            assertFalse(String(bytes, Charsets.ISO_8859_1).contains("GPS 51"), "no metadata reaches the upload")
        }
        d.close()
        tmp.deleteRecursively()
    }

    @Test
    fun aFileThatIsNotAPhotoIsATypedError() = runBlocking<Unit> {
        val notPhoto = File(tmp, "note.jpg").apply { writeText("definitely not a jpeg") }
        val d = device()
        val e = assertFailsWith<HomeroomException.InvalidPhoto> { d.preparePhoto(notPhoto.path) }
        assertTrue(e.message!!.contains("photo"), e.message)
        d.close()
        tmp.deleteRecursively()
    }
}
