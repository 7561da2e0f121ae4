//! Photo posts (REQ-STO-1..3) and their consent check (REQ-CON-2, CON-4): where a post is seen,
//! which consent use that needs for each tagged pupil, and the media it points at.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{can, Action, SchoolFacts, Target};
use crate::consent::{ConsentDenied, ConsentRecord, ConsentUse};

/// Largest photo the server stores (a 2048 px JPEG is well under 1 MB; room for video later).
pub const MAX_MEDIA_BYTES: u64 = 20 * 1024 * 1024;
/// Size of one upload chunk: small enough to resume cheaply on a bus, big enough to be quick.
pub const MEDIA_CHUNK_BYTES: usize = 256 * 1024;
/// Longest caption, in characters.
pub const MAX_CAPTION_CHARS: usize = 2000;
/// Most pupils one post may tag.
pub const MAX_TAGS: usize = 100;

/// Where a post is seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "feed", rename_all = "snake_case", deny_unknown_fields)]
pub enum Audience {
    /// A class's private feed (REQ-STO-1): the class, its families, staff and leaders.
    ClassStory { class_id: String },
    /// The whole school (REQ-STO-2).
    SchoolStory,
    /// One pupil's portfolio (REQ-STO-3): the pupil, their family, class staff and leaders.
    Portfolio { pupil_id: String },
}

impl Audience {
    /// The consent use a photo of `pupil_id` needs to be seen here. In a portfolio the owner
    /// needs "own portfolio"; anyone else in the photo would be seen by another family, which is
    /// the Class Story use (REQ-CON-1: only the family-agreed scope, never wider).
    pub fn consent_use(&self, pupil_id: &str) -> ConsentUse {
        match self {
            Audience::ClassStory { .. } => ConsentUse::ClassStory,
            Audience::SchoolStory => ConsentUse::SchoolStory,
            Audience::Portfolio { pupil_id: owner } if owner == pupil_id => {
                ConsentUse::OwnPortfolio
            }
            Audience::Portfolio { .. } => ConsentUse::ClassStory,
        }
    }

    /// Whether `actor` may post here (REQ-STO-1..3, ACC-7).
    pub fn may_post(&self, facts: &SchoolFacts, actor: &str) -> crate::access::Decision {
        match self {
            Audience::ClassStory { class_id } => can(
                facts,
                Some(actor),
                Action::PostStory,
                &Target::Class(class_id),
            ),
            Audience::SchoolStory => {
                let school = facts
                    .users
                    .get(actor)
                    .map(|u| u.school_id.clone())
                    .unwrap_or_default();
                can(
                    facts,
                    Some(actor),
                    Action::PostSchoolStory,
                    &Target::School(&school),
                )
            }
            Audience::Portfolio { pupil_id } => can(
                facts,
                Some(actor),
                Action::AddPortfolioItem,
                &Target::Pupil(pupil_id),
            ),
        }
    }

    /// Whether `actor` may see a post here (REQ-STO-1..3, ACC-5).
    pub fn may_read(&self, facts: &SchoolFacts, actor: &str) -> bool {
        match self {
            Audience::ClassStory { class_id } => can(
                facts,
                Some(actor),
                Action::ReadStory,
                &Target::Class(class_id),
            )
            .is_ok(),
            Audience::SchoolStory => facts.users.get(actor).is_some_and(|u| {
                can(
                    facts,
                    Some(actor),
                    Action::ReadSchoolStory,
                    &Target::School(&u.school_id),
                )
                .is_ok()
            }),
            Audience::Portfolio { pupil_id } => can(
                facts,
                Some(actor),
                Action::ReadPortfolio,
                &Target::Pupil(pupil_id),
            )
            .is_ok(),
        }
    }
}

/// A tagged pupil who may not appear in a post, and why: the typed refusal both sides give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentBlock {
    pub pupil_id: String,
    pub used: ConsentUse,
    pub reason: ConsentDenied,
}

impl std::fmt::Display for ConsentBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "blocked: {} may not appear here ({})",
            self.pupil_id, self.reason
        )
    }
}

/// Checks every tagged pupil against their record for this audience (REQ-CON-2, CON-4); a pupil
/// with no record is a no. The first refusal, in tag order, is returned.
pub fn check_post_tags(
    records: &BTreeMap<String, ConsentRecord>,
    tagged: &[String],
    audience: &Audience,
) -> Result<(), ConsentBlock> {
    for pupil in tagged {
        let used = audience.consent_use(pupil);
        let verdict = match records.get(pupil) {
            Some(r) => r.allows(&used),
            None => Err(ConsentDenied::NotAsked),
        };
        if let Err(reason) = verdict {
            return Err(ConsentBlock {
                pupil_id: pupil.clone(),
                used,
                reason,
            });
        }
    }
    Ok(())
}

/// A post as a device writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    pub post_id: Uuid,
    pub audience: Audience,
    #[serde(default)]
    pub caption: String,
    /// SHA-256 (lower-case hex) of the uploaded photo; it must be uploaded completely first.
    #[serde(default)]
    pub media_sha256: Option<String>,
    /// Pupils in the photo; each is re-checked against consent on the server (REQ-CON-4).
    #[serde(default)]
    pub tagged: Vec<String>,
}

/// A post as the server logs it and devices cache it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostRecord {
    pub id: Uuid,
    pub audience: Audience,
    pub author: String,
    pub caption: String,
    #[serde(default)]
    pub media_sha256: Option<String>,
    #[serde(default)]
    pub tagged: Vec<String>,
    pub posted_at: DateTime<Utc>,
}

/// Where an upload stands: how many bytes the server holds, in order from the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaStatus {
    pub sha256: String,
    pub size: u64,
    /// Bytes acknowledged; the next chunk starts here.
    pub received: u64,
    /// All bytes arrived and their SHA-256 matched.
    pub complete: bool,
}

/// Body of `POST /v1/media/{sha256}`: start (or look up) an upload of `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartUpload {
    pub size: u64,
}

/// Whether `s` is a lower-case hex SHA-256.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks a post's shape before anyone stores it: the same limits on device and server.
pub fn validate_post(p: &NewPost) -> Result<(), (String, String)> {
    if p.caption.chars().count() > MAX_CAPTION_CHARS {
        return Err((
            "caption".into(),
            format!("a caption is at most {MAX_CAPTION_CHARS} characters"),
        ));
    }
    if p.tagged.len() > MAX_TAGS {
        return Err(("tagged".into(), format!("at most {MAX_TAGS} tags")));
    }
    let mut seen = std::collections::HashSet::new();
    if p.tagged.iter().any(|t| !seen.insert(t.as_str())) {
        return Err(("tagged".into(), "a pupil is tagged twice".into()));
    }
    match &p.media_sha256 {
        Some(h) if !is_sha256_hex(h) => {
            Err(("media_sha256".into(), "not a lower-case hex SHA-256".into()))
        }
        None if p.caption.trim().is_empty() => {
            Err(("caption".into(), "a post needs a photo or words".into()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::ConsentState;

    fn records() -> BTreeMap<String, ConsentRecord> {
        crate::fixture::consent()
    }

    #[test]
    fn restricted_pupil_blocks_class_story_but_not_their_own_portfolio() {
        // REQ-CON-1, CON-2: a2's family agreed "own family's portfolio only".
        let r = records();
        let class = Audience::ClassStory {
            class_id: "classA".into(),
        };
        let err = check_post_tags(&r, &["a1".into(), "a2".into()], &class).unwrap_err();
        assert_eq!(err.pupil_id, "a2");
        assert_eq!(err.used, ConsentUse::ClassStory);
        let own = Audience::Portfolio {
            pupil_id: "a2".into(),
        };
        assert_eq!(check_post_tags(&r, &["a2".into()], &own), Ok(()));
        // In a1's portfolio a2 would be seen by a1's family: not allowed.
        let other = Audience::Portfolio {
            pupil_id: "a1".into(),
        };
        assert!(check_post_tags(&r, &["a1".into(), "a2".into()], &other).is_err());
        assert_eq!(
            r["a1"].state(&ConsentUse::ClassStory),
            ConsentState::Granted
        );
    }

    #[test]
    fn a_post_needs_words_or_a_photo_and_a_real_hash() {
        let mut p = NewPost {
            post_id: Uuid::nil(),
            audience: Audience::SchoolStory,
            caption: " ".into(),
            media_sha256: None,
            tagged: vec![],
        };
        assert!(validate_post(&p).is_err());
        p.media_sha256 = Some("ABC".into());
        assert!(validate_post(&p).is_err());
        p.media_sha256 = Some("a".repeat(64));
        assert_eq!(validate_post(&p), Ok(()));
        p.tagged = vec!["a1".into(), "a1".into()];
        assert!(validate_post(&p).is_err());
    }
}
