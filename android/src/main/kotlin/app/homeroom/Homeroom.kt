package app.homeroom

import app.homeroom.core.Account
import app.homeroom.core.Announcement
import app.homeroom.core.ComposerHints
import app.homeroom.core.Conversation
import app.homeroom.core.LocalNotification
import app.homeroom.core.Message
import app.homeroom.core.NotifyPreferences
import app.homeroom.core.OfficeHint
import app.homeroom.core.OutgoingAttachment
import app.homeroom.core.BlurChoice
import app.homeroom.core.CommentsListener
import app.homeroom.core.CommentsUpdate
import app.homeroom.core.PostComment
import app.homeroom.core.StoryItem
import app.homeroom.core.StoryListener
import app.homeroom.core.StoryUpdate
import app.homeroom.core.FeedPost
import app.homeroom.core.GoalProgressView
import app.homeroom.core.GoalType
import app.homeroom.core.GoalView
import app.homeroom.core.GoalsListener
import app.homeroom.core.GoalsUpdate
import app.homeroom.core.HomeroomClient
import app.homeroom.core.HomeroomConfig
import app.homeroom.core.NextStep
import app.homeroom.core.PhotoAudience
import app.homeroom.core.PhotoCheck
import app.homeroom.core.PointsListener
import app.homeroom.core.PointsUpdate
import app.homeroom.core.PreparedPhoto
import app.homeroom.core.Pupil
import app.homeroom.core.PupilBadges
import app.homeroom.core.PupilPoints
import app.homeroom.core.Skill
import app.homeroom.core.Subscription
import app.homeroom.core.SyncReport
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.withContext

/**
 * The Android app's handle on the Rust core. Every core call may touch SQLite or the network,
 * so each runs on [io] (never the main thread); the logic itself lives in Rust.
 */
class Homeroom(
    config: HomeroomConfig,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {
    private val client = HomeroomClient(config)

    suspend fun signIn(email: String, password: String): Account = withContext(io) { client.signIn(email, password) }

    suspend fun signInWithPupilCode(code: String): Account = withContext(io) { client.signInWithPupilCode(code) }

    suspend fun account(): Account? = withContext(io) { client.account() }

    /** Signs out and wipes this person's cache and unsent writes (REQ-PRV-3). */
    suspend fun signOut() = withContext(io) { client.signOut() }

    /** Awards a skill at once, offline or not; the outbox sends it on the next [sync]. */
    suspend fun awardPoints(pupilIds: List<String>, skillId: String, note: String? = null): List<String> =
        withContext(io) { client.awardPoints(pupilIds, skillId, note) }

    /** Takes an award back (staff of the pupil's class): gone at once here, everywhere after sync. */
    suspend fun undoAward(awardId: String) = withContext(io) { client.undoAward(awardId) }

    /** Called by WorkManager or on app start; throws HomeroomException.Offline when unreachable. */
    suspend fun sync(): SyncReport = withContext(io) { client.sync() }

    /** What WorkManager should do next: sync now, wait N ms (backing off), or idle. */
    suspend fun nextStep(): NextStep = withContext(io) { client.nextStep() }

    suspend fun pointsFor(pupilId: String): PupilPoints = withContext(io) { client.pointsFor(pupilId) }

    suspend fun pupils(): List<Pupil> = withContext(io) { client.pupils() }

    suspend fun skills(classId: String): List<Skill> = withContext(io) { client.skills(classId) }

    /** Makes a camera file upload-ready: upright, shrunk, no metadata (REQ-PRV-1). CPU-heavy. */
    suspend fun preparePhoto(path: String): PreparedPhoto = withContext(Dispatchers.Default) { client.preparePhoto(path) }

    /**
     * The consent filter (REQ-CON-2): tags against consent, faces against tags. Blocked and
     * NeedsReview are values to show, not exceptions; only an allowing verdict can be posted.
     */
    suspend fun checkPhoto(
        path: String,
        tagged: List<String>,
        audience: PhotoAudience,
        blur: List<BlurChoice> = emptyList(),
    ): PhotoCheck = withContext(Dispatchers.Default) { client.checkPhoto(path, tagged, audience, blur) }

    /** Posts the bytes a verdict cleared (its sha256, exactly its tags); uploads on the next [sync]. */
    suspend fun postPhoto(audience: PhotoAudience, caption: String, sha256: String, tagged: List<String>): String =
        withContext(io) { client.postPhoto(audience, caption, sha256, tagged) }

    suspend fun feed(audience: PhotoAudience): List<FeedPost> = withContext(io) { client.feed(audience) }

    suspend fun photoBytes(sha256: String): ByteArray = withContext(io) { client.photoBytes(sha256) }

    /** Restrictions to badge in the pupil picker (REQ-CON-5). */
    suspend fun consentBadges(): List<PupilBadges> = withContext(io) { client.consentBadges() }

    suspend fun pendingWrites(): Int = withContext(io) { client.pendingWrites().toInt() }

    /**
     * A pupil's points: the cached state at once, then the new state after every change. The core
     * sends a snapshot and then only diffs (by award id); this applies them.
     */
    fun points(pupilId: String): Flow<PupilPoints> = callbackFlow {
        var current: PupilPoints? = null
        val subscription = client.subscribePoints(pupilId, object : PointsListener {
            override fun onPointsUpdate(pupilId: String, update: PointsUpdate) {
                val next = when (update) {
                    is PointsUpdate.Snapshot -> update.points
                    is PointsUpdate.Changes -> {
                        val cur = current ?: return
                        val replaced = update.removed.toSet() + update.updated.map { it.id }
                        val awards = (cur.awards.filter { it.id !in replaced } + update.updated + update.inserted)
                            .sortedByDescending { it.awardedAt }
                        cur.copy(total = update.total, positive = update.positive, needsWork = update.needsWork, awards = awards)
                    }
                }
                current = next
                trySend(next)
            }
        })
        awaitClose {
            subscription.cancel()
            subscription.close()
        }
    }.flowOn(io)

    // ---- messaging (REQ-MSG-1..7, NOT-1..5) ----

    /** Sends a text message: shown at once as pending, sent on the next [sync]. A pupil's attempt
     * throws HomeroomException.NotAllowed before anything is queued (REQ-MSG-2). */
    suspend fun sendMessage(to: String, body: String): Message = withContext(io) { client.sendMessage(to, body) }

    /** Sends a message with photos (through the photo pipeline) and files (PDF, Word, plain text up
     * to 10 MB); a refused file throws HomeroomException.InvalidAttachment, nothing queued (REQ-MSG-1). */
    suspend fun sendMessage(to: String, body: String, attachments: List<OutgoingAttachment>): Message =
        withContext(Dispatchers.Default) { client.sendMessageWithAttachments(to, body, attachments) }

    /** One attachment's bytes: from the sealed cache, or downloaded and checked against its hash. */
    suspend fun attachmentBytes(messageId: String, sha256: String): ByteArray =
        withContext(io) { client.attachmentBytes(messageId, sha256) }

    suspend fun conversations(): List<Conversation> = withContext(io) { client.conversations() }

    suspend fun messages(threadId: String): List<Message> = withContext(io) { client.messages(threadId) }

    suspend fun conversationWith(otherId: String): String = withContext(io) { client.conversationWith(otherId) }

    suspend fun markConversationRead(threadId: String) = withContext(io) { client.markConversationRead(threadId) }

    suspend fun announce(classId: String, body: String): Announcement = withContext(io) { client.announce(classId, body) }

    suspend fun announcements(): List<Announcement> = withContext(io) { client.announcements() }

    suspend fun reportMessage(messageId: String, reason: String? = null) = withContext(io) { client.reportMessage(messageId, reason) }

    /** "Ms Khan replies 08:00–08:30 and 15:30–17:00 on school days; usually within 24 hours". */
    suspend fun composerHints(to: String): ComposerHints = withContext(io) { client.composerHints(to) }

    /** On-device only: a hint to contact the office for appointments, attendance or SEND. */
    fun officeHint(draft: String): OfficeHint? = client.officeHint(draft)

    /** Local notifications to show now or schedule with AlarmManager, after a sync (REQ-NOT-2). */
    suspend fun planNotifications(now: java.time.Instant = java.time.Instant.now()): List<LocalNotification> =
        withContext(io) { client.planNotifications(now) }

    suspend fun setNotifyPreferences(prefs: NotifyPreferences) = withContext(io) { client.setNotifyPreferences(prefs) }

    /** Registers the FCM token so the server's pushes reach this device. */
    suspend fun registerPushToken(token: String) = withContext(io) { client.registerPushDevice("fcm", token) }

    suspend fun exportConversation(threadId: String, format: String = "text"): String =
        withContext(io) { client.exportConversation(threadId, format) }

    // ---- comments and likes on Class Story posts and portfolio items (REQ-STO-4) ----

    /** A post of words only: shown at once, sent on the next [sync]; returns the post id. */
    suspend fun postText(audience: PhotoAudience, caption: String): String = withContext(io) { client.postText(audience, caption) }

    /** A feed from the cache, newest first, with like and comment counts. */
    suspend fun story(audience: PhotoAudience): List<StoryItem> = withContext(io) { client.story(audience) }

    /** A screenful of a feed: up to [limit] posts older than the post [after] (null: the newest). */
    suspend fun storyPage(audience: PhotoAudience, after: String? = null, limit: Int = 50): List<StoryItem> =
        withContext(io) { client.storyPage(audience, after, limit.toUInt()) }

    suspend fun comments(postId: String): List<PostComment> = withContext(io) { client.comments(postId) }

    /** Shown at once as pending; HomeroomException.NotAllowed for pupils, other families and posts
     * with comments off, before anything is queued. */
    suspend fun commentOnPost(postId: String, body: String): PostComment = withContext(io) { client.commentOnPost(postId, body) }

    suspend fun removeComment(commentId: String) = withContext(io) { client.removeComment(commentId) }

    suspend fun likePost(postId: String) = withContext(io) { client.likePost(postId) }

    suspend fun unlikePost(postId: String) = withContext(io) { client.unlikePost(postId) }

    suspend fun setCommentsOpen(postId: String, open: Boolean) = withContext(io) { client.setCommentsOpen(postId, open) }

    /** A feed: the cached posts at once, then the new list after every change (the core sends a
     * snapshot, then diffs by post id; this applies them). */
    fun storyFeed(audience: PhotoAudience): Flow<List<StoryItem>> =
        diffFlow({ it.post.id }, { list -> list.sortedByDescending { it.post.postedAt } }) { deliver ->
            client.subscribeStory(audience, object : StoryListener {
                override fun onStoryUpdate(update: StoryUpdate) = when (update) {
                    is StoryUpdate.Snapshot -> deliver(update.items, emptyList(), emptyList(), emptyList())
                    is StoryUpdate.Changes -> deliver(null, update.inserted, update.updated, update.removed)
                }
            })
        }

    /** A post's comments, oldest first: at once, then after every change. */
    fun commentsOf(postId: String): Flow<List<PostComment>> =
        diffFlow({ it.id }, { list -> list.sortedBy { it.commentedAt } }) { deliver ->
            client.subscribeComments(postId, object : CommentsListener {
                override fun onCommentsUpdate(postId: String, update: CommentsUpdate) = when (update) {
                    is CommentsUpdate.Snapshot -> deliver(update.items, emptyList(), emptyList(), emptyList())
                    is CommentsUpdate.Changes -> deliver(null, update.inserted, update.updated, update.removed)
                }
            })
        }

    // ---- learning goals and EHCP outcomes (REQ-PTS-8) ----

    /** Staff: sets a pupil a goal at once, offline or not; returns its id. */
    suspend fun createGoal(pupilId: String, title: String, kind: GoalType, target: UInt? = null): String =
        withContext(io) { client.createGoal(pupilId, title, kind, target) }

    suspend fun updateGoal(goalId: String, title: String, target: UInt? = null) =
        withContext(io) { client.updateGoal(goalId, title, target) }

    suspend fun archiveGoal(goalId: String) = withContext(io) { client.archiveGoal(goalId) }

    /** Awards of this skill count towards the goal (`linked` false: no longer). */
    suspend fun linkGoalSkill(goalId: String, skillId: String, linked: Boolean = true) =
        withContext(io) { client.linkGoalSkill(goalId, skillId, linked) }

    /** This portfolio item counts towards the goal (`linked` false: no longer). */
    suspend fun linkGoalPortfolioItem(goalId: String, postId: String, linked: Boolean = true) =
        withContext(io) { client.linkGoalPortfolioItem(goalId, postId, linked) }

    suspend fun goals(pupilId: String): List<GoalView> = withContext(io) { client.goals(pupilId) }

    /** Progress per goal from the cache; the points are null where this person may not see them (REQ-PTS-5). */
    suspend fun goalProgress(pupilId: String, period: String): List<GoalProgressView> =
        withContext(io) { client.goalProgress(pupilId, period) }

    /** A pupil's goals, oldest first: at once, then after every change (snapshot, then diffs by goal id). */
    fun goalsOf(pupilId: String): Flow<List<GoalView>> =
        diffFlow({ it.id }, { list -> list.sortedBy { it.createdAtUnixMs } }) { deliver ->
            client.subscribeGoals(pupilId, object : GoalsListener {
                override fun onGoalsUpdate(pupilId: String, update: GoalsUpdate) = when (update) {
                    is GoalsUpdate.Snapshot -> deliver(update.goals, emptyList(), emptyList(), emptyList())
                    is GoalsUpdate.Changes -> deliver(null, update.inserted, update.updated, update.removed)
                }
            })
        }

    /**
     * A listener's snapshot-then-diffs as a flow of whole lists: `subscribe` registers the listener,
     * which passes each message on as (snapshot, or null with the inserted, updated and removed ids).
     */
    private fun <T> diffFlow(
        id: (T) -> String,
        order: (List<T>) -> List<T>,
        subscribe: (deliver: (List<T>?, List<T>, List<T>, List<String>) -> Unit) -> Subscription,
    ): Flow<List<T>> = callbackFlow {
        var current = emptyList<T>()
        val subscription = subscribe { snapshot, inserted, updated, removed ->
            current = snapshot ?: order(applyDiff(current, inserted, updated, removed, id))
            trySend(current)
        }
        awaitClose {
            subscription.cancel()
            subscription.close()
        }
    }.flowOn(io)

    override fun close() = client.close()
}

/** A list after a diff by id: removed and updated items replaced, inserted ones added. */
internal fun <T> applyDiff(current: List<T>, inserted: List<T>, updated: List<T>, removed: List<String>, id: (T) -> String): List<T> {
    val replaced = removed.toSet() + updated.map(id)
    return current.filter { id(it) !in replaced } + updated + inserted
}
