//! The restricted safeguarding record (REQ-PRV-5): a copy of each reported message with its
//! thread, made when it is reported, kept apart from retention and pupil erasure, for leaders.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::wire::MessageRecord;

/// One safeguarding report as the record keeps it: who reported what, and the conversation
/// around it with people's names as they were at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafeguardingRecord {
    /// The report's id.
    pub id: Uuid,
    pub reported_at: DateTime<Utc>,
    pub reporter_id: String,
    #[serde(default)]
    pub reason: Option<String>,
    /// The reported message.
    pub message: MessageRecord,
    /// The whole thread up to the report, oldest first.
    pub thread: Vec<MessageRecord>,
    /// Display names of the thread's parent and staff member, by user id.
    pub names: std::collections::BTreeMap<String, String>,
    /// The pupils the parent was linked to when the report was made (whose erasure keeps it).
    pub pupils_concerned: Vec<String>,
}
