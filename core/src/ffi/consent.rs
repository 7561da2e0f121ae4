//! The consent filter and photo posts across the FFI (REQ-CON-2, CON-3, CON-5): typed verdicts
//! the UI can show, not strings. Thin conversions only; the logic is in [`crate::photos`].

use std::collections::BTreeMap;
use std::time::SystemTime;

use homeroom_protocol::consent::{ConsentDenied, ConsentUse};
use homeroom_protocol::posts::Audience;
use homeroom_protocol::wire::RejectCode;

use super::{HomeroomClient, HomeroomError, PreparedPhoto};
use crate::consent::{BlurredFace, FaceBox};
use crate::photos::{FailedPost, PhotoVerdict};

/// Where a post goes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PhotoAudience {
    ClassStory { class_id: String },
    SchoolStory,
    Portfolio { pupil_id: String },
}

impl From<PhotoAudience> for Audience {
    fn from(a: PhotoAudience) -> Self {
        match a {
            PhotoAudience::ClassStory { class_id } => Audience::ClassStory { class_id },
            PhotoAudience::SchoolStory => Audience::SchoolStory,
            PhotoAudience::Portfolio { pupil_id } => Audience::Portfolio { pupil_id },
        }
    }
}

/// A face box in the pixels of the upright photo the filter looked at.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct FaceRect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    pub score: f32,
}

impl From<FaceBox> for FaceRect {
    fn from(b: FaceBox) -> Self {
        FaceRect {
            x: b.x,
            y: b.y,
            width: b.w,
            height: b.h,
            score: b.score,
        }
    }
}

impl From<FaceRect> for FaceBox {
    fn from(r: FaceRect) -> Self {
        FaceBox {
            x: r.x,
            y: r.y,
            w: r.width,
            h: r.height,
            score: r.score,
        }
    }
}

/// A face the teacher chose to pixelate, and the tagged pupil it is (if any).
#[derive(Debug, Clone, uniffi::Record)]
pub struct BlurChoice {
    pub pupil_id: Option<String>,
    pub face: FaceRect,
}

/// Why consent says no (REQ-CON-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConsentReason {
    Refused,
    NotAsked,
    Disputed,
    InCareWithoutAuthority,
}

impl From<&ConsentDenied> for ConsentReason {
    fn from(d: &ConsentDenied) -> Self {
        match d {
            ConsentDenied::Refused => ConsentReason::Refused,
            ConsentDenied::NotAsked => ConsentReason::NotAsked,
            ConsentDenied::Disputed => ConsentReason::Disputed,
            ConsentDenied::InCareWithoutAuthority => ConsentReason::InCareWithoutAuthority,
        }
    }
}

/// The consent filter's verdict (REQ-CON-2), typed for the UI.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum PhotoCheck {
    /// Post `photo.large.sha256` with exactly `tagged`.
    Allowed {
        photo: PreparedPhoto,
        tagged: Vec<String>,
        faces: Vec<FaceRect>,
    },
    /// Tag or blur each face in `boxes`; or detection could not run on this device.
    NeedsReview {
        untagged_faces: u32,
        boxes: Vec<FaceRect>,
        detection_unavailable: Option<String>,
    },
    /// `pupil_id` may not appear here (`consent_use`, `reason`); blur their face or leave them out.
    Blocked {
        pupil_id: String,
        consent_use: String,
        reason: ConsentReason,
        message: String,
        faces: Vec<FaceRect>,
    },
    /// Only this pixelated copy may be posted (CON-3).
    AllowedAfterBlur {
        photo: PreparedPhoto,
        tagged: Vec<String>,
        boxes: Vec<FaceRect>,
    },
}

fn rects(b: Vec<FaceBox>) -> Vec<FaceRect> {
    b.into_iter().map(Into::into).collect()
}

impl From<PhotoVerdict> for PhotoCheck {
    fn from(v: PhotoVerdict) -> Self {
        let photo = |p: crate::homeroom::PreparedFiles| PreparedPhoto {
            large: p.large.into(),
            thumbnail: p.thumbnail.into(),
        };
        match v {
            PhotoVerdict::Allowed {
                photo: p,
                tagged,
                faces,
            } => PhotoCheck::Allowed {
                photo: photo(p),
                tagged,
                faces: rects(faces),
            },
            PhotoVerdict::NeedsReview {
                untagged_faces,
                boxes,
                detection_unavailable,
            } => PhotoCheck::NeedsReview {
                untagged_faces,
                boxes: rects(boxes),
                detection_unavailable,
            },
            PhotoVerdict::Blocked {
                pupil_id,
                used,
                reason,
                faces,
            } => PhotoCheck::Blocked {
                message: format!("{pupil_id} may not appear here: {reason}"),
                pupil_id,
                consent_use: String::from(used),
                reason: (&reason).into(),
                faces: rects(faces),
            },
            PhotoVerdict::AllowedAfterBlur {
                photo: p,
                tagged,
                boxes,
            } => PhotoCheck::AllowedAfterBlur {
                photo: photo(p),
                tagged,
                boxes: rects(boxes),
            },
        }
    }
}

/// One restriction to badge in the pupil picker (REQ-CON-5).
#[derive(Debug, Clone, uniffi::Record)]
pub struct ConsentBadge {
    pub consent_use: String,
    pub reason: ConsentReason,
    pub message: String,
}

/// A pupil's badges; empty means no restriction.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PupilBadges {
    pub pupil_id: String,
    pub badges: Vec<ConsentBadge>,
}

/// A post as a feed shows it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FeedPost {
    pub id: String,
    pub author: String,
    pub caption: String,
    pub media_sha256: Option<String>,
    pub tagged: Vec<String>,
    pub posted_at: SystemTime,
    /// Still on this device only.
    pub pending: bool,
}

/// Why the server refused a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PostFailureKind {
    ConsentBlocked,
    Forbidden,
    NotFound,
    Invalid,
    MediaMissing,
}

/// A post the server refused; it has been removed from this device.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FailedPostReport {
    pub post_id: String,
    pub kind: PostFailureKind,
    pub reason: String,
}

impl From<FailedPost> for FailedPostReport {
    fn from(f: FailedPost) -> Self {
        FailedPostReport {
            post_id: f.post_id,
            kind: match f.code {
                RejectCode::ConsentBlocked => PostFailureKind::ConsentBlocked,
                RejectCode::Forbidden => PostFailureKind::Forbidden,
                RejectCode::NotFound => PostFailureKind::NotFound,
                RejectCode::Invalid => PostFailureKind::Invalid,
                RejectCode::MediaMissing => PostFailureKind::MediaMissing,
            },
            reason: f.reason,
        }
    }
}

fn badges(map: BTreeMap<String, Vec<(ConsentUse, ConsentDenied)>>) -> Vec<PupilBadges> {
    map.into_iter()
        .map(|(pupil_id, list)| PupilBadges {
            pupil_id,
            badges: list
                .into_iter()
                .map(|(used, why)| ConsentBadge {
                    reason: (&why).into(),
                    message: why.to_string(),
                    consent_use: String::from(used),
                })
                .collect(),
        })
        .collect()
}

#[uniffi::export]
impl HomeroomClient {
    /// Runs the consent filter on the photo at `path` (blocking CPU work: call off the main
    /// thread). `blur` lists faces the teacher chose to pixelate.
    pub fn check_photo(
        &self,
        path: String,
        tagged: Vec<String>,
        audience: PhotoAudience,
        blur: Vec<BlurChoice>,
    ) -> Result<PhotoCheck, HomeroomError> {
        let blurred: Vec<BlurredFace> = blur
            .into_iter()
            .map(|b| BlurredFace {
                pupil_id: b.pupil_id,
                face: b.face.into(),
            })
            .collect();
        Ok(self
            .inner
            .check_photo(
                std::path::Path::new(&path),
                &tagged,
                &audience.into(),
                &blurred,
            )?
            .into())
    }

    /// Posts a photo the filter cleared (its `sha256` and exactly its `tagged`); returns the
    /// post id. Refused with `PhotoNotCleared` otherwise; nothing is queued then.
    pub fn post_photo(
        &self,
        audience: PhotoAudience,
        caption: String,
        sha256: String,
        tagged: Vec<String>,
    ) -> Result<String, HomeroomError> {
        Ok(self
            .inner
            .post_photo(&audience.into(), &caption, &sha256, &tagged)?)
    }

    /// A feed from the cache, newest first.
    pub fn feed(&self, audience: PhotoAudience) -> Result<Vec<FeedPost>, HomeroomError> {
        Ok(self
            .inner
            .feed(&audience.into())?
            .into_iter()
            .map(|p| FeedPost {
                id: p.record.id.to_string(),
                author: p.record.author,
                caption: p.record.caption,
                media_sha256: p.record.media_sha256,
                tagged: p.record.tagged,
                posted_at: p.record.posted_at.into(),
                pending: p.pending,
            })
            .collect())
    }

    /// A post's photo bytes (cached sealed on the device; downloaded when absent).
    pub fn photo_bytes(&self, sha256: String) -> Result<Vec<u8>, HomeroomError> {
        Ok(self.inner.photo_bytes(&sha256)?)
    }

    /// Every visible pupil's consent restrictions, for picker badges (REQ-CON-5).
    pub fn consent_badges(&self) -> Result<Vec<PupilBadges>, HomeroomError> {
        Ok(badges(self.inner.consent_badges()?))
    }
}
