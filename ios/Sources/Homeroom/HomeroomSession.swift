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

    /// Called from BGTaskScheduler or on foreground; throws `HomeroomError.Offline` when unreachable.
    @discardableResult
    public func sync() async throws -> SyncReport {
        try await run { try self.client.sync() }
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

    public func pendingWrites() async throws -> Int {
        try await run { Int(try self.client.pendingWrites()) }
    }

    /// A pupil's points: the cached state at once, then again after every change.
    public func pointsUpdates(for pupilId: String) -> AsyncThrowingStream<PupilPoints, Error> {
        AsyncThrowingStream { continuation in
            let client = self.client
            do {
                continuation.yield(try client.pointsFor(pupilId: pupilId))
            } catch {
                continuation.finish(throwing: error)
                return
            }
            let listener = StreamListener { ids in
                guard ids.contains(pupilId) else { return }
                do { continuation.yield(try client.pointsFor(pupilId: pupilId)) } catch { continuation.finish(throwing: error) }
            }
            let subscription = client.subscribePoints(listener: listener)
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }
}

/// Bridges the core's listener callback to a Swift closure.
private final class StreamListener: PointsListener, @unchecked Sendable {
    private let onChange: ([String]) -> Void
    init(_ onChange: @escaping ([String]) -> Void) { self.onChange = onChange }
    func onPointsChanged(pupilIds: [String]) { onChange(pupilIds) }
}
