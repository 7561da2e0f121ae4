//! The client every app holds: session, reads from the cache, optimistic writes through the
//! outbox, and sync — plain Rust, called directly by tests and wrapped thinly for UniFFI.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use homeroom_protocol::access::{can, Action, Target};
use homeroom_protocol::wire::{
    validate_award, AwardRecord, AwardTarget, Change, ClientWrite, Directory, Me, PullQuery,
    PushRequest, RejectCode, SignInRequest, WriteOp, WriteOutcome, MAX_WRITES_PER_PUSH,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::Api;
use crate::backoff;
use crate::error::{CoreError, StorageContext};
use crate::store::{awards, kv, messages, outbox, resync, Store};
use crate::views::{Delivery, Differ, Keyed, ViewUpdate};

/// Where the core keeps its files and which server it talks to.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server_url: String,
    pub data_dir: PathBuf,
    pub device_id: Option<String>,
    /// The 32-byte key from the platform keystore that seals the cache at rest (REQ-PRV-3).
    pub at_rest_key: Vec<u8>,
    /// How long one request may take before the device counts as offline (default 30 s).
    pub request_timeout: Option<Duration>,
    /// The face-detection model (CenterFace ONNX) the consent filter runs; without one, every
    /// photo needs review (REQ-CON-2: never a silent yes).
    pub face_model: Option<PathBuf>,
    /// Upload chunk size (default `MEDIA_CHUNK_BYTES`).
    pub upload_chunk_bytes: Option<usize>,
    /// Byte budget of the downloaded-photo cache (default 200 MB); least recently used go first.
    pub media_cache_bytes: Option<u64>,
}

/// A phone on a slow network still finishes a page within this; beyond it, retry later.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a running app sweeps expired awards out of its cache (REQ-PTS-7).
const RETENTION_SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// What the platform scheduler (WorkManager, BGTaskScheduler) should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextTask {
    /// Unsent writes are waiting and the server may be tried now.
    SyncNow,
    /// The server could not be reached or asked us to slow down: try again after this long.
    Wait(Duration),
    /// Nothing pending: sync at the app's normal cadence or when a push arrives.
    Idle,
}

/// Consecutive transient failures and when the next attempt is due.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
    retry_at: Option<Instant>,
}

/// Values read on every call, kept decrypted in memory; `None` means "read it again".
#[derive(Default)]
struct Memo {
    session: Option<Option<Session>>,
    directory: Option<Option<Arc<Directory>>>,
}

/// The saved session: who is signed in and their bearer token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Session {
    pub(crate) token: String,
    pub(crate) me: Me,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    /// Writes the server accepted (or had accepted before).
    pub sent: u32,
    /// Writes the server refused, with its reason; their optimistic changes were rolled back.
    pub refused: Vec<(String, String)>,
    /// Posts the server refused (consent re-check, REQ-CON-4), typed for the app.
    pub failed_posts: Vec<crate::photos::FailedPost>,
    /// Photos uploaded in this sync: hash, the offset the upload resumed from, and size.
    pub uploads: Vec<(String, u64, u64)>,
    /// Changes received.
    pub received: u32,
}

/// One prepared image on disk, ready for the content-addressed upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedFile {
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub sha256_hex: String,
}

/// The large version and thumbnail of one photo, on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedFiles {
    pub large: PreparedFile,
    pub thumbnail: PreparedFile,
}

/// Told about one pupil's points: a snapshot first, then changes (REQ-STO-6, OFF-3).
pub type PointsObserver = Arc<dyn Fn(&str, ViewUpdate<awards::CachedAward>) + Send + Sync>;

/// One subscription to one pupil's points.
struct PointsSubscription {
    id: u64,
    pupil_id: String,
    observer: PointsObserver,
    differ: Mutex<Differ<awards::CachedAward>>,
    delivery: Delivery<ViewUpdate<awards::CachedAward>>,
}

impl Keyed for awards::CachedAward {
    fn key(&self) -> String {
        self.record.id.to_string()
    }
}

/// The client core.
pub struct Homeroom {
    pub(crate) store: Store,
    pub(crate) api: Api,
    pub(crate) runtime: tokio::runtime::Runtime,
    /// Prepared photos waiting to be uploaded, named by content hash.
    pub(crate) outgoing_dir: PathBuf,
    /// Everything photo on this device: `outgoing/` and the sealed download cache `cache/`.
    pub(crate) media_dir: PathBuf,
    /// The consent filter's settings and lazily loaded detector.
    pub(crate) photos: crate::photos::PhotoSettings,
    device_id: Option<String>,
    observers: Mutex<Vec<Arc<PointsSubscription>>>,
    /// Thread list and thread subscriptions (REQ-MSG-1).
    pub(crate) message_views: crate::messaging::views::MessageObservers,
    /// Feed and comment-list subscriptions (REQ-STO-4, issue 4 listeners).
    pub(crate) social_views: crate::social::SocialObservers,
    /// Goals-of-a-pupil subscriptions (REQ-PTS-8, issue 4 listeners).
    pub(crate) goal_views: crate::goals::GoalObservers,
    next_observer: AtomicU64,
    /// Serialises syncs: two at once would send the same outbox twice.
    sync_lock: Mutex<()>,
    /// When this process last swept expired awards from the cache (REQ-PTS-7): reads hide them
    /// anyway, so the two full scans run at the first sync and then hourly, not on every pull.
    retention_swept: Mutex<Option<Instant>>,
    backoff: Mutex<Backoff>,
    memo: Mutex<Memo>,
}

impl Homeroom {
    /// Opens the cache in `data_dir`; a session saved there earlier is resumed.
    pub fn open(settings: Settings) -> Result<Self, CoreError> {
        let api = Api::new(
            &settings.server_url,
            settings.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
        )?;
        let store = Store::open(
            &settings.data_dir.join("homeroom-cache.sqlite3"),
            &settings.at_rest_key,
        )?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("homeroom-core")
            .enable_all()
            .build()
            .map_err(|e| CoreError::Io(format!("cannot start the core's runtime: {e}")))?;
        Ok(Homeroom {
            store,
            api,
            runtime,
            outgoing_dir: settings.data_dir.join("media").join("outgoing"),
            media_dir: settings.data_dir.join("media"),
            photos: crate::photos::PhotoSettings::new(
                settings.face_model,
                settings.upload_chunk_bytes,
                settings.media_cache_bytes,
            ),
            device_id: settings.device_id,
            observers: Mutex::new(Vec::new()),
            message_views: Default::default(),
            social_views: Default::default(),
            goal_views: Default::default(),
            next_observer: AtomicU64::new(1),
            sync_lock: Mutex::new(()),
            retention_swept: Mutex::new(None),
            backoff: Mutex::new(Backoff::default()),
            memo: Mutex::new(Memo::default()),
        })
    }

    /// Signs in with email and password; replaces any earlier session on this device.
    pub fn sign_in(&self, email: &str, password: &str) -> Result<Me, CoreError> {
        self.start_session(SignInRequest::Password {
            email: email.to_owned(),
            password: password.to_owned(),
            device_id: self.device_id.clone(),
        })
    }

    /// Signs a pupil in with the code their teacher gave them (REQ-ACC-4).
    pub fn sign_in_with_pupil_code(&self, code: &str) -> Result<Me, CoreError> {
        self.start_session(SignInRequest::PupilCode {
            code: code.to_owned(),
            device_id: self.device_id.clone(),
        })
    }

    /// REQ-ACC-2: a parent joins with the code the school gave them and is signed in. The code
    /// is checked here first with the shared rules, so a mistyped 0/O or 1/I is explained at once.
    pub fn join_with_parent_code(
        &self,
        code: &str,
        email: &str,
        password: &str,
        display_name: &str,
    ) -> Result<Me, CoreError> {
        let code = homeroom_protocol::codes::normalize(code)
            .map_err(|why| CoreError::input("code", why))?;
        let req = homeroom_protocol::wire::RedeemParentCode {
            code,
            email: email.to_owned(),
            password: password.to_owned(),
            display_name: display_name.to_owned(),
            device_id: self.device_id.clone(),
        };
        let resp = self.runtime.block_on(self.api.redeem_parent_code(&req))?;
        self.keep_session(resp)
    }

    /// Staff: a new parent code for a pupil (shown once; any earlier unused code stops working).
    pub fn issue_parent_code(
        &self,
        pupil_id: &str,
    ) -> Result<homeroom_protocol::wire::ParentCode, CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        if let Some(dir) = self.directory_arc()? {
            can(
                &dir.facts,
                Some(&session.me.user_id),
                Action::IssueParentCode,
                &Target::Pupil(pupil_id),
            )?;
        }
        self.runtime
            .block_on(self.api.issue_parent_code(&session.token, pupil_id))
    }

    fn start_session(&self, req: SignInRequest) -> Result<Me, CoreError> {
        let resp = self.runtime.block_on(self.api.sign_in(&req))?;
        self.keep_session(resp)
    }

    /// Stores a new session; another person's data on this device is wiped first (REQ-PRV-3).
    fn keep_session(&self, resp: homeroom_protocol::wire::SignInResponse) -> Result<Me, CoreError> {
        let previous = self.me()?;
        if previous.as_ref().map(|m| &m.user_id) != Some(&resp.me.user_id) {
            // Another person on this device: nothing of the last one may remain (REQ-PRV-3).
            self.store.wipe()?;
        }
        let session = Session {
            token: resp.token,
            me: resp.me.clone(),
        };
        let stored = kv::put(
            &self.store.conn(),
            self.store.sealer(),
            kv::SESSION,
            &session,
        );
        self.forget_memo();
        stored?;
        Ok(resp.me)
    }

    /// Who is signed in, if anyone.
    pub fn me(&self) -> Result<Option<Me>, CoreError> {
        Ok(self.session()?.map(|s| s.me))
    }

    /// The live stream opens with the session's token; `None` when signed out.
    pub(crate) fn session_token(&self) -> Result<Option<String>, CoreError> {
        Ok(self.session()?.map(|s| s.token))
    }

    pub(crate) fn api(&self) -> &Api {
        &self.api
    }

    pub(crate) fn session(&self) -> Result<Option<Session>, CoreError> {
        if let Some(s) = &self.memo().session {
            return Ok(s.clone());
        }
        let s: Option<Session> = kv::get(&self.store.conn(), self.store.sealer(), kv::SESSION)?;
        self.memo().session = Some(s.clone());
        Ok(s)
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, Memo> {
        self.memo.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the in-memory copies after the stored values changed.
    fn forget_memo(&self) {
        *self.memo() = Memo::default();
    }

    /// The directory, shared rather than copied: read on every award and every rule check.
    pub(crate) fn directory_arc(&self) -> Result<Option<Arc<Directory>>, CoreError> {
        if let Some(d) = &self.memo().directory {
            return Ok(d.clone());
        }
        let d: Option<Arc<Directory>> =
            kv::get::<Directory>(&self.store.conn(), self.store.sealer(), kv::DIRECTORY)?
                .map(Arc::new);
        self.memo().directory = Some(d.clone());
        Ok(d)
    }

    /// Signs out and wipes the cache, the outbox and the session (REQ-PRV-3).
    pub fn sign_out(&self) -> Result<(), CoreError> {
        let _guard = self.sync_lock.lock().unwrap_or_else(|p| p.into_inner());
        // End the session on the server too, if it can be reached quickly; offline, the local
        // wipe below still happens and the token dies when it expires.
        if let Ok(Some(session)) = self.session() {
            let ended = self.runtime.block_on(async {
                tokio::time::timeout(
                    std::time::Duration::from_secs(3),
                    self.api.sign_out(&session.token),
                )
                .await
            });
            if !matches!(ended, Ok(Ok(()))) {
                tracing::warn!("sign-out did not reach the server; the local data is wiped anyway");
            }
        }
        self.wipe_local()
    }

    /// Deletes everything this device holds for the signed-in person: cache, outbox, session
    /// and prepared photos (sign-out, REQ-PRV-3; removal from the school, REQ-MSG-5).
    fn wipe_local(&self) -> Result<(), CoreError> {
        let r = self.store.wipe();
        self.forget_memo();
        r?;
        match std::fs::remove_dir_all(&self.media_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CoreError::Io(format!("cannot delete prepared photos: {e}")))
            }
            _ => Ok(()),
        }
    }

    /// REQ-PRV-1: turns the camera file at `input` into an upright, metadata-free large version
    /// and thumbnail, saved under the app's data directory by content hash for the upload chain.
    #[tracing::instrument(skip_all)]
    pub fn prepare_photo(&self, input: &std::path::Path) -> Result<PreparedFiles, CoreError> {
        let prepared = crate::media::prepare_photo(input, &crate::media::PhotoOptions::default())?;
        self.save_prepared(&prepared)
    }

    /// Saves an encoded large version and thumbnail under their hashes for the upload chain.
    pub(crate) fn save_prepared(
        &self,
        prepared: &crate::media::PreparedPhoto,
    ) -> Result<PreparedFiles, CoreError> {
        std::fs::create_dir_all(&self.outgoing_dir)
            .map_err(|e| CoreError::Io(format!("cannot create the photo folder: {e}")))?;
        let save = |img: &crate::media::EncodedImage| -> Result<PreparedFile, CoreError> {
            let ext = match img.format {
                crate::media::OutputFormat::Jpeg => "jpg",
                crate::media::OutputFormat::WebP => "webp",
            };
            let path = self.outgoing_dir.join(format!("{}.{ext}", img.sha256_hex));
            // Write then rename: a kill never leaves a half-written file under a valid hash name.
            let tmp = path.with_extension("part");
            std::fs::write(&tmp, &img.bytes)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|e| CoreError::Io(format!("cannot save a prepared photo: {e}")))?;
            Ok(PreparedFile {
                path,
                width: img.width,
                height: img.height,
                bytes: img.bytes.len() as u64,
                sha256_hex: img.sha256_hex.clone(),
            })
        };
        Ok(PreparedFiles {
            large: save(&prepared.large)?,
            thumbnail: save(&prepared.thumbnail)?,
        })
    }

    /// The directory synced from the server: names for screens and facts for the rules.
    pub fn directory(&self) -> Result<Option<Directory>, CoreError> {
        Ok(self.directory_arc()?.map(|d| (*d).clone()))
    }

    /// REQ-PTS-2: awards `skill_id` to each pupil, at once in the cache and queued for the server
    /// in the same transaction. Refused here, before queueing, when the server would refuse it.
    pub fn award_points(
        &self,
        pupil_ids: &[String],
        skill_id: &str,
        note: Option<&str>,
    ) -> Result<Vec<String>, CoreError> {
        let r = self.award_points_inner(pupil_ids, skill_id, note);
        self.checked(r)
    }

    /// Notes a damaged cache so the next open rebuilds it (keeping the outbox), and passes `r` on.
    pub(crate) fn checked<T>(&self, r: Result<T, CoreError>) -> Result<T, CoreError> {
        self.store.note_error_in(&r);
        r
    }

    fn award_points_inner(
        &self,
        pupil_ids: &[String],
        skill_id: &str,
        note: Option<&str>,
    ) -> Result<Vec<String>, CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let dir = self
            .directory_arc()?
            .ok_or_else(|| CoreError::input("pupil_ids", "sync once before awarding points"))?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let targets: Vec<AwardTarget> = pupil_ids
            .iter()
            .map(|p| AwardTarget {
                // Time-ordered (v7): a tap appends at the end of the awards b-tree instead of
                // splitting a random page of it (issue 4: fewer pages written per tap).
                award_id: Uuid::now_v7(),
                pupil_id: p.clone(),
            })
            .collect();
        validate_award(&targets, note)
            .map_err(|(field, reason)| CoreError::input(field, reason))?;
        let me = session.me.user_id.as_str();
        for t in &targets {
            can(
                &dir.facts,
                Some(me),
                Action::AwardPoints,
                &Target::Pupil(&t.pupil_id),
            )?;
        }
        let skill = dir
            .skills
            .iter()
            .find(|s| s.id == skill_id)
            .ok_or_else(|| CoreError::input("skill_id", format!("no skill {skill_id} here")))?;
        let now = Utc::now();
        let mut records = Vec::with_capacity(targets.len());
        for t in &targets {
            let class_id = dir
                .facts
                .pupils
                .get(&t.pupil_id)
                .and_then(|p| p.class_id.clone())
                .unwrap_or_default();
            if class_id != skill.class_id {
                return Err(CoreError::input(
                    "skill_id",
                    "the skill belongs to another class",
                ));
            }
            records.push(AwardRecord {
                id: t.award_id,
                pupil_id: t.pupil_id.clone(),
                class_id,
                skill_id: skill.id.clone(),
                points: skill.weight,
                note: note.map(str::to_owned),
                awarded_by: me.to_owned(),
                awarded_at: now,
            });
        }
        let write = ClientWrite {
            client_id: Uuid::new_v4(),
            op: WriteOp::AwardPoints {
                awards: targets,
                skill_id: skill.id.clone(),
                note: note.map(str::to_owned),
                awarded_at: now,
            },
        };
        {
            let mut conn = self.store.conn();
            let tx = conn.transaction().ctx("starting an award")?;
            for r in &records {
                awards::insert_pending(&tx, self.store.sealer(), r)?;
            }
            outbox::enqueue(&tx, self.store.sealer(), &write)?;
            tx.commit().ctx("committing an award")?;
        }
        self.notify(pupil_ids.to_vec());
        Ok(records.iter().map(|r| r.id.to_string()).collect())
    }

    /// REQ-PTS-3: takes an award back — hidden here at once, removed everywhere once the server
    /// agrees (and shown again if it refuses). Staff of the pupil's class only.
    pub fn undo_award(&self, award_id: &str) -> Result<(), CoreError> {
        let r = self.undo_award_inner(award_id);
        self.checked(r)
    }

    fn undo_award_inner(&self, award_id: &str) -> Result<(), CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let id: Uuid = award_id
            .parse()
            .map_err(|_| CoreError::input("award_id", "not an award id"))?;
        let pupil = awards::pupils_of(&self.store.conn(), &[id.to_string()])?
            .pop()
            .ok_or_else(|| CoreError::input("award_id", "no such award here"))?;
        let dir = self
            .directory_arc()?
            .ok_or_else(|| CoreError::input("award_id", "sync once before undoing"))?;
        can(
            &dir.facts,
            Some(&session.me.user_id),
            Action::UndoAward,
            &Target::Pupil(&pupil),
        )?;
        let write = ClientWrite {
            client_id: Uuid::new_v4(),
            op: WriteOp::UndoAward { award_id: id },
        };
        {
            let mut conn = self.store.conn();
            let tx = conn.transaction().ctx("starting an undo")?;
            awards::set_hidden(&tx, &[id.to_string()], true)?;
            outbox::enqueue(&tx, self.store.sealer(), &write)?;
            tx.commit().ctx("committing an undo")?;
        }
        self.notify(vec![pupil]);
        Ok(())
    }

    /// A pupil's awards from the cache, newest first, if this person may see them (REQ-PTS-5).
    pub fn points_for(&self, pupil_id: &str) -> Result<Vec<awards::CachedAward>, CoreError> {
        let r = self.points_for_inner(pupil_id);
        self.checked(r)
    }

    fn points_for_inner(&self, pupil_id: &str) -> Result<Vec<awards::CachedAward>, CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let dir = self
            .directory_arc()?
            .unwrap_or_else(|| Arc::new(empty_directory(&session.me)));
        can(
            &dir.facts,
            Some(&session.me.user_id),
            Action::ReadPoints,
            &Target::Pupil(pupil_id),
        )?;
        awards::for_pupil(&self.store.conn(), self.store.sealer(), pupil_id)
    }

    /// Writes not yet acknowledged by the server.
    pub fn pending_writes(&self) -> Result<u32, CoreError> {
        outbox::len(&self.store.conn())
    }

    /// Sends the outbox in order, then pulls every change since the last sync.
    /// Offline: returns `CoreError::Offline` and keeps everything queued.
    pub fn sync(&self) -> Result<SyncOutcome, CoreError> {
        let _guard = self.sync_lock.lock().unwrap_or_else(|p| p.into_inner());
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let mut outcome = SyncOutcome::default();
        let mut changed = BTreeSet::new();
        let result = self
            .push_all(&session, &mut outcome, &mut changed)
            .and_then(|()| self.pull_all(&session, &mut outcome, &mut changed));
        if !changed.is_empty() {
            self.notify(changed.into_iter().collect());
        }
        self.refresh_message_views();
        self.refresh_social_views();
        self.refresh_goal_views();
        // Off the tap path: the WAL is copied back here, in the background sync, not in the
        // commit of the next award.
        if let Err(e) = self.store.checkpoint() {
            tracing::warn!(error = %e, "could not checkpoint the cache");
        }
        self.record_attempt(&result);
        self.store.note_error_in(&result);
        if let Err(CoreError::Server { status: 401, .. }) = result {
            return Err(CoreError::NotSignedIn);
        }
        if let Err(CoreError::RemovedFromSchool) = result {
            // REQ-MSG-5: removed from the school, the person keeps nothing of it on this device.
            self.wipe_local()?;
            // Nor on its screens: every open view empties.
            self.refresh_message_views();
            self.refresh_social_views();
            self.refresh_goal_views();
        }
        result.map(|()| outcome)
    }

    /// Pauses the queue after a transient failure, resets it after a success.
    fn record_attempt(&self, result: &Result<(), CoreError>) {
        let mut b = self.backoff.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(()) => *b = Backoff::default(),
            Err(e) if e.is_transient() => {
                b.failures = b.failures.saturating_add(1);
                let retry_after = match e {
                    CoreError::Server { retry_after, .. } => retry_after.map(Duration::from_secs),
                    _ => None,
                };
                b.retry_at = Some(Instant::now() + backoff::delay(b.failures, retry_after));
            }
            Err(_) => {}
        }
    }

    /// What the platform scheduler should do next: the core owns the policy, the shell the timer.
    pub fn next_task(&self) -> Result<NextTask, CoreError> {
        if self.session()?.is_none() {
            return Ok(NextTask::Idle);
        }
        let retry_at = self
            .backoff
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retry_at;
        if let Some(at) = retry_at {
            let now = Instant::now();
            if at > now {
                return Ok(NextTask::Wait(at - now));
            }
        }
        if self.pending_writes()? > 0 {
            Ok(NextTask::SyncNow)
        } else {
            Ok(NextTask::Idle)
        }
    }

    #[tracing::instrument(skip_all)]
    fn push_all(
        &self,
        session: &Session,
        outcome: &mut SyncOutcome,
        changed: &mut BTreeSet<String>,
    ) -> Result<(), CoreError> {
        // Media first: a post or message waits for the media it refers to (issue 4, REQ-MSG-1);
        // an entry whose media is still unsent stops the batch there, keeping the order.
        self.upload_pending(session, outcome)?;
        loop {
            let batch =
                outbox::next_batch(&self.store.conn(), self.store.sealer(), MAX_WRITES_PER_PUSH)?;
            if batch.is_empty() {
                return Ok(());
            }
            let writes: Vec<ClientWrite> = batch.iter().map(|q| q.write.clone()).collect();
            let resp = match self
                .runtime
                .block_on(self.api.push(&session.token, &PushRequest { writes }))
            {
                Ok(r) => r,
                Err(e) => {
                    outbox::note_attempt(&self.store.conn())?;
                    return Err(e);
                }
            };
            if resp.results.len() != batch.len()
                || resp
                    .results
                    .iter()
                    .zip(&batch)
                    .any(|(r, q)| r.client_id != q.write.client_id)
            {
                return Err(CoreError::Protocol(
                    "push answer does not match the writes sent".into(),
                ));
            }
            let mut conn = self.store.conn();
            let tx = conn.transaction().ctx("starting push bookkeeping")?;
            for (queued, result) in batch.iter().zip(&resp.results) {
                let write = &queued.write;
                let accepted = matches!(
                    result.outcome,
                    WriteOutcome::Accepted | WriteOutcome::AlreadyApplied
                );
                match &write.op {
                    WriteOp::AwardPoints {
                        awards: targets, ..
                    } => {
                        let ids: Vec<String> =
                            targets.iter().map(|a| a.award_id.to_string()).collect();
                        if accepted {
                            awards::confirm(&tx, &ids)?;
                        } else {
                            // Roll the optimistic award back.
                            changed.extend(awards::pupils_of(&tx, &ids)?);
                            awards::delete(&tx, &ids)?;
                        }
                    }
                    WriteOp::UndoAward { award_id } => {
                        let ids = [award_id.to_string()];
                        changed.extend(awards::pupils_of(&tx, &ids)?);
                        match &result.outcome {
                            // Undone, or already gone on the server: gone here too.
                            WriteOutcome::Rejected {
                                code: RejectCode::NotFound,
                                ..
                            }
                            | WriteOutcome::Accepted
                            | WriteOutcome::AlreadyApplied => awards::delete(&tx, &ids)?,
                            // Refused: the award stands, so it shows again.
                            WriteOutcome::Rejected { .. } => awards::set_hidden(&tx, &ids, false)?,
                        }
                    }
                    // REQ-MSG-1: a refused message is taken back; an accepted one stops pending.
                    WriteOp::SendMessage { message_id, .. } => {
                        if accepted {
                            messages::confirm(&tx, message_id)?;
                        } else {
                            messages::delete(&tx, message_id)?;
                        }
                    }
                    WriteOp::Announce {
                        announcement_id, ..
                    } => messages::settle_announcement(&tx, announcement_id, accepted)?,
                    WriteOp::MarkThreadRead { .. } | WriteOp::ReportMessage { .. } => {}
                    // REQ-STO-4: a refused comment or like is taken back on this device.
                    op @ (WriteOp::CommentOnPost { .. }
                    | WriteOp::RemoveComment { .. }
                    | WriteOp::LikePost { .. }
                    | WriteOp::UnlikePost { .. }
                    | WriteOp::SetCommentsOpen { .. }) => {
                        crate::social::settle(&tx, &session.me.user_id, op, &result.outcome)?
                    }
                    // REQ-PTS-8: an accepted goal write is kept; a refused one vanishes with its
                    // outbox entry (unsent goal edits are only ever laid over the server's).
                    op @ (WriteOp::CreateGoal { .. }
                    | WriteOp::UpdateGoal { .. }
                    | WriteOp::ArchiveGoal { .. }
                    | WriteOp::LinkGoal { .. }
                    | WriteOp::UnlinkGoal { .. }) => {
                        if accepted {
                            crate::goals::settle_accepted(
                                &tx,
                                self.store.sealer(),
                                op,
                                &session.me.user_id,
                            )?;
                        }
                    }
                    WriteOp::CreatePost(post) => {
                        if let WriteOutcome::Rejected { code, reason } = &result.outcome {
                            crate::photos::roll_back_post(&tx, post)?;
                            outcome.failed_posts.push(crate::photos::FailedPost {
                                post_id: post.post_id.to_string(),
                                code: *code,
                                reason: reason.clone(),
                            });
                        }
                    }
                }
                match &result.outcome {
                    WriteOutcome::Accepted | WriteOutcome::AlreadyApplied => {
                        outcome.sent += 1;
                    }
                    WriteOutcome::Rejected { code, reason } => {
                        // Keep the reason for the app.
                        outbox::record_rejection(&tx, self.store.sealer(), write, *code, reason)?;
                        outcome
                            .refused
                            .push((write.client_id.to_string(), reason.clone()));
                    }
                }
                outbox::remove(&tx, queued)?;
            }
            tx.commit().ctx("committing push bookkeeping")?;
        }
    }

    #[tracing::instrument(skip_all)]
    fn pull_all(
        &self,
        session: &Session,
        outcome: &mut SyncOutcome,
        changed: &mut BTreeSet<String>,
    ) -> Result<(), CoreError> {
        let mut restarted = false;
        loop {
            let (since, dir_version, log_id) = {
                let conn = self.store.conn();
                let sealer = self.store.sealer();
                let since: u64 = kv::get(&conn, sealer, kv::CURSOR)?.unwrap_or(0);
                let dir: Option<Directory> = kv::get(&conn, sealer, kv::DIRECTORY)?;
                let log_id: Option<String> = kv::get(&conn, sealer, kv::LOG_ID)?;
                (since, dir.map(|d| d.version), log_id)
            };
            let query = PullQuery {
                since,
                directory_version: dir_version,
                log_id: log_id.clone(),
            };
            let page = match self.runtime.block_on(self.api.pull(&session.token, &query)) {
                // 409 on a pull: the cursor is from another copy of the server's data (rebuilt
                // or restored). Start over from nothing, keeping unsent work (REQ-OFF-1).
                Err(CoreError::Server { status: 409, .. }) if !restarted => {
                    restarted = true;
                    let mut conn = self.store.conn();
                    let tx = conn.transaction().ctx("starting a full resync")?;
                    changed.extend(resync::forget_pulled(&tx)?);
                    tx.commit().ctx("committing a full resync")?;
                    self.forget_memo();
                    continue;
                }
                other => other?,
            };
            if page.cursor < since {
                return Err(CoreError::Protocol(
                    "the server moved the cursor backwards".into(),
                ));
            }
            let mut conn = self.store.conn();
            let tx = conn.transaction().ctx("starting to apply a pull")?;
            let mut posts_gone = page.directory.is_some();
            for change in &page.changes {
                match change {
                    Change::Award(a) => {
                        awards::upsert_pulled(&tx, self.store.sealer(), a)?;
                        changed.insert(a.pupil_id.clone());
                    }
                    Change::AwardRemoved { award_id, pupil_id } => {
                        awards::delete(&tx, &[award_id.to_string()])?;
                        changed.insert(pupil_id.clone());
                    }
                    Change::Message(m) => messages::upsert(&tx, self.store.sealer(), m, false)?,
                    Change::MessageState(s) => messages::apply_state(&tx, s)?,
                    Change::Announcement(a) => {
                        messages::upsert_announcement(&tx, self.store.sealer(), a, false)?
                    }
                    Change::Post(_) | Change::PostWithdrawn { .. } => {
                        posts_gone |= matches!(change, Change::PostWithdrawn { .. });
                        self.apply_photo_change(&tx, change)?;
                    }
                    Change::Comment(_)
                    | Change::CommentRemoved { .. }
                    | Change::Like(_)
                    | Change::CommentsOpen { .. } => {
                        crate::social::apply_change(&tx, self.store.sealer(), change)?
                    }
                    Change::Goal(g) => crate::store::goals::upsert(&tx, self.store.sealer(), g)?,
                }
            }
            if let Some(dir) = &page.directory {
                kv::put(&tx, self.store.sealer(), kv::DIRECTORY, dir)?;
                // Whoever this person may no longer see vanishes from the device (REQ-ACC-5).
                let visible: Vec<String> = dir
                    .facts
                    .pupils
                    .keys()
                    .filter(|p| {
                        can(
                            &dir.facts,
                            Some(&session.me.user_id),
                            Action::ReadPoints,
                            &Target::Pupil(p),
                        )
                        .is_ok()
                    })
                    .cloned()
                    .collect();
                changed.extend(awards::purge_except(&tx, &visible)?);
                // Goals too: EHCP outcomes are SEN data (REQ-PTS-8, ACC-5).
                let me = session.me.user_id.as_str();
                let readable: Vec<String> = dir
                    .facts
                    .pupils
                    .keys()
                    .filter(|p| homeroom_protocol::goals::may_read(&dir.facts, me, p).is_ok())
                    .cloned()
                    .collect();
                crate::store::goals::purge_except(&tx, &readable)?;
                // Feeds this person may no longer read go too, with their cached photos.
                self.purge_unreadable_posts(&tx, dir, &session.me.user_id)?;
            }
            // A withdrawn or no longer readable post takes its comments and likes with it
            // (REQ-CON-4, ACC-5, STO-4).
            if posts_gone {
                crate::store::social::purge_orphans(&tx)?;
            }
            // Retention applies here too, whatever the server has sent so far (REQ-PTS-7).
            let sweep = self
                .retention_swept
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none_or(|at| at.elapsed() >= RETENTION_SWEEP_EVERY);
            if sweep {
                changed.extend(awards::delete_expired(&tx, Utc::now())?);
            }
            // The cursor moves only with the data it covers: a crash re-pulls, never skips.
            // An empty page that moves nothing writes nothing: a no-op sync leaves the file, its
            // WAL and the checkpoint's fsyncs alone (a phone polls often).
            let moved = page.cursor != since || log_id.as_deref() != Some(page.log_id.as_str());
            if moved || !page.changes.is_empty() || page.directory.is_some() {
                kv::put(&tx, self.store.sealer(), kv::CURSOR, &page.cursor)?;
                kv::put(&tx, self.store.sealer(), kv::LOG_ID, &page.log_id)?;
            }
            tx.commit().ctx("committing a pull")?;
            if sweep {
                *self
                    .retention_swept
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            }
            if page.directory.is_some() {
                self.forget_memo();
            }
            outcome.received += page.changes.len() as u32;
            if !page.has_more {
                return Ok(());
            }
        }
    }

    /// Subscribes to one pupil's points: `observer` gets the snapshot at once, then the changes
    /// after each local write or sync. Returns the id for [`Homeroom::unobserve`].
    pub fn observe_points(
        &self,
        pupil_id: &str,
        observer: PointsObserver,
    ) -> Result<u64, CoreError> {
        let (differ, first) = Differ::start(self.points_for(pupil_id)?);
        let sub = Arc::new(PointsSubscription {
            id: self.next_observer.fetch_add(1, Ordering::Relaxed),
            pupil_id: pupil_id.to_owned(),
            observer,
            differ: Mutex::new(differ),
            delivery: Delivery::default(),
        });
        self.observers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(sub.clone());
        sub.delivery
            .send(first, |m| (sub.observer)(&sub.pupil_id, m));
        Ok(sub.id)
    }

    /// A fresh id for any view subscription.
    pub(crate) fn new_observer_id(&self) -> u64 {
        self.next_observer.fetch_add(1, Ordering::Relaxed)
    }

    /// Stops an observer.
    pub fn unobserve(&self, id: u64) {
        self.message_views.remove(id);
        self.social_views.remove(id);
        self.goal_views.remove(id);
        self.observers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|s| s.id != id);
    }

    /// Sends each affected subscriber what changed; no core lock is held while app code runs
    /// (it may call back into the core).
    fn notify(&self, pupil_ids: Vec<String>) {
        let subs: Vec<Arc<PointsSubscription>> = self
            .observers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|s| pupil_ids.contains(&s.pupil_id))
            .cloned()
            .collect();
        for sub in subs {
            // Lost access reads as an empty view: everything is removed from the screen.
            let now = self.points_for(&sub.pupil_id).unwrap_or_default();
            crate::views::send_changes(&sub.differ, &sub.delivery, now, |m| {
                (sub.observer)(&sub.pupil_id, m)
            });
        }
    }
}

/// Before the first sync a person knows only themselves: every rule answers "no".
fn empty_directory(me: &Me) -> Directory {
    Directory {
        version: String::new(),
        school_id: me.school_id.clone(),
        school_name: String::new(),
        classes: Vec::new(),
        pupils: Vec::new(),
        skills: Vec::new(),
        facts: Default::default(),
        people: Vec::new(),
        hours: Default::default(),
        working_hours: Default::default(),
        lock_screen: Default::default(),
        consent: Default::default(),
        time_zone: None,
    }
}
