//! What happened, as the planner needs it: the kind of event, where it belongs, and what a preview may show.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who wrote a message, as a lock screen may name it without a name ("a parent").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderKind {
    Parent,
    Staff,
}

/// The kinds of event that notify someone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum EventKind {
    /// A new message in a conversation; held ones fold into one digest per conversation.
    Message {
        conversation: Uuid,
        from: SenderKind,
    },
    /// A message reported as inappropriate (REQ-MSG-5); held, but never folded with others.
    SafeguardingReport { report: Uuid },
    /// A class announcement.
    ClassAnnouncement { class: Uuid },
    /// A post in a Class Story.
    ClassStoryPost { class: Uuid },
    /// A post in the School Story.
    SchoolStoryPost,
    /// An emergency announcement. It breaks quiet hours only when an admin sent it to the whole
    /// school (REQ-NOT-4); otherwise it is planned as an ordinary school announcement.
    Emergency {
        issued_by_admin: bool,
        school_wide: bool,
    },
}

impl EventKind {
    /// True for the one event allowed to break quiet hours (REQ-NOT-4).
    pub fn breaks_quiet_hours(&self) -> bool {
        matches!(
            self,
            EventKind::Emergency {
                issued_by_admin: true,
                school_wide: true
            }
        )
    }

    /// The lock-screen category of this event.
    pub fn category(&self) -> Category {
        match *self {
            EventKind::Message {
                from: SenderKind::Parent,
                ..
            } => Category::MessageFromParent,
            EventKind::Message {
                from: SenderKind::Staff,
                ..
            } => Category::MessageFromStaff,
            EventKind::SafeguardingReport { .. } => Category::SafeguardingReport,
            EventKind::ClassAnnouncement { .. } => Category::ClassAnnouncement,
            EventKind::ClassStoryPost { .. } => Category::ClassStoryPost,
            EventKind::SchoolStoryPost => Category::SchoolStoryPost,
            kind @ EventKind::Emergency { .. } if kind.breaks_quiet_hours() => Category::Emergency,
            EventKind::Emergency { .. } => Category::SchoolAnnouncement,
        }
    }

    /// The digest a held notification of this event folds into; `None` for events shown alone.
    pub fn digest_key(&self) -> Option<DigestKey> {
        match *self {
            EventKind::Message { conversation, .. } => Some(DigestKey::Conversation(conversation)),
            EventKind::SafeguardingReport { .. } => None,
            EventKind::ClassAnnouncement { class } => Some(DigestKey::ClassAnnouncements(class)),
            EventKind::ClassStoryPost { class } => Some(DigestKey::ClassStory(class)),
            EventKind::SchoolStoryPost => Some(DigestKey::SchoolStory),
            EventKind::Emergency { .. } => Some(DigestKey::SchoolAnnouncements),
        }
    }
}

/// What a held notification folds into: one digest per conversation (REQ-NOT-2) or per feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum DigestKey {
    Conversation(Uuid),
    ClassAnnouncements(Uuid),
    ClassStory(Uuid),
    SchoolStory,
    SchoolAnnouncements,
    /// An event never folded with others (a safeguarding report): its own id.
    Alone(Uuid),
}

/// The generic wording family of a notification, which is all a locked screen shows by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    MessageFromParent,
    MessageFromStaff,
    SafeguardingReport,
    ClassAnnouncement,
    ClassStoryPost,
    SchoolStoryPost,
    SchoolAnnouncement,
    Emergency,
}

/// Text a full preview may show; never shown on a locked screen without opt-in (REQ-NOT-5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPreview {
    /// The sender's display name ("Ms Khan", "Mr Ahmed").
    pub sender_name: String,
    /// The message or post text.
    pub text: String,
    /// The child the event is about, if any.
    pub child_name: Option<String>,
}

/// One event to plan notifications for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyEvent {
    /// The event's id (a message, post or report id); digests list these.
    pub id: Uuid,
    /// When it happened; digests order their events by it.
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub preview: EventPreview,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_kinds_and_digest_keys_round_trip_through_json() {
        let id = Uuid::from_u128(42);
        let kinds = [
            EventKind::Message {
                conversation: id,
                from: SenderKind::Parent,
            },
            EventKind::SafeguardingReport { report: id },
            EventKind::ClassAnnouncement { class: id },
            EventKind::ClassStoryPost { class: id },
            EventKind::SchoolStoryPost,
            EventKind::Emergency {
                issued_by_admin: true,
                school_wide: true,
            },
        ];
        for kind in kinds {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(
                serde_json::from_str::<EventKind>(&json).unwrap(),
                kind,
                "{json}"
            );
            if let Some(key) = kind.digest_key() {
                let json = serde_json::to_string(&key).unwrap();
                assert_eq!(
                    serde_json::from_str::<DigestKey>(&json).unwrap(),
                    key,
                    "{json}"
                );
            }
        }
        assert_eq!(
            serde_json::to_string(&EventKind::SchoolStoryPost).unwrap(),
            r#"{"type":"school_story_post"}"#
        );
        let alone = DigestKey::Alone(id);
        let json = serde_json::to_string(&alone).unwrap();
        assert_eq!(serde_json::from_str::<DigestKey>(&json).unwrap(), alone);
    }
}
