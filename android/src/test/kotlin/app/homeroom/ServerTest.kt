package app.homeroom

import app.homeroom.core.HomeroomConfig
import java.io.File
import java.nio.file.Files
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach

/** A test with its own real server and temporary directory, and devices signed in as fixture people. */
abstract class ServerTest(private val prefix: String) {
    protected lateinit var tmp: File
    protected lateinit var server: TestServer

    @BeforeEach
    fun startServer() {
        tmp = Files.createTempDirectory(prefix).toFile()
        server = TestServer(File(tmp, "server"))
    }

    @AfterEach
    fun stopServer() {
        server.close()
        tmp.deleteRecursively()
    }

    /** A device in `tmp/name` signed in as fixture person `who` and synced once. */
    protected suspend fun signedIn(name: String, who: String): Homeroom =
        Homeroom(HomeroomConfig(server.url, File(tmp, name).path, ENROLLED_TABLET_KEY, TEST_KEY))
            .also { it.signIn("${who.lowercase()}@greenfield.test", "$who-password"); it.sync() }
}
