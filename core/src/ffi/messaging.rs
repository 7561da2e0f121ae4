//! The UniFFI surface of messaging (REQ-MSG-1..7, NOT-1..5): records, listeners and thin calls
//! into [`crate::messaging`]. No logic lives here.

use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use homeroom_protocol::messaging::{NotifySettings, PersonHours};
use homeroom_protocol::notify::{
    parse_time_zone, DailySpan, LockScreenPreview, ParentHours, QuietHours, StaffHours,
};

use super::{HomeroomClient, HomeroomError, Subscription};
use crate::error::CoreError;
use crate::messaging::{ComposerHint, LocalPlan, NewAttachment, RoutingTopic, ThreadSummary};
use crate::store::messages::{CachedAnnouncement, CachedMessage};
use crate::views::ViewUpdate;

/// One message of a conversation.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Message {
    pub id: String,
    pub thread_id: String,
    pub sender_id: String,
    pub body: String,
    pub sent_at: SystemTime,
    /// Reached the recipient's device.
    pub delivered_at: Option<SystemTime>,
    pub read_at: Option<SystemTime>,
    /// Not yet accepted by the server.
    pub pending: bool,
    /// Photos and files, in the order attached; fetch one with `attachmentBytes` (REQ-MSG-1).
    pub attachments: Vec<MessageAttachment>,
}

/// What an attachment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AttachmentKind {
    /// Went through the photo pipeline: upright, no metadata, compressed.
    Photo,
    /// A PDF, Word document or plain text file, as it was.
    File,
}

/// One attachment of a message.
#[derive(Debug, Clone, uniffi::Record)]
pub struct MessageAttachment {
    /// SHA-256 of the bytes (lower-case hex): what `attachmentBytes` takes.
    pub sha256: String,
    pub kind: AttachmentKind,
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

/// Something to attach to a message being written.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum OutgoingAttachment {
    /// A camera or gallery file (JPEG, PNG, WebP; iOS converts HEIC first).
    Photo { path: String },
    /// A file sent as it is: `application/pdf`, Word (`.docx`) or `text/plain`, up to 10 MB.
    File {
        path: String,
        name: String,
        content_type: String,
    },
}

/// One row of the conversation list.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Conversation {
    pub thread_id: String,
    pub other_id: String,
    pub other_name: String,
    pub last_body: String,
    pub last_at: SystemTime,
    pub last_from_me: bool,
    pub unread: u32,
}

/// A class announcement.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Announcement {
    pub id: String,
    pub class_id: String,
    pub sender_id: String,
    pub body: String,
    pub sent_at: SystemTime,
    pub pending: bool,
}

/// What the composer shows about the recipient (REQ-MSG-4).
#[derive(Debug, Clone, uniffi::Record)]
pub struct ComposerHints {
    pub quiet_hours: String,
    pub reply_window: Option<String>,
    pub notified_at: SystemTime,
    pub notified_when: Option<String>,
}

/// What a draft seems to be about (REQ-MSG-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DraftTopic {
    Appointments,
    Attendance,
    Send,
}

/// A hint to contact the school office, worked out on the phone.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OfficeHint {
    pub topic: DraftTopic,
    pub text: String,
}

/// A local notification to show now or schedule (REQ-NOT-2, NOT-5).
#[derive(Debug, Clone, uniffi::Record)]
pub struct LocalNotification {
    pub deliver_at: SystemTime,
    pub title: String,
    pub body: String,
    /// The message ids it stands for (several for a digest).
    pub events: Vec<String>,
    /// Marked as an emergency announcement (REQ-NOT-4).
    pub emergency: bool,
}

/// One's own notification settings, as a settings screen edits them (REQ-NOT-1, NOT-3, NOT-5).
#[derive(Debug, Clone, uniffi::Record)]
pub struct NotifyPreferences {
    /// IANA zone, e.g. "Europe/London".
    pub time_zone: String,
    /// "17:00" and "08:00"; both absent for no nightly quiet hours.
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    /// Whole quiet days: "Sat", "Sun".
    pub quiet_days: Vec<String>,
    /// Opt-in: show names and message text on the locked screen.
    pub show_previews_when_locked: bool,
}

/// A change to a list view: the whole list first, then differences by id.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum ConversationsUpdate {
    Snapshot {
        items: Vec<Conversation>,
    },
    Changes {
        inserted: Vec<Conversation>,
        updated: Vec<Conversation>,
        removed: Vec<String>,
    },
}

/// A change to one conversation's messages.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum MessagesUpdate {
    Snapshot {
        items: Vec<Message>,
    },
    Changes {
        inserted: Vec<Message>,
        updated: Vec<Message>,
        removed: Vec<String>,
    },
}

/// Told about the conversation list; called on a core thread, never under a core lock.
#[uniffi::export(with_foreign)]
pub trait ConversationsListener: Send + Sync {
    fn on_conversations_update(&self, update: ConversationsUpdate);
}

/// Told about one conversation's messages.
#[uniffi::export(with_foreign)]
pub trait MessagesListener: Send + Sync {
    fn on_messages_update(&self, thread_id: String, update: MessagesUpdate);
}

fn time(t: DateTime<Utc>) -> SystemTime {
    t.into()
}

fn to_message(m: &CachedMessage) -> Message {
    Message {
        id: m.record.id.to_string(),
        thread_id: m.record.thread_id.to_string(),
        sender_id: m.record.sender_id.clone(),
        body: m.record.body.clone(),
        sent_at: time(m.record.sent_at),
        delivered_at: m.delivered_at.map(time),
        read_at: m.read_at.map(time),
        pending: m.pending,
        attachments: m
            .record
            .attachments
            .iter()
            .map(|a| MessageAttachment {
                sha256: a.sha256.clone(),
                kind: match a.kind {
                    homeroom_protocol::attachments::AttachmentKind::Photo => AttachmentKind::Photo,
                    homeroom_protocol::attachments::AttachmentKind::File => AttachmentKind::File,
                },
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
            })
            .collect(),
    }
}

fn to_new_attachment(a: OutgoingAttachment) -> NewAttachment {
    match a {
        OutgoingAttachment::Photo { path } => NewAttachment::Photo { path: path.into() },
        OutgoingAttachment::File {
            path,
            name,
            content_type,
        } => NewAttachment::File {
            path: path.into(),
            name,
            content_type,
        },
    }
}

fn to_conversation(t: &ThreadSummary) -> Conversation {
    Conversation {
        thread_id: t.thread_id.to_string(),
        other_id: t.other_id.clone(),
        other_name: t.other_name.clone(),
        last_body: t.last_body.clone(),
        last_at: time(t.last_at),
        last_from_me: t.last_from_me,
        unread: t.unread,
    }
}

fn to_announcement(a: &CachedAnnouncement) -> Announcement {
    Announcement {
        id: a.record.id.to_string(),
        class_id: a.record.class_id.clone(),
        sender_id: a.record.sender_id.clone(),
        body: a.record.body.clone(),
        sent_at: time(a.record.sent_at),
        pending: a.pending,
    }
}

fn to_hints(h: ComposerHint) -> ComposerHints {
    ComposerHints {
        quiet_hours: h.quiet_hours,
        reply_window: h.reply_window,
        notified_at: time(h.notified_at),
        notified_when: h.notified_when,
    }
}

fn to_local(plan: LocalPlan, now: DateTime<Utc>) -> Vec<LocalNotification> {
    let mut out: Vec<LocalNotification> = plan
        .now
        .iter()
        .map(|p| LocalNotification {
            deliver_at: time(p.decision.shown_at(now)),
            title: p.content.title.clone(),
            body: p.content.body.clone(),
            events: vec![p.event.to_string()],
            emergency: p.emergency,
        })
        .collect();
    out.extend(plan.digests.iter().map(|d| LocalNotification {
        deliver_at: time(d.deliver_at),
        title: d.content.title.clone(),
        body: d.content.body.clone(),
        events: d.events.iter().map(|e| e.to_string()).collect(),
        emergency: false,
    }));
    out
}

/// The same update with each item converted for the app.
fn map_update<T, U>(update: ViewUpdate<T>, f: impl Fn(&T) -> U) -> ViewUpdate<U> {
    match update {
        ViewUpdate::Snapshot(items) => ViewUpdate::Snapshot(items.iter().map(&f).collect()),
        ViewUpdate::Changes {
            inserted,
            updated,
            removed,
        } => ViewUpdate::Changes {
            inserted: inserted.iter().map(&f).collect(),
            updated: updated.iter().map(&f).collect(),
            removed,
        },
    }
}

/// Builds the settings the server keeps from what the settings screen edits.
fn to_settings(prefs: NotifyPreferences, staff: bool) -> Result<NotifySettings, CoreError> {
    let bad = |field: &str, e: String| CoreError::input(field, e);
    let time_zone =
        parse_time_zone(&prefs.time_zone).map_err(|e| bad("time_zone", e.to_string()))?;
    let daily = match (prefs.quiet_start, prefs.quiet_end) {
        (Some(s), Some(e)) => Some(
            DailySpan::new(
                s.parse()
                    .map_err(|e: homeroom_protocol::notify::NotifyError| {
                        bad("quiet_start", e.to_string())
                    })?,
                e.parse()
                    .map_err(|e: homeroom_protocol::notify::NotifyError| {
                        bad("quiet_end", e.to_string())
                    })?,
            )
            .map_err(|e| bad("quiet_end", e.to_string()))?,
        ),
        (None, None) => None,
        _ => return Err(bad("quiet_end", "give both a start and an end".into())),
    };
    let whole_days = prefs
        .quiet_days
        .iter()
        .map(|d| {
            d.parse::<chrono::Weekday>()
                .map_err(|_| bad("quiet_days", format!("{d:?} is not a day")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let quiet = QuietHours { daily, whole_days };
    let hours = if staff {
        let mut h = StaffHours::new(time_zone);
        h.quiet = quiet;
        PersonHours::Staff(h)
    } else {
        let none = quiet.daily.is_none() && quiet.whole_days.is_empty();
        PersonHours::Parent(ParentHours {
            time_zone,
            quiet: (!none).then_some(quiet),
        })
    };
    Ok(NotifySettings {
        hours,
        lock_screen: if prefs.show_previews_when_locked {
            LockScreenPreview::Full
        } else {
            LockScreenPreview::Generic
        },
    })
}

#[uniffi::export]
impl HomeroomClient {
    /// Sends a text message: shown at once as pending, sent on the next sync. A pupil, a parent
    /// of another class or removed messaging is refused here with `NotAllowed` (REQ-MSG-1, MSG-2).
    pub fn send_message(&self, to: String, body: String) -> Result<Message, HomeroomError> {
        Ok(to_message(&self.inner.send_message(&to, &body)?))
    }

    /// Sends a message with photo and file attachments (REQ-MSG-1): photos go through the photo
    /// pipeline, files must be PDF, Word or plain text up to 10 MB (else `InvalidAttachment`,
    /// nothing queued). Shown at once as pending; the attachments upload in resumable chunks
    /// and the message follows them on the next sync.
    pub fn send_message_with_attachments(
        &self,
        to: String,
        body: String,
        attachments: Vec<OutgoingAttachment>,
    ) -> Result<Message, HomeroomError> {
        let new: Vec<NewAttachment> = attachments.into_iter().map(to_new_attachment).collect();
        Ok(to_message(&self.inner.send_message_with(&to, &body, &new)?))
    }

    /// The bytes of one attachment of a message: from the sealed cache or downloaded and checked
    /// against its hash (REQ-MSG-1).
    pub fn attachment_bytes(
        &self,
        message_id: String,
        sha256: String,
    ) -> Result<Vec<u8>, HomeroomError> {
        Ok(self.inner.attachment_bytes(&message_id, &sha256)?)
    }

    /// Marks a conversation read (the sender learns it on their next sync).
    pub fn mark_conversation_read(&self, thread_id: String) -> Result<(), HomeroomError> {
        Ok(self.inner.mark_thread_read(&thread_id)?)
    }

    /// This person's conversations, latest first.
    pub fn conversations(&self) -> Result<Vec<Conversation>, HomeroomError> {
        Ok(self.inner.threads()?.iter().map(to_conversation).collect())
    }

    /// One conversation's messages, oldest first.
    pub fn messages(&self, thread_id: String) -> Result<Vec<Message>, HomeroomError> {
        Ok(self
            .inner
            .thread(&thread_id)?
            .iter()
            .map(to_message)
            .collect())
    }

    /// The conversation id shared with `other_id`.
    pub fn conversation_with(&self, other_id: String) -> Result<String, HomeroomError> {
        Ok(self.inner.thread_with(&other_id)?)
    }

    /// A one-way announcement to the parents of a class (class teacher; REQ-MSG-3).
    pub fn announce(&self, class_id: String, body: String) -> Result<Announcement, HomeroomError> {
        Ok(to_announcement(&self.inner.announce(&class_id, &body)?))
    }

    /// Announcements, newest first.
    pub fn announcements(&self) -> Result<Vec<Announcement>, HomeroomError> {
        Ok(self
            .inner
            .announcements()?
            .iter()
            .map(to_announcement)
            .collect())
    }

    /// Reports a message sent to this person as inappropriate (REQ-MSG-5); the school's leaders
    /// get it with the thread on the next sync. One's own message or an unknown id is
    /// `InvalidInput`; a pupil is `NotAllowed`.
    pub fn report_message(
        &self,
        message_id: String,
        reason: Option<String>,
    ) -> Result<(), HomeroomError> {
        Ok(self.inner.report_message(&message_id, reason.as_deref())?)
    }

    /// The recipient's quiet hours and reply window in plain words (REQ-MSG-4).
    pub fn composer_hints(&self, to: String) -> Result<ComposerHints, HomeroomError> {
        Ok(to_hints(self.inner.composer_hint(&to, Utc::now())?))
    }

    /// A hint to contact the school office for appointments, attendance or SEND; checked on the
    /// phone, the draft never leaves it (REQ-MSG-7).
    pub fn office_hint(&self, draft: String) -> Option<OfficeHint> {
        self.inner.routing_hint(&draft).map(|h| OfficeHint {
            topic: match h.topic {
                RoutingTopic::Appointments => DraftTopic::Appointments,
                RoutingTopic::Attendance => DraftTopic::Attendance,
                RoutingTopic::Send => DraftTopic::Send,
            },
            text: h.text,
        })
    }

    /// Local notifications for unread messages, planned at `now` with this person's own hours
    /// and lock-screen choice: show those due now, schedule the rest (REQ-NOT-2, NOT-5).
    pub fn plan_notifications(
        &self,
        now: SystemTime,
    ) -> Result<Vec<LocalNotification>, HomeroomError> {
        let now: DateTime<Utc> = now.into();
        Ok(to_local(self.inner.plan_notifications(now)?, now))
    }

    /// Saves one's own quiet hours, time zone and lock-screen choice (REQ-NOT-1, NOT-3, NOT-5).
    pub fn set_notify_preferences(&self, prefs: NotifyPreferences) -> Result<(), HomeroomError> {
        let staff = self.inner.me()?.is_some_and(|m| m.role.is_staff());
        Ok(self
            .inner
            .set_notify_settings(&to_settings(prefs, staff)?)?)
    }

    /// Registers this device's push token (`apns` or `fcm`).
    pub fn register_push_device(
        &self,
        platform: String,
        token: String,
    ) -> Result<(), HomeroomError> {
        Ok(self.inner.register_push_device(&platform, &token)?)
    }

    /// The conversation as a dated record, `text` or `html` (staff; REQ-MSG-6).
    pub fn export_conversation(
        &self,
        thread_id: String,
        format: String,
    ) -> Result<String, HomeroomError> {
        Ok(self.inner.export_thread(&thread_id, &format)?)
    }

    /// Subscribes to the conversation list: the snapshot at once, then changes.
    pub fn subscribe_conversations(
        &self,
        listener: Arc<dyn ConversationsListener>,
    ) -> Result<Arc<Subscription>, HomeroomError> {
        let id = self.inner.observe_threads(Arc::new(move |update| {
            let message = match map_update(update, to_conversation) {
                ViewUpdate::Snapshot(items) => ConversationsUpdate::Snapshot { items },
                ViewUpdate::Changes {
                    inserted,
                    updated,
                    removed,
                } => ConversationsUpdate::Changes {
                    inserted,
                    updated,
                    removed,
                },
            };
            listener.on_conversations_update(message);
        }))?;
        Ok(Arc::new(Subscription {
            core: Arc::downgrade(&self.inner),
            id,
        }))
    }

    /// Subscribes to one conversation's messages: the snapshot at once, then changes.
    pub fn subscribe_messages(
        &self,
        thread_id: String,
        listener: Arc<dyn MessagesListener>,
    ) -> Result<Arc<Subscription>, HomeroomError> {
        let thread = thread_id.clone();
        let id = self.inner.observe_thread(
            &thread_id,
            Arc::new(move |update| {
                let message = match map_update(update, to_message) {
                    ViewUpdate::Snapshot(items) => MessagesUpdate::Snapshot { items },
                    ViewUpdate::Changes {
                        inserted,
                        updated,
                        removed,
                    } => MessagesUpdate::Changes {
                        inserted,
                        updated,
                        removed,
                    },
                };
                listener.on_messages_update(thread.clone(), message);
            }),
        )?;
        Ok(Arc::new(Subscription {
            core: Arc::downgrade(&self.inner),
            id,
        }))
    }
}
