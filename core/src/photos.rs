//! Photo posts through the consent filter (issue 7, REQ-CON-2, CON-3, CON-5; issue 4 media):
//! the verdict on a photo, posting only bytes the verdict cleared, the resumable upload, the
//! feeds, and the sealed download cache under a byte budget.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::Utc;
use homeroom_protocol::consent::{ConsentDenied, ConsentRecord, ConsentUse};
use homeroom_protocol::posts::{
    check_post_tags, validate_post, Audience, NewPost, PostRecord, MEDIA_CHUNK_BYTES,
};
use homeroom_protocol::wire::{Change, ClientWrite, RejectCode, WriteOp};
use rusqlite::Connection;
use uuid::Uuid;

use crate::consent::{pixelate, screen, BlurredFace, CenterFace, FaceBox, FaceDetector, Screening};
use crate::error::{CoreError, StorageContext};
use crate::homeroom::{Homeroom, PreparedFiles, Session, SyncOutcome};
use crate::media::{decode_oriented, encode_prepared, sha256_hex, PhotoOptions};
use crate::store::posts::CachedPost;
use crate::store::{media, outbox, posts};

/// Default byte budget of the downloaded-photo cache.
pub const DEFAULT_MEDIA_CACHE_BYTES: u64 = 200 * 1024 * 1024;

/// Where an upload's bytes come from.
enum UploadSource {
    File(std::fs::File),
    Memory(Vec<u8>),
}

impl UploadSource {
    /// `len` bytes from `offset`.
    fn read_at(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, CoreError> {
        let short = || CoreError::Io("a file to upload is shorter than queued".into());
        match self {
            UploadSource::File(file) => {
                use std::io::{Read, Seek, SeekFrom};
                let mut chunk = vec![0u8; len];
                file.seek(SeekFrom::Start(offset))
                    .and_then(|_| file.read_exact(&mut chunk))
                    .map_err(|e| CoreError::Io(format!("cannot read a file to upload: {e}")))?;
                Ok(chunk)
            }
            UploadSource::Memory(bytes) => {
                let start = usize::try_from(offset).map_err(|_| short())?;
                bytes
                    .get(start..start + len)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(short)
            }
        }
    }
}

/// The consent filter's settings, and the detector loaded on first use (loading takes a while).
pub struct PhotoSettings {
    face_model: Option<PathBuf>,
    detector: OnceLock<Result<Arc<dyn FaceDetector>, String>>,
    pub(crate) chunk_bytes: usize,
    pub(crate) cache_budget: u64,
}

impl PhotoSettings {
    /// Settings from the core's config; a missing model is not an error until a photo is checked.
    pub fn new(face_model: Option<PathBuf>, chunk: Option<usize>, budget: Option<u64>) -> Self {
        PhotoSettings {
            face_model,
            detector: OnceLock::new(),
            chunk_bytes: chunk
                .unwrap_or(MEDIA_CHUNK_BYTES)
                .clamp(1024, MEDIA_CHUNK_BYTES * 4),
            cache_budget: budget.unwrap_or(DEFAULT_MEDIA_CACHE_BYTES),
        }
    }

    /// The detector, or why there is none.
    fn detector(&self) -> Result<Arc<dyn FaceDetector>, String> {
        self.detector
            .get_or_init(|| match &self.face_model {
                None => Err("no face model is configured on this device".to_owned()),
                Some(path) => CenterFace::load(path)
                    .map(|d| Arc::new(d) as Arc<dyn FaceDetector>)
                    .map_err(|e| format!("the face model could not be loaded: {e}")),
            })
            .clone()
    }
}

/// The consent filter's answer for one photo, audience and set of tags (REQ-CON-2).
#[derive(Debug, Clone, PartialEq)]
pub enum PhotoVerdict {
    /// May be posted as it is: these files, with these tags.
    Allowed {
        photo: PreparedFiles,
        tagged: Vec<String>,
        faces: Vec<FaceBox>,
    },
    /// Faces no tag or blur accounts for; or detection could not run.
    NeedsReview {
        untagged_faces: u32,
        boxes: Vec<FaceBox>,
        detection_unavailable: Option<String>,
    },
    /// A tagged pupil may not appear here; blur their face or untag and leave them out.
    Blocked {
        pupil_id: String,
        used: ConsentUse,
        reason: ConsentDenied,
        faces: Vec<FaceBox>,
    },
    /// Only this blurred copy may be posted (CON-3); the original never leaves the device.
    AllowedAfterBlur {
        photo: PreparedFiles,
        tagged: Vec<String>,
        boxes: Vec<FaceBox>,
    },
}

/// A post the server refused, typed so the app can say why (REQ-CON-4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedPost {
    pub post_id: String,
    pub code: RejectCode,
    pub reason: String,
}

fn audience_key(a: &Audience) -> Result<String, CoreError> {
    serde_json::to_string(a).map_err(|e| CoreError::Io(format!("encode audience: {e}")))
}

fn tags_key(tags: &[String]) -> Result<String, CoreError> {
    let mut t = tags.to_vec();
    t.sort();
    serde_json::to_string(&t).map_err(|e| CoreError::Io(format!("encode tags: {e}")))
}

/// Undoes a refused post on this device.
pub(crate) fn roll_back_post(conn: &Connection, post: &NewPost) -> Result<(), CoreError> {
    posts::delete(conn, &post.post_id.to_string())?;
    Ok(())
}

impl Homeroom {
    /// REQ-CON-2: checks a photo before it may leave the device — tags against consent for
    /// `audience`, faces (found on the upright image) against tags and `blurred`. An allowing
    /// verdict prepares the upload files (blurred when asked, CON-3) and binds itself to their hash.
    #[tracing::instrument(skip_all, fields(tags = tagged.len(), blurred = blurred.len()))]
    pub fn check_photo(
        &self,
        path: &Path,
        tagged: &[String],
        audience: &Audience,
        blurred: &[BlurredFace],
    ) -> Result<PhotoVerdict, CoreError> {
        let r = self.check_photo_inner(path, tagged, audience, blurred);
        self.checked(r)
    }

    fn check_photo_inner(
        &self,
        path: &Path,
        tagged: &[String],
        audience: &Audience,
        blurred: &[BlurredFace],
    ) -> Result<PhotoVerdict, CoreError> {
        let opts = PhotoOptions::default();
        let mut img = decode_oriented(
            path,
            opts.large_long_edge,
            opts.size_slack_percent,
            &opts.limits,
        )?;
        let faces = self.photos.detector().and_then(|d| {
            d.detect(&img)
                .map_err(|e| format!("face detection failed: {e}"))
        });
        let found = faces.clone().unwrap_or_default();
        let records = self.consent_records()?;
        let (tags, boxes) = match screen(&records, tagged, audience, blurred, faces) {
            Screening::Blocked(b) => {
                return Ok(PhotoVerdict::Blocked {
                    pupil_id: b.pupil_id,
                    used: b.used,
                    reason: b.reason,
                    faces: found,
                })
            }
            Screening::NeedsReview {
                untagged_faces,
                boxes,
                detection_unavailable,
            } => {
                return Ok(PhotoVerdict::NeedsReview {
                    untagged_faces,
                    boxes,
                    detection_unavailable,
                })
            }
            Screening::Clear { tagged } => (tagged, Vec::new()),
            Screening::Blur { tagged, boxes } => (tagged, boxes),
        };
        if !boxes.is_empty() {
            pixelate(&mut img, &boxes);
        }
        let photo = self.save_prepared(&encode_prepared(&img, &opts)?)?;
        media::put_verdict(
            &self.store.conn(),
            &media::Verdict {
                sha256: photo.large.sha256_hex.clone(),
                audience: audience_key(audience)?,
                tagged: tags_key(&tags)?,
                path: photo.large.path.display().to_string(),
            },
        )?;
        Ok(if boxes.is_empty() {
            PhotoVerdict::Allowed {
                photo,
                tagged: tags,
                faces: found,
            }
        } else {
            PhotoVerdict::AllowedAfterBlur {
                photo,
                tagged: tags,
                boxes,
            }
        })
    }

    /// Posts a photo the consent filter cleared: exactly the bytes named `sha256`, to the
    /// audience and with the tags the verdict was for. Anything else is refused here and nothing
    /// is queued. The post shows at once; its photo uploads before it on the next sync.
    pub fn post_photo(
        &self,
        audience: &Audience,
        caption: &str,
        sha256: &str,
        tagged: &[String],
    ) -> Result<String, CoreError> {
        let r = self.post_photo_inner(audience, caption, sha256, tagged);
        self.checked(r)
    }

    fn post_photo_inner(
        &self,
        audience: &Audience,
        caption: &str,
        sha256: &str,
        tagged: &[String],
    ) -> Result<String, CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let dir = self
            .directory_arc()?
            .ok_or_else(|| CoreError::input("audience", "sync once before posting"))?;
        audience.may_post(&dir.facts, &session.me.user_id)?;
        let verdict = media::verdict(&self.store.conn(), sha256)?.ok_or_else(|| {
            CoreError::PhotoNotCleared("the consent filter has not checked this photo".into())
        })?;
        if verdict.audience != audience_key(audience)? || verdict.tagged != tags_key(tagged)? {
            return Err(CoreError::PhotoNotCleared(
                "the photo was checked for another audience or other tags; check it again".into(),
            ));
        }
        let bytes = std::fs::read(&verdict.path)
            .map_err(|e| CoreError::Io(format!("cannot read the checked photo: {e}")))?;
        if sha256_hex(&bytes) != sha256 {
            return Err(CoreError::PhotoNotCleared(
                "the photo changed after it was checked".into(),
            ));
        }
        // Consent may have changed since the check: the latest records decide.
        let records = &dir.consent;
        check_post_tags(records, tagged, audience)
            .map_err(|b| CoreError::PhotoNotCleared(b.to_string()))?;
        let post = NewPost {
            post_id: Uuid::new_v4(),
            audience: audience.clone(),
            caption: caption.trim().to_owned(),
            media_sha256: Some(sha256.to_owned()),
            tagged: tagged.to_vec(),
        };
        validate_post(&post).map_err(|(field, why)| CoreError::input(field, why))?;
        let local = PostRecord {
            id: post.post_id,
            audience: post.audience.clone(),
            author: session.me.user_id.clone(),
            caption: post.caption.clone(),
            media_sha256: post.media_sha256.clone(),
            tagged: post.tagged.clone(),
            posted_at: Utc::now(),
        };
        let write = ClientWrite {
            client_id: Uuid::new_v4(),
            op: WriteOp::CreatePost(post),
        };
        let mut conn = self.store.conn();
        let tx = conn.transaction().ctx("starting a post")?;
        posts::upsert(&tx, self.store.sealer(), &local, true)?;
        media::enqueue_upload(&tx, sha256, &verdict.path, bytes.len() as u64)?;
        outbox::enqueue(&tx, self.store.sealer(), &write)?;
        tx.commit().ctx("committing a post")?;
        Ok(local.id.to_string())
    }

    /// Uploads every queued photo and attachment, each resuming where the server's
    /// acknowledgement left off. A transient failure stops here (the rest waits for the next
    /// sync); an upload the server refuses for good (or whose file is gone) is given up, so the
    /// write waiting for it is sent and refused with a reason, not blocking the outbox forever.
    #[tracing::instrument(skip_all)]
    pub(crate) fn upload_pending(
        &self,
        session: &Session,
        outcome: &mut SyncOutcome,
    ) -> Result<(), CoreError> {
        let pending = media::pending_uploads(&self.store.conn())?;
        for up in pending {
            match self.upload_one(session, &up) {
                Ok(resumed_from) => {
                    if up.sealed {
                        self.adopt_into_cache(&up.sha256, &up.path)?;
                    }
                    outcome.uploads.push((up.sha256, resumed_from, up.size));
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e @ CoreError::Server { status, .. }) if status != 401 => {
                    tracing::warn!(error = %e, "the server refused an upload; giving it up");
                    media::give_up(&self.store.conn(), &up.sha256)?;
                }
                Err(e @ CoreError::Io(_)) => {
                    tracing::warn!(error = %e, "a file to upload is gone; giving it up");
                    media::give_up(&self.store.conn(), &up.sha256)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The bytes to upload: read as they are, or opened when sealed (attachments).
    fn upload_source(&self, up: &media::Upload) -> Result<UploadSource, CoreError> {
        let unreadable =
            |e: std::io::Error| CoreError::Io(format!("cannot read a file to upload: {e}"));
        if up.sealed {
            let sealed = std::fs::read(&up.path).map_err(unreadable)?;
            let plain = self
                .store
                .sealer()
                .open(&sealed, &format!("media:{}", up.sha256))?;
            Ok(UploadSource::Memory(plain))
        } else {
            Ok(UploadSource::File(
                std::fs::File::open(&up.path).map_err(unreadable)?,
            ))
        }
    }

    /// Uploads one file chunk by chunk; returns the offset it resumed from.
    fn upload_one(&self, session: &Session, up: &media::Upload) -> Result<u64, CoreError> {
        let mut status =
            self.runtime
                .block_on(self.api.media_start(&session.token, &up.sha256, up.size))?;
        let resumed_from = status.received;
        let mut source = self.upload_source(up)?;
        while !status.complete {
            let len = (up.size - status.received).min(self.photos.chunk_bytes as u64) as usize;
            let chunk = source.read_at(status.received, len)?;
            status = self.runtime.block_on(self.api.media_chunk(
                &session.token,
                &up.sha256,
                status.received,
                chunk,
            ))?;
            media::set_acked(
                &self.store.conn(),
                &up.sha256,
                status.received,
                status.complete,
            )?;
        }
        media::set_acked(&self.store.conn(), &up.sha256, status.received, true)?;
        Ok(resumed_from)
    }

    /// Applies a pulled post, withdrawal or consent record; a withdrawn post's cached photo goes
    /// with it (REQ-CON-4).
    pub(crate) fn apply_photo_change(
        &self,
        conn: &Connection,
        change: &Change,
    ) -> Result<(), CoreError> {
        match change {
            Change::Post(p) => posts::upsert(conn, self.store.sealer(), p, false),
            Change::PostWithdrawn { post_id, .. } => {
                if let Some(sha) = posts::delete(conn, &post_id.to_string())? {
                    if !posts::media_in_use(conn, &sha)? {
                        self.drop_cached(conn, &sha)?;
                    }
                }
                Ok(())
            }
            Change::Award(_)
            | Change::AwardRemoved { .. }
            | Change::Message(_)
            | Change::MessageState(_)
            | Change::Announcement(_)
            | Change::Comment(_)
            | Change::CommentRemoved { .. }
            | Change::Like(_)
            | Change::CommentsOpen { .. }
            | Change::Goal(_) => Ok(()),
        }
    }

    /// Drops cached posts (and their photos) of feeds `user` may no longer read (REQ-ACC-5).
    pub(crate) fn purge_unreadable_posts(
        &self,
        conn: &Connection,
        dir: &homeroom_protocol::wire::Directory,
        user: &str,
    ) -> Result<(), CoreError> {
        for sha in posts::purge_unreadable(conn, |a| a.may_read(&dir.facts, user))? {
            if !posts::media_in_use(conn, &sha)? {
                self.drop_cached(conn, &sha)?;
            }
        }
        Ok(())
    }

    fn cache_path(&self, sha: &str) -> PathBuf {
        self.media_dir.join("cache").join(format!("{sha}.sealed"))
    }

    /// Moves an uploaded sealed attachment made here into the sealed cache (the same sealing
    /// place), so the cache's byte budget governs it like any download (REQ-MSG-1).
    fn adopt_into_cache(&self, sha: &str, sealed_path: &str) -> Result<(), CoreError> {
        let io = |e: std::io::Error| CoreError::Io(format!("cannot cache a sent attachment: {e}"));
        let path = self.cache_path(sha);
        let bytes = match std::fs::metadata(sealed_path) {
            Ok(m) => m.len(),
            // Adopted before (the same file attached twice): nothing to move.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(e)),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::rename(sealed_path, &path).map_err(io)?;
        let conn = self.store.conn();
        media::touch_cached(&conn, sha, bytes)?;
        for old in media::over_budget(&conn, self.photos.cache_budget)? {
            self.drop_cached(&conn, &old)?;
        }
        Ok(())
    }

    fn drop_cached(&self, conn: &Connection, sha: &str) -> Result<(), CoreError> {
        media::forget_cached(conn, sha)?;
        match std::fs::remove_file(self.cache_path(sha)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CoreError::Io(format!("cannot delete a cached photo: {e}")))
            }
            _ => Ok(()),
        }
    }

    /// A feed from the cache, newest first, if this person may see it (REQ-STO-1..3, STO-6).
    pub fn feed(&self, audience: &Audience) -> Result<Vec<CachedPost>, CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let dir = self.directory_arc()?.ok_or(CoreError::NotSignedIn)?;
        if !audience.may_read(&dir.facts, &session.me.user_id) {
            return Err(CoreError::input(
                "audience",
                "not a feed this person may see",
            ));
        }
        let r = posts::feed(&self.store.conn(), self.store.sealer(), audience);
        self.checked(r)
    }

    /// One screenful of a feed from the cache: up to `limit` posts older than the post `after`
    /// (`None`: the newest), so a long Class Story opens at once (REQ-OFF-1).
    pub fn feed_page(
        &self,
        audience: &Audience,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CachedPost>, CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let dir = self.directory_arc()?.ok_or(CoreError::NotSignedIn)?;
        if !audience.may_read(&dir.facts, &session.me.user_id) {
            return Err(CoreError::input(
                "audience",
                "not a feed this person may see",
            ));
        }
        let r = posts::feed_page(
            &self.store.conn(),
            self.store.sealer(),
            audience,
            after,
            limit,
        );
        self.checked(r)
    }

    /// A post's photo: from the sealed cache, or downloaded, checked against its hash and
    /// cached within the byte budget (least recently used evicted first).
    #[tracing::instrument(skip_all)]
    pub fn photo_bytes(&self, sha256: &str) -> Result<Vec<u8>, CoreError> {
        if !homeroom_protocol::posts::is_sha256_hex(sha256) {
            return Err(CoreError::input("sha256", "not a lower-case hex SHA-256"));
        }
        let place = format!("media:{sha256}");
        let path = self.cache_path(sha256);
        if let Ok(sealed) = std::fs::read(&path) {
            let plain = self.store.sealer().open(&sealed, &place)?;
            media::touch_cached(&self.store.conn(), sha256, sealed.len() as u64)?;
            return Ok(plain);
        }
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let bytes = self
            .runtime
            .block_on(self.api.media_content(&session.token, sha256))?;
        if sha256_hex(&bytes) != sha256 {
            return Err(CoreError::Protocol("a photo did not match its hash".into()));
        }
        let sealed = self.store.sealer().seal(&bytes, &place)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| CoreError::Io(format!("cannot create the photo cache: {e}")))?;
        }
        let tmp = path.with_extension("part");
        std::fs::write(&tmp, &sealed)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| CoreError::Io(format!("cannot cache a photo: {e}")))?;
        let conn = self.store.conn();
        media::touch_cached(&conn, sha256, sealed.len() as u64)?;
        for old in media::over_budget(&conn, self.photos.cache_budget)? {
            self.drop_cached(&conn, &old)?;
        }
        Ok(bytes)
    }

    /// Whether the sealed download cache holds this photo.
    pub fn photo_cached(&self, sha256: &str) -> bool {
        self.cache_path(sha256).exists()
    }

    /// REQ-CON5: each pupil's restrictions for the pupil picker, from the cached records
    /// (a pupil with no record shows every use as not asked).
    pub fn consent_badges(
        &self,
    ) -> Result<BTreeMap<String, Vec<(ConsentUse, ConsentDenied)>>, CoreError> {
        let dir = self.directory_arc()?.ok_or(CoreError::NotSignedIn)?;
        let records = &dir.consent;
        Ok(dir
            .pupils
            .iter()
            .map(|p| {
                let badges = records.get(&p.id).cloned().unwrap_or_default().badges();
                (p.id.clone(), badges)
            })
            .collect())
    }

    /// The consent records this person may read, from the synced directory (none before the
    /// first sync: every tag is then a no, REQ-CON-1).
    fn consent_records(&self) -> Result<BTreeMap<String, ConsentRecord>, CoreError> {
        Ok(self
            .directory_arc()?
            .map(|d| d.consent.clone())
            .unwrap_or_default())
    }

    /// Admin and leaders: replaces a pupil's consent record on the server (REQ-CON-1); posts it
    /// no longer allows are withdrawn everywhere (CON-4). The device learns it on its next sync.
    pub fn set_consent(&self, pupil_id: &str, record: &ConsentRecord) -> Result<(), CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        self.runtime
            .block_on(self.api.put_consent(&session.token, pupil_id, record))?;
        Ok(())
    }
}
