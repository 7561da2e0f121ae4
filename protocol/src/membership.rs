//! Wire types for membership and data protection: adding and removing pupils (REQ-ACC-1),
//! exporting and erasing a pupil (REQ-PRV-4), and the audit log of admin and leader actions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::wire::AwardRecord;

/// Longest display name a person or pupil may have, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 80;

/// `POST /v1/classes/{class_id}/pupils`: a pupil joins a class, also part way through the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddPupilRequest {
    pub display_name: String,
}

/// Most teachers or support staff a new class may name.
pub const MAX_CLASS_STAFF: usize = 20;

/// `POST /v1/classes`: a new class of the school (REQ-ACC-1). A teacher who creates a class
/// teaches it; the admin and leaders name its teachers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateClassRequest {
    pub name: String,
    #[serde(default)]
    pub teacher_ids: Vec<String>,
    /// Support staff of the class.
    #[serde(default)]
    pub staff_ids: Vec<String>,
    /// Whether parents see their child's points (REQ-PTS-5); on unless said otherwise.
    #[serde(default = "default_true")]
    pub show_points_to_parents: bool,
}

fn default_true() -> bool {
    true
}

/// The class as created, with the school's default skills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedClass {
    pub class_id: String,
    pub name: String,
    pub teacher_ids: Vec<String>,
    pub staff_ids: Vec<String>,
    pub show_points_to_parents: bool,
    pub skills: usize,
}

/// The new pupil, with the sign-in code the teacher hands them (shown once, stored hashed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedPupil {
    pub pupil_id: String,
    pub display_name: String,
    pub class_id: String,
    pub pupil_code: String,
}

/// `DELETE /v1/classes/{class_id}/pupils/{pupil_id}`: the pupil has left the class, and their
/// family with them; the records stay (for export, then erasure) but grant nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedPupil {
    pub pupil_id: String,
    pub class_id: String,
    /// Parents who no longer see anything of this pupil.
    pub parents_removed: Vec<String>,
}

/// `POST /v1/users/{id}/school-removal`: what removing a parent from the school ended
/// (REQ-MSG-5): their links to pupils and their sessions; their devices purge on the next sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedParent {
    pub parent_id: String,
    /// Pupils the parent is no longer linked to.
    pub pupils_unlinked: Vec<String>,
    pub sessions_ended: u64,
}

/// One parent of an exported pupil, as the school holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedParent {
    pub id: String,
    pub display_name: String,
    pub email: Option<String>,
}

/// `GET /v1/pupils/{id}/export`: everything the school holds on one pupil (subject access,
/// REQ-PRV-4). Conversations are between a parent and a member of staff, not about one pupil, so
/// they are not here: each thread has its own export (REQ-MSG-6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PupilExport {
    pub exported_at: DateTime<Utc>,
    pub exported_by: String,
    pub pupil_id: String,
    pub display_name: String,
    pub class_id: Option<String>,
    pub parents: Vec<ExportedParent>,
    pub awards: Vec<AwardRecord>,
    /// Learning goals and EHCP outcomes, archived ones too (REQ-PTS-8).
    #[serde(default)]
    pub goals: Vec<crate::goals::GoalRecord>,
    /// Requests to join as a parent (approved, declined or pending) that name this pupil.
    #[serde(default)]
    pub parent_requests: Vec<ExportedParentRequest>,
    /// Today's photo consent, if one was ever recorded.
    #[serde(default)]
    pub consent: Option<ExportedConsent>,
    /// Every consent record the pupil has had, oldest first (today's is the last).
    #[serde(default)]
    pub consent_history: Vec<ExportedConsent>,
    /// The pupil's portfolio items, withdrawn ones too, with their comments and likes.
    #[serde(default)]
    pub portfolio: Vec<ExportedPost>,
    /// Class and School Story posts the pupil is tagged in (their comments are other people's
    /// words about the class, not the pupil's data, and stay out).
    #[serde(default)]
    pub tagged_posts: Vec<ExportedPost>,
    /// The photos of those posts; the archive (`GET /v1/pupils/{id}/export/archive`) holds their
    /// bytes as `media/<sha256>`.
    #[serde(default)]
    pub media: Vec<ExportedMedia>,
    /// Points reports shared with the pupil's parents, as they were shared (REQ-PTS-4).
    #[serde(default)]
    pub report_shares: Vec<crate::reports::SharedReport>,
}

/// A request to join as a parent of the exported pupil (REQ-ACC-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedParentRequest {
    pub parent_id: String,
    pub status: String,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// One consent record as it was set, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedConsent {
    pub record: crate::consent::ConsentRecord,
    pub updated_by: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A post showing or about the pupil, as the school holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedPost {
    pub post: crate::posts::PostRecord,
    /// Hidden from everyone after a consent change (REQ-CON-4), still held until erasure.
    pub withdrawn: bool,
    pub comments: Vec<ExportedComment>,
    pub likes: Vec<ExportedLike>,
}

/// A comment on the pupil's portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedComment {
    pub id: String,
    pub author: String,
    pub body: String,
    pub commented_at: DateTime<Utc>,
}

/// A like on the pupil's portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedLike {
    pub user_id: String,
    pub liked_at: DateTime<Utc>,
}

/// A photo the export names, by content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedMedia {
    pub sha256: String,
    pub size: u64,
}

/// `DELETE /v1/pupils/{id}`: what erasing a pupil who has left removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedPupil {
    pub pupil_id: String,
    pub awards_deleted: u64,
    /// Learning goals and EHCP outcomes erased (REQ-PTS-8).
    #[serde(default)]
    pub goals_deleted: u64,
    pub parent_links_deleted: u64,
    /// Messages of parents the erasure left with no child at the school.
    #[serde(default)]
    pub messages_deleted: u64,
    /// Portfolio items and posts the pupil was tagged in.
    #[serde(default)]
    pub posts_deleted: u64,
    /// Comments on those posts.
    #[serde(default)]
    pub comments_deleted: u64,
    /// Photo files removed from the media store (those no other post or message still shows).
    #[serde(default)]
    pub media_files_deleted: u64,
    /// Consent records: today's and its history.
    #[serde(default)]
    pub consent_records_deleted: u64,
    #[serde(default)]
    pub report_shares_deleted: u64,
}

/// One admin or leader action, as `GET /v1/audit` lists it (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor_id: String,
    pub action: String,
    pub target: String,
}

/// Checks a display name: trimmed, 1–80 characters, no control characters.
pub fn validate_display_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a name is needed".into());
    }
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(format!(
            "a name is at most {MAX_DISPLAY_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("a name cannot contain control characters".into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(validate_display_name("  Priya ").unwrap(), "Priya");
        assert!(validate_display_name("   ").is_err());
        assert!(validate_display_name(&"x".repeat(81)).is_err());
        assert!(validate_display_name("a\u{0}b").is_err());
        assert!(validate_display_name(&"é".repeat(80)).is_ok());
    }
}
