//! Request and response bodies of the `/v1` HTTP API, shared so client and server cannot drift.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{Role, SchoolFacts};
use crate::skills::SkillKind;

/// The API version prefix every route lives under.
pub const API_PREFIX: &str = "/v1";
/// Longest note on an award, in characters (a sentence or two, not an essay).
pub const MAX_NOTE_CHARS: usize = 500;
/// Most pupils one award action may name (a whole class, with room to spare).
pub const MAX_PUPILS_PER_AWARD: usize = 100;
/// Most writes one push may carry; a client sends a long outbox in several pushes.
pub const MAX_WRITES_PER_PUSH: usize = 100;
/// Most changes one pull page returns.
pub const MAX_CHANGES_PER_PAGE: usize = 2_000;
/// Largest request body the server reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How a person proves who they are (REQ-ACC-4: pupils use a code from their teacher).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum SignInRequest {
    Password {
        email: String,
        password: String,
        #[serde(default)]
        device_id: Option<String>,
    },
    PupilCode {
        code: String,
        #[serde(default)]
        device_id: Option<String>,
    },
}

/// A successful sign-in: an opaque bearer token and who it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub me: Me,
}

/// The signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: String,
    pub display_name: String,
    pub role: Role,
    pub school_id: String,
}

/// A batch of client writes, applied in order, each at most once (its `client_id` is the key).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub writes: Vec<ClientWrite>,
}

/// One write from a device's outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientWrite {
    /// Made on the device when the write was queued; the server's idempotency key.
    pub client_id: Uuid,
    pub op: WriteOp,
}

/// What a write does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum WriteOp {
    /// REQ-PTS-2: one skill to one, several or all pupils of a class, with an optional note.
    AwardPoints {
        /// One award per pupil, each with an id made on the device.
        awards: Vec<AwardTarget>,
        skill_id: String,
        #[serde(default)]
        note: Option<String>,
        /// When the teacher pressed the button (device clock; informational only).
        awarded_at: DateTime<Utc>,
    },
    /// REQ-PTS-3: staff of the pupil's class take an award back; it disappears everywhere.
    UndoAward { award_id: Uuid },
    /// REQ-MSG-1: a text message to a parent or a staff member of a shared class; the thread is
    /// the pair's one thread (`messaging::thread_id`).
    SendMessage {
        message_id: Uuid,
        to: String,
        body: String,
        /// Photos and files, each uploaded by hash before the message is sent; the server
        /// refuses the message while any is missing (`RejectCode::MediaMissing`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<crate::attachments::Attachment>,
    },
    /// REQ-MSG-1: the reader has seen every message of the thread sent to them.
    MarkThreadRead { thread_id: Uuid },
    /// REQ-MSG-3: a one-way announcement to every parent of a class, by its class teacher.
    Announce {
        announcement_id: Uuid,
        class_id: String,
        body: String,
    },
    /// REQ-MSG-5: a recipient reports a message; leaders are told at once.
    ReportMessage {
        report_id: Uuid,
        message_id: Uuid,
        #[serde(default)]
        reason: Option<String>,
    },
    /// REQ-STO-1..3: a Class Story, School Story or portfolio post; its tags are re-checked
    /// against consent on the server (REQ-CON-4).
    CreatePost(crate::posts::NewPost),
    /// REQ-STO-4: a comment on a Class Story post or a portfolio item.
    CommentOnPost {
        comment_id: Uuid,
        post_id: Uuid,
        body: String,
    },
    /// REQ-STO-4: the author deletes their comment, or class staff remove it.
    RemoveComment { comment_id: Uuid },
    /// REQ-STO-4: like a post (liking twice is one like).
    LikePost { post_id: Uuid },
    /// REQ-STO-4: take one's like back.
    UnlikePost { post_id: Uuid },
    /// REQ-STO-4: class staff turn comments on a post off (or on again).
    SetCommentsOpen { post_id: Uuid, open: bool },
    /// REQ-PTS-8: class staff set a pupil a learning goal or an EHCP outcome.
    CreateGoal {
        goal_id: Uuid,
        pupil_id: String,
        title: String,
        kind: crate::goals::GoalKind,
        #[serde(default)]
        target: Option<u32>,
    },
    /// REQ-PTS-8: a new title and target (none clears the target).
    UpdateGoal {
        goal_id: Uuid,
        title: String,
        #[serde(default)]
        target: Option<u32>,
    },
    /// REQ-PTS-8: the goal is done with; it leaves the report and takes no more edits.
    ArchiveGoal { goal_id: Uuid },
    /// REQ-PTS-8: a skill of the pupil's class or an item of their portfolio counts towards it.
    LinkGoal {
        goal_id: Uuid,
        link: crate::goals::GoalLink,
    },
    /// REQ-PTS-8: it no longer counts.
    UnlinkGoal {
        goal_id: Uuid,
        link: crate::goals::GoalLink,
    },
}

impl WriteOp {
    /// The goal a goal write edits (REQ-PTS-8); `None` for every other write.
    pub fn goal_id(&self) -> Option<Uuid> {
        match self {
            WriteOp::CreateGoal { goal_id, .. }
            | WriteOp::UpdateGoal { goal_id, .. }
            | WriteOp::ArchiveGoal { goal_id }
            | WriteOp::LinkGoal { goal_id, .. }
            | WriteOp::UnlinkGoal { goal_id, .. } => Some(*goal_id),
            _ => None,
        }
    }
}

/// One pupil of an award action and the id of the award made for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwardTarget {
    pub award_id: Uuid,
    pub pupil_id: String,
}

/// The server's answer to a push: one result per write, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<WriteResult>,
}

/// What happened to one write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteResult {
    pub client_id: Uuid,
    #[serde(flatten)]
    pub outcome: WriteOutcome,
}

/// Accepted now, accepted before (a replay), or refused with a reason the app can show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WriteOutcome {
    Accepted,
    /// This client id was applied before; nothing was applied twice.
    AlreadyApplied,
    Rejected {
        code: RejectCode,
        reason: String,
    },
}

/// Why a write was refused; permanent, so the device rolls the optimistic change back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// The access rules forbid it (REQ-ACC-7).
    Forbidden,
    /// Something it names does not exist (or is not visible to this person).
    NotFound,
    /// It breaks a limit or a shape rule.
    Invalid,
    /// A tagged pupil's photo consent does not allow this audience (REQ-CON-4).
    ConsentBlocked,
    /// It refers to media that has not been uploaded completely yet.
    MediaMissing,
}

/// Query of `GET /v1/pull`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullQuery {
    /// The cursor from the previous pull; 0 for everything.
    #[serde(default)]
    pub since: u64,
    /// The directory version the device holds; the directory is sent only when it differs.
    #[serde(default)]
    pub directory_version: Option<String>,
    /// Which change log `since` counts in (from the last page); a different log means resync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_id: Option<String>,
}

/// One page of changes this person may see, and where to continue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    pub cursor: u64,
    pub has_more: bool,
    /// The change log the cursor counts in; it differs after the server's data was replaced.
    #[serde(default)]
    pub log_id: String,
    /// Present when the device's directory is out of date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<Directory>,
}

/// One entry of the school's change log, as this person may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Award(AwardRecord),
    /// An award was undone (or deleted by retention): devices remove it.
    AwardRemoved {
        award_id: Uuid,
        pupil_id: String,
    },
    /// A message of a thread this person is in (REQ-MSG-1).
    Message(MessageRecord),
    /// A message reached its recipient's device or was read (REQ-MSG-1).
    MessageState(MessageState),
    /// A class announcement (REQ-MSG-3).
    Announcement(AnnouncementRecord),
    /// A post someone may see (REQ-STO-1..3).
    Post(crate::posts::PostRecord),
    /// A post was withdrawn (consent changed, REQ-CON-4): devices remove it and its cached photo.
    PostWithdrawn {
        post_id: Uuid,
        audience: crate::posts::Audience,
    },
    /// A comment on a post this person may read (REQ-STO-4).
    Comment(crate::social::CommentRecord),
    /// A comment was deleted by its author or removed by class staff: devices drop it.
    CommentRemoved {
        comment_id: Uuid,
        post_id: Uuid,
        audience: crate::posts::Audience,
    },
    /// Someone liked a post, or took their like back (REQ-STO-4).
    Like(crate::social::LikeRecord),
    /// Class staff turned comments on a post off or on (REQ-STO-4).
    CommentsOpen {
        post_id: Uuid,
        audience: crate::posts::Audience,
        open: bool,
    },
    /// A pupil's goal as it now stands, links included (REQ-PTS-8): devices replace their copy.
    Goal(crate::goals::GoalRecord),
}

/// One message of a 1:1 thread between a parent and a staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: Uuid,
    pub thread_id: Uuid,
    pub parent_id: String,
    pub staff_id: String,
    pub sender_id: String,
    pub body: String,
    /// The server's clock when it accepted the message.
    pub sent_at: DateTime<Utc>,
    /// Photo and file attachments, in the order attached (REQ-MSG-1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachments::Attachment>,
}

/// Delivery and read state of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageState {
    pub message_id: Uuid,
    pub thread_id: Uuid,
    pub parent_id: String,
    pub staff_id: String,
    #[serde(default)]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub read_at: Option<DateTime<Utc>>,
}

/// A one-way class announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementRecord {
    pub id: Uuid,
    pub class_id: String,
    pub sender_id: String,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

/// A person as the apps name them (thread lists, composer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonInfo {
    pub id: String,
    pub display_name: String,
    pub role: Role,
}

/// `PUT /v1/me/push-device`: where this person's pushes go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushDevice {
    /// `apns` or `fcm` (or `loopback` in tests and the demo).
    pub platform: String,
    pub token: String,
}

/// `POST /v1/messages`: one message sent directly (the outbox path is `WriteOp::SendMessage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    pub message_id: Uuid,
    pub to: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachments::Attachment>,
}

/// A leader's action on a parent's messaging (REQ-MSG-5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationRequest {
    pub reason: String,
}

/// A reported message with its thread, as leaders see it (REQ-MSG-5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageReport {
    pub id: Uuid,
    pub reporter_id: String,
    #[serde(default)]
    pub reason: Option<String>,
    pub reported_at: DateTime<Utc>,
    pub message: MessageRecord,
    /// The whole thread, oldest first, for context.
    pub thread: Vec<MessageRecord>,
    /// Warnings this message's sender has had so far.
    pub sender_warnings: u32,
}

/// A point awarded (or deducted) to one pupil.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardRecord {
    pub id: Uuid,
    pub pupil_id: String,
    pub class_id: String,
    pub skill_id: String,
    pub points: i32,
    #[serde(default)]
    pub note: Option<String>,
    pub awarded_by: String,
    pub awarded_at: DateTime<Utc>,
}

/// The part of the school this person may see: names for the UI and facts for the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    pub version: String,
    pub school_id: String,
    pub school_name: String,
    pub classes: Vec<ClassInfo>,
    pub pupils: Vec<PupilInfo>,
    pub skills: Vec<SkillInfo>,
    /// The slice of the school's facts the shared rules need on this device (REQ-ACC-7).
    pub facts: SchoolFacts,
    /// Names of the people in `facts` (REQ-MSG-1: thread lists and composer).
    #[serde(default)]
    pub people: Vec<PersonInfo>,
    /// This person's own notification settings and the hours of those they may message
    /// (REQ-MSG-4, NOT-2: the device plans with the same hours as the server).
    #[serde(default)]
    pub hours: std::collections::BTreeMap<String, crate::messaging::PersonHours>,
    /// The school's working hours (REQ-NOT-1).
    #[serde(default)]
    pub working_hours: crate::notify::WorkingHours,
    /// What this person's locked screen may show (REQ-NOT-5).
    #[serde(default)]
    pub lock_screen: crate::notify::LockScreenPreview,
    /// Photo consent of the pupils this person may read it for (staff of their class, their own
    /// parents: REQ-CON-1, CON-5). A change gives a new directory version, so devices refetch.
    #[serde(default)]
    pub consent: std::collections::BTreeMap<String, crate::consent::ConsentRecord>,
    /// The school's IANA time zone: report periods ("today", "this week") are the school's
    /// (REQ-PTS-4), so a parent abroad sees the numbers the teacher sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// A class as the apps show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassInfo {
    pub id: String,
    pub name: String,
    pub show_points_to_parents: bool,
}

/// A pupil as the apps show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PupilInfo {
    pub id: String,
    pub display_name: String,
    pub class_id: Option<String>,
}

/// A skill of a class (REQ-PTS-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillInfo {
    pub id: String,
    pub class_id: String,
    pub name: String,
    pub icon: String,
    pub weight: i32,
    pub kind: SkillKind,
    pub category: String,
}

/// The error code of the 401 a person removed from the school gets: their devices purge the
/// school's data on seeing it (REQ-MSG-5).
pub const ACCOUNT_REMOVED: &str = "account_removed";

/// Every error body the server sends: a stable code, words for people, and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Checks an award's shape before anyone stores it: the same limits on device and server.
pub fn validate_award(awards: &[AwardTarget], note: Option<&str>) -> Result<(), (String, String)> {
    if awards.is_empty() {
        return Err(("awards".into(), "name at least one pupil".into()));
    }
    if awards.len() > MAX_PUPILS_PER_AWARD {
        return Err((
            "awards".into(),
            format!("at most {MAX_PUPILS_PER_AWARD} pupils in one award"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for a in awards {
        if !seen.insert(a.pupil_id.as_str()) {
            return Err(("awards".into(), "a pupil is named twice".into()));
        }
    }
    if let Some(n) = note {
        if n.chars().count() > MAX_NOTE_CHARS {
            return Err((
                "note".into(),
                format!("a note is at most {MAX_NOTE_CHARS} characters"),
            ));
        }
    }
    Ok(())
}

/// A freshly issued parent code for one pupil (shown once; the server keeps only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentCode {
    pub pupil_id: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// A new parent joins with the code the school gave them (REQ-ACC-2).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemParentCode {
    pub code: String,
    pub email: String,
    pub password: String,
    pub display_name: String,
    #[serde(default)]
    pub device_id: Option<String>,
}
