import Foundation

/// The iOS app's handle on the Rust core. Core calls may touch SQLite or the network, so each
/// runs off the caller's actor on a background queue; the logic itself lives in Rust.
public final class HomeroomSession: @unchecked Sendable {
    private let client: HomeroomClient
    private let queue = DispatchQueue(label: "app.homeroom.core", qos: .userInitiated, attributes: .concurrent)

    public init(config: HomeroomConfig) throws {
        client = try HomeroomClient(config: config)
    }

    private func run<T>(_ body: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    public func signIn(email: String, password: String) async throws -> Account {
        try await run { try self.client.signIn(email: email, password: password) }
    }

    public func signIn(pupilCode: String) async throws -> Account {
        try await run { try self.client.signInWithPupilCode(code: pupilCode) }
    }

    public func account() async throws -> Account? {
        try await run { try self.client.account() }
    }

    /// Signs out and wipes this person's cache and unsent writes (REQ-PRV-3).
    public func signOut() async throws {
        try await run { try self.client.signOut() }
    }

    /// Awards a skill at once, offline or not; the outbox sends it on the next `sync()`.
    @discardableResult
    public func awardPoints(pupilIds: [String], skillId: String, note: String? = nil) async throws -> [String] {
        try await run { try self.client.awardPoints(pupilIds: pupilIds, skillId: skillId, note: note) }
    }

    /// Takes an award back (staff of the pupil's class): gone at once here, everywhere after sync.
    public func undoAward(id: String) async throws {
        try await run { try self.client.undoAward(awardId: id) }
    }

    /// Called from BGTaskScheduler or on foreground; throws `HomeroomError.Offline` when unreachable.
    @discardableResult
    public func sync() async throws -> SyncReport {
        try await run { try self.client.sync() }
    }

    /// What BGTaskScheduler should do next: sync now, wait N ms (backing off), or idle.
    public func nextStep() async throws -> NextStep {
        try await run { try self.client.nextStep() }
    }

    public func points(for pupilId: String) async throws -> PupilPoints {
        try await run { try self.client.pointsFor(pupilId: pupilId) }
    }

    public func pupils() async throws -> [Pupil] {
        try await run { try self.client.pupils() }
    }

    /// Makes a camera file upload-ready: upright, shrunk, no metadata (REQ-PRV-1). HEIC must be
    /// converted to JPEG with ImageIO first; the core reads JPEG, PNG and WebP.
    public func preparePhoto(path: String) async throws -> PreparedPhoto {
        try await run { try self.client.preparePhoto(path: path) }
    }

    /// The consent filter (REQ-CON-2): tags against consent, faces against tags. Blocked and
    /// NeedsReview are values to show, not errors; only an allowing verdict can be posted.
    public func checkPhoto(path: String, tagged: [String], audience: PhotoAudience, blur: [BlurChoice] = []) async throws -> PhotoCheck {
        try await run { try self.client.checkPhoto(path: path, tagged: tagged, audience: audience, blur: blur) }
    }

    /// Posts the bytes a verdict cleared (its sha256, exactly its tags); uploads on the next `sync()`.
    @discardableResult
    public func postPhoto(audience: PhotoAudience, caption: String, sha256: String, tagged: [String]) async throws -> String {
        try await run { try self.client.postPhoto(audience: audience, caption: caption, sha256: sha256, tagged: tagged) }
    }

    public func feed(_ audience: PhotoAudience) async throws -> [FeedPost] {
        try await run { try self.client.feed(audience: audience) }
    }

    public func photoBytes(sha256: String) async throws -> Data {
        try await run { try self.client.photoBytes(sha256: sha256) }
    }

    /// Restrictions to badge in the pupil picker (REQ-CON-5).
    public func consentBadges() async throws -> [PupilBadges] {
        try await run { try self.client.consentBadges() }
    }

    public func pendingWrites() async throws -> Int {
        try await run { Int(try self.client.pendingWrites()) }
    }

    // MARK: messaging (REQ-MSG-1..7, NOT-1..5)

    /// Sends a text message: shown at once as pending, sent on the next `sync()`. A pupil's attempt
    /// throws `HomeroomError.NotAllowed` before anything is queued (REQ-MSG-2).
    @discardableResult
    public func sendMessage(to: String, body: String) async throws -> Message {
        try await run { try self.client.sendMessage(to: to, body: body) }
    }

    /// Sends a message with photos (through the photo pipeline) and files (PDF, Word, plain text up
    /// to 10 MB); a refused file throws `HomeroomError.InvalidAttachment`, nothing queued (REQ-MSG-1).
    @discardableResult
    public func sendMessage(to: String, body: String, attachments: [OutgoingAttachment]) async throws -> Message {
        try await run { try self.client.sendMessageWithAttachments(to: to, body: body, attachments: attachments) }
    }

    /// One attachment's bytes: from the sealed cache, or downloaded and checked against its hash.
    public func attachmentBytes(messageId: String, sha256: String) async throws -> Data {
        try await run { try self.client.attachmentBytes(messageId: messageId, sha256: sha256) }
    }

    public func conversations() async throws -> [Conversation] {
        try await run { try self.client.conversations() }
    }

    public func messages(threadId: String) async throws -> [Message] {
        try await run { try self.client.messages(threadId: threadId) }
    }

    public func conversation(with otherId: String) async throws -> String {
        try await run { try self.client.conversationWith(otherId: otherId) }
    }

    public func markConversationRead(threadId: String) async throws {
        try await run { try self.client.markConversationRead(threadId: threadId) }
    }

    @discardableResult
    public func announce(classId: String, body: String) async throws -> Announcement {
        try await run { try self.client.announce(classId: classId, body: body) }
    }

    public func reportMessage(id: String, reason: String? = nil) async throws {
        try await run { try self.client.reportMessage(messageId: id, reason: reason) }
    }

    /// "Ms Khan replies 08:00–08:30 and 15:30–17:00 on school days; usually within 24 hours".
    public func composerHints(to: String) async throws -> ComposerHints {
        try await run { try self.client.composerHints(to: to) }
    }

    /// On-device only: a hint to contact the office for appointments, attendance or SEND.
    public func officeHint(draft: String) -> OfficeHint? {
        client.officeHint(draft: draft)
    }

    /// Local notifications to show now or schedule with UNUserNotificationCenter (REQ-NOT-2).
    public func planNotifications(now: Date = Date()) async throws -> [LocalNotification] {
        try await run { try self.client.planNotifications(now: now) }
    }

    /// Registers the APNs device token so the server's pushes reach this device.
    public func registerPushToken(_ token: String) async throws {
        try await run { try self.client.registerPushDevice(platform: "apns", token: token) }
    }

    /// A pupil's points: the cached state at once, then the new state after every change. The core
    /// sends a snapshot and then only diffs (by award id); this applies them.
    public func pointsUpdates(for pupilId: String) -> AsyncThrowingStream<PupilPoints, Error> {
        AsyncThrowingStream { continuation in
            let listener = StreamListener { continuation.yield($0) }
            do {
                let subscription = try self.client.subscribePoints(pupilId: pupilId, listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    // MARK: comments and likes on Class Story posts and portfolio items (REQ-STO-4)

    /// A post of words only: shown at once, sent on the next sync; returns the post id.
    public func postText(audience: PhotoAudience, caption: String) async throws -> String {
        try await run { try self.client.postText(audience: audience, caption: caption) }
    }

    /// A feed from the cache, newest first, with like and comment counts.
    public func story(_ audience: PhotoAudience) async throws -> [StoryItem] {
        try await run { try self.client.story(audience: audience) }
    }

    /// A screenful of a feed: up to `limit` posts older than the post `after` (nil: the newest).
    public func storyPage(_ audience: PhotoAudience, after: String? = nil, limit: UInt32 = 50) async throws -> [StoryItem] {
        try await run { try self.client.storyPage(audience: audience, after: after, limit: limit) }
    }

    public func comments(postId: String) async throws -> [PostComment] {
        try await run { try self.client.comments(postId: postId) }
    }

    /// Shown at once as pending; `NotAllowed` for pupils, other families and posts with comments
    /// off, before anything is queued.
    @discardableResult
    public func commentOnPost(postId: String, body: String) async throws -> PostComment {
        try await run { try self.client.commentOnPost(postId: postId, body: body) }
    }

    public func removeComment(id: String) async throws {
        try await run { try self.client.removeComment(commentId: id) }
    }

    public func likePost(id: String) async throws {
        try await run { try self.client.likePost(postId: id) }
    }

    public func unlikePost(id: String) async throws {
        try await run { try self.client.unlikePost(postId: id) }
    }

    public func setCommentsOpen(postId: String, open: Bool) async throws {
        try await run { try self.client.setCommentsOpen(postId: postId, open: open) }
    }

    /// A feed: the cached posts at once, then the new list after every change (the core sends a
    /// snapshot, then diffs by post id; this applies them).
    public func storyUpdates(_ audience: PhotoAudience) -> AsyncThrowingStream<[StoryItem], Error> {
        AsyncThrowingStream { continuation in
            let listener = StoryStream { continuation.yield($0) }
            do {
                let subscription = try self.client.subscribeStory(audience: audience, listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    /// A post's comments, oldest first: at once, then after every change.
    public func commentUpdates(postId: String) -> AsyncThrowingStream<[PostComment], Error> {
        AsyncThrowingStream { continuation in
            let listener = CommentsStream { continuation.yield($0) }
            do {
                let subscription = try self.client.subscribeComments(postId: postId, listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    // MARK: learning goals and EHCP outcomes (REQ-PTS-8)

    /// Staff: sets a pupil a goal at once, offline or not; returns its id.
    @discardableResult
    public func createGoal(pupilId: String, title: String, kind: GoalType, target: UInt32? = nil) async throws -> String {
        try await run { try self.client.createGoal(pupilId: pupilId, title: title, kind: kind, target: target) }
    }

    public func updateGoal(id: String, title: String, target: UInt32? = nil) async throws {
        try await run { try self.client.updateGoal(goalId: id, title: title, target: target) }
    }

    public func archiveGoal(id: String) async throws {
        try await run { try self.client.archiveGoal(goalId: id) }
    }

    /// Awards of this skill count towards the goal (`linked` false: no longer).
    public func linkGoal(id: String, skillId: String, linked: Bool = true) async throws {
        try await run { try self.client.linkGoalSkill(goalId: id, skillId: skillId, linked: linked) }
    }

    /// This portfolio item counts towards the goal (`linked` false: no longer).
    public func linkGoal(id: String, postId: String, linked: Bool = true) async throws {
        try await run { try self.client.linkGoalPortfolioItem(goalId: id, postId: postId, linked: linked) }
    }

    public func goals(pupilId: String) async throws -> [GoalView] {
        try await run { try self.client.goals(pupilId: pupilId) }
    }

    /// Progress per goal from the cache; the points are nil where this person may not see them (REQ-PTS-5).
    public func goalProgress(pupilId: String, period: String) async throws -> [GoalProgressView] {
        try await run { try self.client.goalProgress(pupilId: pupilId, period: period) }
    }

    /// A pupil's goals, oldest first: at once, then after every change (snapshot, then diffs by goal id).
    public func goalUpdates(pupilId: String) -> AsyncThrowingStream<[GoalView], Error> {
        AsyncThrowingStream { continuation in
            let listener = GoalsStream { continuation.yield($0) }
            do {
                let subscription = try self.client.subscribeGoals(pupilId: pupilId, listener: listener)
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }
}

/// A list after a diff by id: removed and updated items replaced, inserted ones added.
func applyDiff<T>(_ current: [T], inserted: [T], updated: [T], removed: [String], id: (T) -> String) -> [T] {
    let replaced = Set(removed).union(updated.map(id))
    return current.filter { !replaced.contains(id($0)) } + updated + inserted
}

/// The last list a listener described, with its snapshot and diffs applied in order; tells
/// `onList` the whole list after each message, outside its lock.
final class DiffedList<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var current: [T] = []
    private let id: (T) -> String
    private let order: (T, T) -> Bool
    private let onList: ([T]) -> Void

    init(id: @escaping (T) -> String, order: @escaping (T, T) -> Bool, onList: @escaping ([T]) -> Void) {
        self.id = id
        self.order = order
        self.onList = onList
    }

    func snapshot(_ items: [T]) {
        update { _ in items }
    }

    func changes(inserted: [T], updated: [T], removed: [String]) {
        update { applyDiff($0, inserted: inserted, updated: updated, removed: removed, id: self.id).sorted(by: self.order) }
    }

    private func update(_ next: ([T]) -> [T]) {
        lock.lock()
        current = next(current)
        let list = current
        lock.unlock()
        onList(list)
    }
}

/// Bridges a feed listener to a Swift closure.
private final class StoryStream: StoryListener, @unchecked Sendable {
    private let list: DiffedList<StoryItem>

    init(_ onItems: @escaping ([StoryItem]) -> Void) {
        list = DiffedList(id: { $0.post.id }, order: { $0.post.postedAt > $1.post.postedAt }, onList: onItems)
    }

    func onStoryUpdate(update: StoryUpdate) {
        switch update {
        case .snapshot(let items): list.snapshot(items)
        case .changes(let inserted, let updated, let removed): list.changes(inserted: inserted, updated: updated, removed: removed)
        }
    }
}

/// Bridges a comments listener to a Swift closure.
private final class CommentsStream: CommentsListener, @unchecked Sendable {
    private let list: DiffedList<PostComment>

    init(_ onComments: @escaping ([PostComment]) -> Void) {
        list = DiffedList(id: { $0.id }, order: { $0.commentedAt < $1.commentedAt }, onList: onComments)
    }

    func onCommentsUpdate(postId: String, update: CommentsUpdate) {
        switch update {
        case .snapshot(let items): list.snapshot(items)
        case .changes(let inserted, let updated, let removed): list.changes(inserted: inserted, updated: updated, removed: removed)
        }
    }
}

/// Bridges a goals listener to a Swift closure (REQ-PTS-8).
private final class GoalsStream: GoalsListener, @unchecked Sendable {
    private let list: DiffedList<GoalView>

    init(_ onGoals: @escaping ([GoalView]) -> Void) {
        list = DiffedList(id: { $0.id }, order: { $0.createdAtUnixMs < $1.createdAtUnixMs }, onList: onGoals)
    }

    func onGoalsUpdate(pupilId: String, update: GoalsUpdate) {
        switch update {
        case .snapshot(let goals): list.snapshot(goals)
        case .changes(let inserted, let updated, let removed): list.changes(inserted: inserted, updated: updated, removed: removed)
        }
    }
}

/// Bridges the core's listener to a Swift closure, applying its diffs to the last snapshot.
private final class StreamListener: PointsListener, @unchecked Sendable {
    private let lock = NSLock()
    private var current: PupilPoints?
    private let onPoints: (PupilPoints) -> Void

    init(_ onPoints: @escaping (PupilPoints) -> Void) { self.onPoints = onPoints }

    func onPointsUpdate(pupilId: String, update: PointsUpdate) {
        lock.lock()
        let next: PupilPoints
        switch update {
        case .snapshot(let points):
            next = points
        case .changes(let inserted, let updated, let removed, let total, let positive, let needsWork):
            guard var cur = current else { lock.unlock(); return }
            let replaced = Set(removed).union(updated.map(\.id))
            cur.awards = (cur.awards.filter { !replaced.contains($0.id) } + updated + inserted)
                .sorted { $0.awardedAt > $1.awardedAt }
            cur.total = total
            cur.positive = positive
            cur.needsWork = needsWork
            next = cur
        }
        current = next
        lock.unlock()
        onPoints(next)
    }
}
