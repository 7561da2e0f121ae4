//! Messaging rules both ends share: thread ids, message shape, people's notification settings and
//! the notification events a message or announcement makes (REQ-MSG-1..4, NOT-1..3).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::notify::{
    EventKind, EventPreview, LockScreenPreview, NotifyError, NotifyEvent, NotifySchedule,
    ParentHours, SenderKind, StaffHours, WorkingHours,
};
use crate::wire::{AnnouncementRecord, MessageRecord};

/// Longest message or announcement, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// The namespace thread ids are made in, so device and server name a thread alike offline.
const THREAD_NAMESPACE: Uuid = Uuid::from_u128(0x6b1e_5d0a_93c4_4f7e_8a21_7f0c_2d4e_9b13);

/// The one 1:1 thread between a parent and a staff member (REQ-MSG-1): the same id everywhere.
pub fn thread_id(school_id: &str, parent_id: &str, staff_id: &str) -> Uuid {
    let name = format!("{school_id}\u{1f}{parent_id}\u{1f}{staff_id}");
    Uuid::new_v5(&THREAD_NAMESPACE, name.as_bytes())
}

/// A person's stable UUID for the planner (user ids are text).
pub fn person_uuid(user_id: &str) -> Uuid {
    Uuid::new_v5(
        &THREAD_NAMESPACE,
        format!("person\u{1f}{user_id}").as_bytes(),
    )
}

/// Trims a message body and checks its length; the same limits on device and server.
pub fn validate_body(body: &str) -> Result<String, (String, String)> {
    let body = body.trim();
    if body.is_empty() {
        return Err(("body".into(), "write a message first".into()));
    }
    if body.chars().count() > MAX_MESSAGE_CHARS {
        return Err((
            "body".into(),
            format!("a message is at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    Ok(body.to_owned())
}

/// A person's hours: staff have quiet hours and teaching periods, parents optional quiet hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PersonHours {
    Staff(StaffHours),
    Parent(ParentHours),
}

impl PersonHours {
    /// The defaults of REQ-NOT-1 (staff: 17:00–08:00 and weekends) or REQ-NOT-3 (parents: none).
    pub fn default_for(is_staff: bool, time_zone: Tz) -> Self {
        Self::default_in(&WorkingHours::default(), is_staff, time_zone)
    }

    /// The defaults in a school with these working hours: staff are quiet whenever it is closed
    /// (REQ-NOT-1), parents have no quiet hours until they set some (REQ-NOT-3).
    pub fn default_in(school: &WorkingHours, is_staff: bool, time_zone: Tz) -> Self {
        if is_staff {
            PersonHours::Staff(StaffHours::following(school, time_zone))
        } else {
            PersonHours::Parent(ParentHours {
                time_zone,
                quiet: None,
            })
        }
    }

    /// Compiles the hours into the planner's schedule; hours that are always quiet are refused.
    pub fn schedule(&self) -> Result<NotifySchedule, NotifyError> {
        match self {
            PersonHours::Staff(h) => NotifySchedule::for_staff(h),
            PersonHours::Parent(h) => NotifySchedule::for_parent(h),
        }
    }

    /// The person's IANA time zone.
    pub fn time_zone(&self) -> Tz {
        match self {
            PersonHours::Staff(h) => h.time_zone,
            PersonHours::Parent(h) => h.time_zone,
        }
    }
}

/// What one person set for notifications: their hours and what a locked screen may show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifySettings {
    pub hours: PersonHours,
    #[serde(default)]
    pub lock_screen: LockScreenPreview,
}

/// The notification event of a message, built alike by the server's push scheduler and the
/// phone's local notifications (REQ-NOT-2).
pub fn message_event(
    m: &MessageRecord,
    sender_name: &str,
    child_name: Option<&str>,
) -> NotifyEvent {
    let from = if m.sender_id == m.staff_id {
        SenderKind::Staff
    } else {
        SenderKind::Parent
    };
    NotifyEvent {
        id: m.id,
        at: m.sent_at,
        kind: EventKind::Message {
            conversation: m.thread_id,
            from,
        },
        preview: EventPreview {
            sender_name: sender_name.to_owned(),
            text: m.body.clone(),
            child_name: child_name.map(str::to_owned),
        },
    }
}

/// The notification event of a class announcement (REQ-MSG-3).
pub fn announcement_event(a: &AnnouncementRecord, sender_name: &str) -> NotifyEvent {
    NotifyEvent {
        id: a.id,
        at: a.sent_at,
        kind: EventKind::ClassAnnouncement {
            class: class_uuid(&a.class_id),
        },
        preview: EventPreview {
            sender_name: sender_name.to_owned(),
            text: a.body.clone(),
            child_name: None,
        },
    }
}

/// `POST /v1/emergencies`: the admin's school-wide emergency announcement (REQ-NOT-4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyRequest {
    /// Chosen by the sender, so a retried request is not a second emergency.
    pub emergency_id: Uuid,
    pub body: String,
}

/// An emergency as recorded, and how many people it was sent to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyRecord {
    pub id: Uuid,
    pub sent_by: String,
    pub body: String,
    pub sent_at: DateTime<Utc>,
    /// Parents and staff of the school it was planned for.
    pub recipients: u32,
}

/// The notification event of an admin's school-wide emergency: the one event that breaks
/// quiet hours, marked as such (REQ-NOT-4).
pub fn emergency_event(e: &EmergencyRecord, sender_name: &str) -> NotifyEvent {
    NotifyEvent {
        id: e.id,
        at: e.sent_at,
        kind: EventKind::Emergency {
            issued_by_admin: true,
            school_wide: true,
        },
        preview: EventPreview {
            sender_name: sender_name.to_owned(),
            text: e.body.clone(),
            child_name: None,
        },
    }
}

/// A class's stable UUID for digest keys (class ids are text).
pub fn class_uuid(class_id: &str) -> Uuid {
    Uuid::new_v5(
        &THREAD_NAMESPACE,
        format!("class\u{1f}{class_id}").as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_id_is_stable_and_distinct_per_pair() {
        let a = thread_id("s", "pa1", "tA");
        assert_eq!(a, thread_id("s", "pa1", "tA"));
        assert_ne!(a, thread_id("s", "pa1", "sA"));
        assert_ne!(a, thread_id("s", "tA", "pa1"));
    }

    #[test]
    fn bodies_are_trimmed_and_limited() {
        assert_eq!(validate_body("  hi  ").unwrap(), "hi");
        assert!(validate_body("   ").is_err());
        assert!(validate_body(&"x".repeat(MAX_MESSAGE_CHARS + 1)).is_err());
    }

    #[test]
    fn default_staff_hours_are_quiet_at_night() {
        let h = PersonHours::default_for(true, chrono_tz::Europe::London);
        let s = h.schedule().unwrap();
        let night = "2026-03-04T21:30:00Z".parse().unwrap();
        assert!(s.is_quiet_at(night).unwrap());
        let parent = PersonHours::default_for(false, chrono_tz::Europe::London);
        assert!(!parent.schedule().unwrap().is_quiet_at(night).unwrap());
    }
}
