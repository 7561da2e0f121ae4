//! The UniFFI surface: thin wrappers that convert types and pass calls to [`crate::homeroom`].
//! No logic lives here; tests exercise the plain Rust underneath.

use std::sync::{Arc, Weak};
use std::time::SystemTime;

use homeroom_protocol::access::Role;
use homeroom_protocol::skills::SkillKind;
use homeroom_protocol::wire::Me;

use crate::error::CoreError;
use crate::homeroom::{Homeroom, Settings};
use crate::store::awards::CachedAward;
use crate::views::ViewUpdate;

mod live;
use homeroom_protocol::wire::Directory;
pub use live::LiveMode;

mod messaging;
pub use messaging::*;
mod consent;
pub use consent::*;
mod goals;
pub use goals::*;
mod reports;
pub use reports::*;
mod social;
pub use social::*;

/// How an app sets the core up.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HomeroomConfig {
    /// The school's server, e.g. `https://school.example/`.
    pub server_url: String,
    /// A directory private to the app (the cache and outbox live here).
    pub data_dir: String,
    /// For staff tablets, the enrolment key the school's admin issued (REQ-ACC-6): staff sign in
    /// only on an enrolled device. Parents and pupils may leave it empty.
    pub device_id: Option<String>,
    /// 32 random bytes kept in the Android Keystore / iOS Keychain; seals the cache (REQ-PRV-3).
    pub at_rest_key: Vec<u8>,
    /// Path of the bundled face-detection model (centerface.onnx) for the consent filter; without
    /// it every photo needs review (REQ-CON-2).
    #[uniffi(default = None)]
    pub face_model_path: Option<String>,
}

/// One typed error for every call, carrying a message a person can read.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum HomeroomError {
    #[error("{0}")]
    InvalidCredentials(String),
    #[error("{0}")]
    NotSignedIn(String),
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    Offline(String),
    #[error("{0}")]
    Server(String),
    #[error("{0}")]
    Storage(String),
    /// The cache was sealed with another key: sign in again to rebuild it.
    #[error("{0}")]
    WrongKey(String),
    /// The cache was damaged and rebuilt, but unsent changes were lost (said loudly, once).
    #[error("{0}")]
    CacheCorrupt(String),
    /// The photo is not a usable JPEG, PNG or WebP, or is too large (REQ-PRV-1).
    #[error("{0}")]
    InvalidPhoto(String),
    /// The consent filter has not cleared these bytes for this audience and tags (REQ-CON-2).
    #[error("{0}")]
    PhotoNotCleared(String),
    /// A file cannot be attached: type not allowed, too large, or not what it claims (REQ-MSG-1).
    #[error("{0}")]
    InvalidAttachment(String),
}

impl From<CoreError> for HomeroomError {
    fn from(e: CoreError) -> Self {
        let msg = e.to_string();
        match e {
            CoreError::InvalidCredentials => HomeroomError::InvalidCredentials(msg),
            CoreError::NotSignedIn | CoreError::RemovedFromSchool => {
                HomeroomError::NotSignedIn(msg)
            }
            CoreError::NotAllowed(_) => HomeroomError::NotAllowed(msg),
            CoreError::InvalidInput { .. } => HomeroomError::InvalidInput(msg),
            CoreError::Offline(_) => HomeroomError::Offline(msg),
            CoreError::Server { .. } | CoreError::Protocol(_) => HomeroomError::Server(msg),
            CoreError::Storage { .. } | CoreError::Io(_) => HomeroomError::Storage(msg),
            CoreError::WrongKey => HomeroomError::WrongKey(msg),
            CoreError::CacheCorrupt(_) => HomeroomError::CacheCorrupt(msg),
            CoreError::PhotoNotCleared(_) => HomeroomError::PhotoNotCleared(msg),
            CoreError::InvalidAttachment(_) => HomeroomError::InvalidAttachment(msg),
            CoreError::Media(crate::media::MediaError::Io { .. })
            | CoreError::Media(crate::media::MediaError::Encode { .. }) => {
                HomeroomError::Storage(msg)
            }
            CoreError::Media(_) => HomeroomError::InvalidPhoto(msg),
        }
    }
}

/// What a person is in the school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum UserRole {
    Admin,
    Leader,
    Teacher,
    Staff,
    Parent,
    Pupil,
}

impl From<Role> for UserRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => UserRole::Admin,
            Role::Leader => UserRole::Leader,
            Role::Teacher => UserRole::Teacher,
            Role::Staff => UserRole::Staff,
            Role::Parent => UserRole::Parent,
            Role::Pupil => UserRole::Pupil,
        }
    }
}

/// The signed-in person.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Account {
    pub user_id: String,
    pub display_name: String,
    pub role: UserRole,
    pub school_id: String,
}

impl From<Me> for Account {
    fn from(m: Me) -> Self {
        Account {
            user_id: m.user_id,
            display_name: m.display_name,
            role: m.role.into(),
            school_id: m.school_id,
        }
    }
}

/// A pupil the person may see.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Pupil {
    pub id: String,
    pub display_name: String,
    pub class_id: Option<String>,
}

/// A skill of a class.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Skill {
    pub id: String,
    pub class_id: String,
    pub name: String,
    pub icon: String,
    pub points: i32,
    pub positive: bool,
}

/// One award on a pupil's timeline.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Award {
    pub id: String,
    pub skill_id: String,
    pub skill_name: String,
    pub points: i32,
    pub note: Option<String>,
    pub awarded_by: String,
    pub awarded_at: SystemTime,
    /// Still on this device only: not yet acknowledged by the server.
    pub pending: bool,
}

/// A pupil's points as the points screen shows them.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PupilPoints {
    pub pupil_id: String,
    pub total: i64,
    pub positive: i64,
    pub needs_work: i64,
    pub awards: Vec<Award>,
}

/// A write the server refused, and why.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RefusedWrite {
    pub client_id: String,
    pub reason: String,
}

/// What one sync did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncReport {
    pub sent: u32,
    pub received: u32,
    pub refused: Vec<RefusedWrite>,
    /// Posts the server refused (e.g. the consent re-check, REQ-CON-4), typed.
    pub failed_posts: Vec<FailedPostReport>,
}

/// One prepared image on disk.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PhotoFile {
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// The content address for the upload.
    pub sha256: String,
}

/// A photo made ready for upload: upright, shrunk, with no metadata at all.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PreparedPhoto {
    pub large: PhotoFile,
    pub thumbnail: PhotoFile,
}

impl From<crate::homeroom::PreparedFile> for PhotoFile {
    fn from(f: crate::homeroom::PreparedFile) -> Self {
        PhotoFile {
            path: f.path.display().to_string(),
            width: f.width,
            height: f.height,
            bytes: f.bytes,
            sha256: f.sha256_hex,
        }
    }
}

/// What the platform scheduler should do next (WorkManager, BGTaskScheduler).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NextStep {
    /// Unsent writes are waiting: sync now.
    SyncNow,
    /// The server is unreachable or asked us to slow down: wake again after this long.
    WaitMillis { millis: u64 },
    /// Nothing pending: sync at the normal cadence or on a push.
    Idle,
}

/// One message about a pupil's points: the whole list first, then changes by award id.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum PointsUpdate {
    Snapshot {
        points: PupilPoints,
    },
    Changes {
        inserted: Vec<Award>,
        updated: Vec<Award>,
        removed: Vec<String>,
        /// The totals after these changes.
        total: i64,
        positive: i64,
        needs_work: i64,
    },
}

/// Told about a pupil's points (after a local award or a sync). Implemented by the app; called
/// on a core thread, never while the core holds a lock, so it may call back into the core.
#[uniffi::export(with_foreign)]
pub trait PointsListener: Send + Sync {
    fn on_points_update(&self, pupil_id: String, update: PointsUpdate);
}

/// A listener registration; cancelled by `cancel()` or when dropped.
#[derive(uniffi::Object)]
pub struct Subscription {
    core: Weak<Homeroom>,
    id: u64,
}

#[uniffi::export]
impl Subscription {
    /// Stops the listener.
    pub fn cancel(&self) {
        if let Some(core) = self.core.upgrade() {
            core.unobserve(self.id);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// The object an app holds for the whole session.
#[derive(uniffi::Object)]
pub struct HomeroomClient {
    pub(crate) inner: Arc<Homeroom>,
}

#[uniffi::export]
impl HomeroomClient {
    /// Opens the core over `config.data_dir`, resuming a saved session.
    #[uniffi::constructor]
    pub fn new(config: HomeroomConfig) -> Result<Arc<Self>, HomeroomError> {
        let inner = Homeroom::open(Settings {
            server_url: config.server_url,
            data_dir: config.data_dir.into(),
            device_id: config.device_id,
            at_rest_key: config.at_rest_key,
            request_timeout: None,
            face_model: config.face_model_path.map(Into::into),
            upload_chunk_bytes: None,
            media_cache_bytes: None,
        })?;
        Ok(Arc::new(HomeroomClient {
            inner: Arc::new(inner),
        }))
    }

    /// Signs in a member of staff or a parent.
    pub fn sign_in(&self, email: String, password: String) -> Result<Account, HomeroomError> {
        Ok(self.inner.sign_in(&email, &password)?.into())
    }

    /// Signs in a pupil with their code.
    pub fn sign_in_with_pupil_code(&self, code: String) -> Result<Account, HomeroomError> {
        Ok(self.inner.sign_in_with_pupil_code(&code)?.into())
    }

    /// A parent joins with the school's code and is signed in (the code is checked on the phone
    /// first: a mistyped look-alike is explained without a round trip).
    pub fn join_with_parent_code(
        &self,
        code: String,
        email: String,
        password: String,
        display_name: String,
    ) -> Result<Account, HomeroomError> {
        Ok(self
            .inner
            .join_with_parent_code(&code, &email, &password, &display_name)?
            .into())
    }

    /// Staff: issues a pupil's parent code, returned once as text to show or send.
    pub fn issue_parent_code(&self, pupil_id: String) -> Result<String, HomeroomError> {
        Ok(self.inner.issue_parent_code(&pupil_id)?.code)
    }

    /// The signed-in person, if any.
    pub fn account(&self) -> Result<Option<Account>, HomeroomError> {
        Ok(self.inner.me()?.map(Into::into))
    }

    /// Signs out and wipes everything this person had on the device.
    pub fn sign_out(&self) -> Result<(), HomeroomError> {
        Ok(self.inner.sign_out()?)
    }

    /// Awards a skill to pupils, offline-first; returns the new award ids.
    pub fn award_points(
        &self,
        pupil_ids: Vec<String>,
        skill_id: String,
        note: Option<String>,
    ) -> Result<Vec<String>, HomeroomError> {
        Ok(self
            .inner
            .award_points(&pupil_ids, &skill_id, note.as_deref())?)
    }

    /// Takes an award back (staff of the pupil's class): gone at once here, everywhere after sync.
    pub fn undo_award(&self, award_id: String) -> Result<(), HomeroomError> {
        Ok(self.inner.undo_award(&award_id)?)
    }

    /// Sends queued writes and fetches changes.
    pub fn sync(&self) -> Result<SyncReport, HomeroomError> {
        let o = self.inner.sync()?;
        Ok(SyncReport {
            sent: o.sent,
            received: o.received,
            refused: o
                .refused
                .into_iter()
                .map(|(client_id, reason)| RefusedWrite { client_id, reason })
                .collect(),
            failed_posts: o.failed_posts.into_iter().map(Into::into).collect(),
        })
    }

    /// A pupil's points from the cache, at once, if this person may see them.
    pub fn points_for(&self, pupil_id: String) -> Result<PupilPoints, HomeroomError> {
        let cached = self.inner.points_for(&pupil_id)?;
        let dir = self.inner.directory()?;
        Ok(to_points(pupil_id, &cached, dir.as_ref()))
    }

    /// The pupils this person may see.
    pub fn pupils(&self) -> Result<Vec<Pupil>, HomeroomError> {
        Ok(self
            .inner
            .directory()?
            .map(|d| {
                d.pupils
                    .into_iter()
                    .map(|p| Pupil {
                        id: p.id,
                        display_name: p.display_name,
                        class_id: p.class_id,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The skills of a class, positive first.
    pub fn skills(&self, class_id: String) -> Result<Vec<Skill>, HomeroomError> {
        Ok(self
            .inner
            .directory()?
            .map(|d| {
                d.skills
                    .into_iter()
                    .filter(|s| s.class_id == class_id)
                    .map(|s| Skill {
                        positive: s.kind == SkillKind::Positive,
                        id: s.id,
                        class_id: s.class_id,
                        name: s.name,
                        icon: s.icon,
                        points: s.weight,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Writes made on this device and not yet acknowledged by the server.
    pub fn pending_writes(&self) -> Result<u32, HomeroomError> {
        Ok(self.inner.pending_writes()?)
    }

    /// Prepares the camera file at `path` for upload (HEIC: convert to JPEG in the iOS shell first).
    /// Blocking CPU work: call it off the main thread.
    pub fn prepare_photo(&self, path: String) -> Result<PreparedPhoto, HomeroomError> {
        let files = self.inner.prepare_photo(std::path::Path::new(&path))?;
        Ok(PreparedPhoto {
            large: files.large.into(),
            thumbnail: files.thumbnail.into(),
        })
    }

    /// What to do next, and when to wake the core (the shell owns the timer, the core the policy).
    pub fn next_step(&self) -> Result<NextStep, HomeroomError> {
        Ok(match self.inner.next_task()? {
            crate::homeroom::NextTask::SyncNow => NextStep::SyncNow,
            crate::homeroom::NextTask::Wait(d) => NextStep::WaitMillis {
                millis: u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            },
            crate::homeroom::NextTask::Idle => NextStep::Idle,
        })
    }

    /// Subscribes `listener` to a pupil's points: the snapshot at once, then changes after each
    /// local award or sync. Keep the returned handle; cancelling or dropping it stops the listener.
    pub fn subscribe_points(
        &self,
        pupil_id: String,
        listener: Arc<dyn PointsListener>,
    ) -> Result<Arc<Subscription>, HomeroomError> {
        let core = Arc::downgrade(&self.inner);
        let id = self.inner.observe_points(
            &pupil_id,
            Arc::new(move |pupil: &str, update| {
                let Some(core) = core.upgrade() else { return };
                let dir = core.directory().ok().flatten();
                let message = match update {
                    ViewUpdate::Snapshot(items) => PointsUpdate::Snapshot {
                        points: to_points(pupil.to_owned(), &items, dir.as_ref()),
                    },
                    ViewUpdate::Changes {
                        inserted,
                        updated,
                        removed,
                    } => {
                        let now = core.points_for(pupil).unwrap_or_default();
                        let totals = to_points(pupil.to_owned(), &now, dir.as_ref());
                        PointsUpdate::Changes {
                            inserted: inserted.iter().map(|a| to_award(a, dir.as_ref())).collect(),
                            updated: updated.iter().map(|a| to_award(a, dir.as_ref())).collect(),
                            removed,
                            total: totals.total,
                            positive: totals.positive,
                            needs_work: totals.needs_work,
                        }
                    }
                };
                listener.on_points_update(pupil.to_owned(), message);
            }),
        )?;
        Ok(Arc::new(Subscription {
            core: Arc::downgrade(&self.inner),
            id,
        }))
    }
}

/// An award as the points screen shows it, with its skill's name.
fn to_award(c: &CachedAward, dir: Option<&Directory>) -> Award {
    let a = &c.record;
    Award {
        id: a.id.to_string(),
        skill_name: dir
            .and_then(|d| d.skills.iter().find(|s| s.id == a.skill_id))
            .map(|s| s.name.clone())
            .unwrap_or_else(|| a.skill_id.clone()),
        skill_id: a.skill_id.clone(),
        points: a.points,
        note: a.note.clone(),
        awarded_by: a.awarded_by.clone(),
        awarded_at: a.awarded_at.into(),
        pending: c.pending,
    }
}

/// A pupil's awards with their totals (REQ-PTS-4: positive vs needs-work).
fn to_points(pupil_id: String, cached: &[CachedAward], dir: Option<&Directory>) -> PupilPoints {
    let mut points = PupilPoints {
        pupil_id,
        total: 0,
        positive: 0,
        needs_work: 0,
        awards: Vec::with_capacity(cached.len()),
    };
    for c in cached {
        let p = i64::from(c.record.points);
        points.total += p;
        if p >= 0 {
            points.positive += p;
        } else {
            points.needs_work -= p;
        }
        points.awards.push(to_award(c, dir));
    }
    points
}
