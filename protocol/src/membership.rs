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

/// `GET /v1/pupils/{id}/export`: everything the school holds on one pupil (subject access).
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
