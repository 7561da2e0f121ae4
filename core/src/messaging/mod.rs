//! Messaging on the phone (REQ-MSG-1..7, NOT-2, NOT-5): send through the outbox after the shared
//! rules agree, thread list and thread views with listeners, composer hints, and local
//! notification planning with the same planner and hours as the server.

pub mod attachments;
pub mod hints;
pub mod local_notify;
pub mod views;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use homeroom_protocol::access::{can, Action, Role, Target};
use homeroom_protocol::attachments::validate_message;
use homeroom_protocol::messaging::{thread_id, validate_body, NotifySettings};
use homeroom_protocol::wire::{
    AnnouncementRecord, ClientWrite, Directory, MessageRecord, PushDevice, WriteOp,
};
use uuid::Uuid;

use crate::error::{CoreError, StorageContext};
use crate::homeroom::{Homeroom, Session};
use crate::store::messages::{self, CachedAnnouncement, CachedMessage};
use crate::store::{media, outbox};

pub use attachments::NewAttachment;
pub use hints::{ComposerHint, RoutingHint, RoutingTopic};
pub use local_notify::LocalPlan;
pub use views::ThreadSummary;

impl Homeroom {
    /// The session and the synced directory, both needed before any messaging call.
    fn messaging_context(&self) -> Result<(Session, Arc<Directory>), CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let dir = self
            .directory_arc()?
            .ok_or_else(|| CoreError::input("to", "sync once before messaging"))?;
        Ok((session, dir))
    }

    /// REQ-MSG-1, MSG-2, MSG-5: sends `body` to `to` — shown at once as pending, queued in the same
    /// transaction. Refused here with the shared rules (a pupil, a parent of another class,
    /// removed messaging) before anything is queued.
    pub fn send_message(&self, to: &str, body: &str) -> Result<CachedMessage, CoreError> {
        self.send_message_with(to, body, &[])
    }

    /// REQ-MSG-1: as [`Homeroom::send_message`], with photos (through the photo pipeline) and
    /// files (allowlisted types, size-limited). Each is sealed on disk and queued for upload;
    /// the message waits in the outbox until its media is on the server. A refused attachment
    /// is `InvalidAttachment` (or `Media` for a photo the pipeline cannot read): nothing queued.
    pub fn send_message_with(
        &self,
        to: &str,
        body: &str,
        attachments: &[NewAttachment],
    ) -> Result<CachedMessage, CoreError> {
        let r = self.send_message_inner(to, body, attachments);
        self.checked(r)
    }

    fn send_message_inner(
        &self,
        to: &str,
        body: &str,
        new: &[NewAttachment],
    ) -> Result<CachedMessage, CoreError> {
        let (session, dir) = self.messaging_context()?;
        let me = session.me.user_id.as_str();
        can(&dir.facts, Some(me), Action::Message, &Target::User(to))?;
        if new.len() > homeroom_protocol::attachments::MAX_ATTACHMENTS {
            return Err(CoreError::InvalidAttachment(
                homeroom_protocol::attachments::AttachmentError::TooMany.to_string(),
            ));
        }
        let staged = new
            .iter()
            .map(|a| self.stage_attachment(a))
            .collect::<Result<Vec<_>, _>>()?;
        let attachments: Vec<_> = staged.iter().map(|s| s.attachment.clone()).collect();
        let body = validate_message(body, &attachments).map_err(|(f, why)| match f.as_str() {
            "attachments" => CoreError::InvalidAttachment(why),
            _ => CoreError::input(f, why),
        })?;
        let (parent_id, staff_id) = if session.me.role == Role::Parent {
            (me, to)
        } else {
            (to, me)
        };
        let record = MessageRecord {
            id: Uuid::new_v4(),
            thread_id: thread_id(&session.me.school_id, parent_id, staff_id),
            parent_id: parent_id.to_owned(),
            staff_id: staff_id.to_owned(),
            sender_id: me.to_owned(),
            body: body.clone(),
            sent_at: Utc::now(),
            attachments: attachments.clone(),
        };
        let write = ClientWrite {
            client_id: record.id,
            op: WriteOp::SendMessage {
                message_id: record.id,
                to: to.to_owned(),
                body,
                attachments,
            },
        };
        {
            let mut conn = self.store.conn();
            let tx = conn.transaction().ctx("starting a send")?;
            messages::upsert(&tx, self.store.sealer(), &record, true)?;
            let mut hashes = Vec::with_capacity(staged.len());
            for s in &staged {
                let a = &s.attachment;
                let path = s.sealed_path.display().to_string();
                media::enqueue_sealed_upload(&tx, &a.sha256, &path, a.size)?;
                hashes.push(a.sha256.clone());
            }
            outbox::enqueue_after_media(&tx, self.store.sealer(), &write, &hashes)?;
            tx.commit().ctx("committing a send")?;
        }
        self.refresh_message_views();
        Ok(CachedMessage {
            record,
            delivered_at: None,
            read_at: None,
            pending: true,
        })
    }

    /// REQ-MSG-1: marks the thread's incoming messages read here and tells the server.
    pub fn mark_thread_read(&self, thread: &str) -> Result<(), CoreError> {
        let r = self.mark_thread_read_inner(thread);
        self.checked(r)
    }

    fn mark_thread_read_inner(&self, thread: &str) -> Result<(), CoreError> {
        let (session, dir) = self.messaging_context()?;
        let me = session.me.user_id.as_str();
        can(&dir.facts, Some(me), Action::ReadThreads, &Target::User(me))?;
        let thread: Uuid = thread
            .parse()
            .map_err(|_| CoreError::input("thread_id", "not a conversation id"))?;
        {
            let mut conn = self.store.conn();
            let tx = conn.transaction().ctx("starting to mark read")?;
            if messages::mark_read(&tx, &thread, me, Utc::now())? > 0 {
                outbox::enqueue(
                    &tx,
                    self.store.sealer(),
                    &ClientWrite {
                        client_id: Uuid::new_v4(),
                        op: WriteOp::MarkThreadRead { thread_id: thread },
                    },
                )?;
            }
            tx.commit().ctx("committing mark read")?;
        }
        self.refresh_message_views();
        Ok(())
    }

    /// REQ-MSG-3: a one-way announcement to every parent of a class (its class teacher only).
    pub fn announce(&self, class_id: &str, body: &str) -> Result<CachedAnnouncement, CoreError> {
        let r = self.announce_inner(class_id, body);
        self.checked(r)
    }

    fn announce_inner(&self, class_id: &str, body: &str) -> Result<CachedAnnouncement, CoreError> {
        let (session, dir) = self.messaging_context()?;
        let me = session.me.user_id.as_str();
        can(
            &dir.facts,
            Some(me),
            Action::Announce,
            &Target::Class(class_id),
        )?;
        let body = validate_body(body).map_err(|(f, why)| CoreError::input(f, why))?;
        let record = AnnouncementRecord {
            id: Uuid::new_v4(),
            class_id: class_id.to_owned(),
            sender_id: me.to_owned(),
            body: body.clone(),
            sent_at: Utc::now(),
        };
        let write = ClientWrite {
            client_id: record.id,
            op: WriteOp::Announce {
                announcement_id: record.id,
                class_id: class_id.to_owned(),
                body,
            },
        };
        {
            let mut conn = self.store.conn();
            let tx = conn.transaction().ctx("starting an announcement")?;
            messages::upsert_announcement(&tx, self.store.sealer(), &record, true)?;
            outbox::enqueue(&tx, self.store.sealer(), &write)?;
            tx.commit().ctx("committing an announcement")?;
        }
        Ok(CachedAnnouncement {
            record,
            pending: true,
        })
    }

    /// Announcements this person has, newest first (pupils have none: REQ-MSG-2).
    pub fn announcements(&self) -> Result<Vec<CachedAnnouncement>, CoreError> {
        let (session, _) = self.messaging_context()?;
        if session.me.role == Role::Pupil {
            return Err(homeroom_protocol::access::Denied::PupilsHaveNoMessaging.into());
        }
        messages::announcements(&self.store.conn(), self.store.sealer())
    }

    /// REQ-MSG-5: reports a message sent to this person; leaders are told at once.
    pub fn report_message(&self, message_id: &str, reason: Option<&str>) -> Result<(), CoreError> {
        let r = self.report_message_inner(message_id, reason);
        self.checked(r)
    }

    fn report_message_inner(
        &self,
        message_id: &str,
        reason: Option<&str>,
    ) -> Result<(), CoreError> {
        // A pupil is refused before anything is looked up (REQ-MSG-2).
        let (session, dir, all) = self.readable_messages()?;
        let me = session.me.user_id.as_str();
        let id: Uuid = message_id
            .parse()
            .map_err(|_| CoreError::input("message_id", "not a message id"))?;
        let message = all
            .into_iter()
            .find(|m| m.record.id == id)
            .ok_or_else(|| CoreError::input("message_id", "no such message here"))?;
        if message.record.sender_id == me {
            return Err(CoreError::input(
                "message_id",
                "you cannot report your own message",
            ));
        }
        can(
            &dir.facts,
            Some(me),
            Action::ReportMessage,
            &Target::User(&message.record.sender_id),
        )?;
        let write = ClientWrite {
            client_id: Uuid::new_v4(),
            op: WriteOp::ReportMessage {
                report_id: Uuid::new_v4(),
                message_id: id,
                reason: reason.map(str::to_owned),
            },
        };
        let conn = self.store.conn();
        outbox::enqueue(&conn, self.store.sealer(), &write)
    }

    /// The cached messages this person may read (none for a pupil: REQ-MSG-2).
    fn readable_messages(
        &self,
    ) -> Result<(Session, Arc<Directory>, Vec<CachedMessage>), CoreError> {
        let (session, dir) = self.messaging_context()?;
        let me = session.me.user_id.as_str();
        can(&dir.facts, Some(me), Action::ReadThreads, &Target::User(me))?;
        let all = messages::all(&self.store.conn(), self.store.sealer())?;
        Ok((session, dir, all))
    }

    /// REQ-MSG-1: this person's threads, latest activity first.
    pub fn threads(&self) -> Result<Vec<ThreadSummary>, CoreError> {
        let (session, dir, all) = self.readable_messages()?;
        Ok(views::summarise(&session.me.user_id, &dir, &all))
    }

    /// REQ-MSG-1: one thread's messages, oldest first.
    pub fn thread(&self, thread: &str) -> Result<Vec<CachedMessage>, CoreError> {
        let (_, _, all) = self.readable_messages()?;
        let thread: Uuid = thread
            .parse()
            .map_err(|_| CoreError::input("thread_id", "not a conversation id"))?;
        Ok(all
            .into_iter()
            .filter(|m| m.record.thread_id == thread)
            .collect())
    }

    /// The thread id this person shares with `other` (for opening a composer to them).
    pub fn thread_with(&self, other: &str) -> Result<String, CoreError> {
        let (session, _) = self.messaging_context()?;
        let me = session.me.user_id.as_str();
        let (p, s) = if session.me.role == Role::Parent {
            (me, other)
        } else {
            (other, me)
        };
        Ok(thread_id(&session.me.school_id, p, s).to_string())
    }

    /// REQ-MSG-4: the recipient's quiet hours, reply window and when they would be notified.
    pub fn composer_hint(&self, to: &str, now: DateTime<Utc>) -> Result<ComposerHint, CoreError> {
        let (session, dir) = self.messaging_context()?;
        let me = session.me.user_id.as_str();
        can(&dir.facts, Some(me), Action::Message, &Target::User(to))?;
        let hours = dir
            .hours
            .get(to)
            .ok_or_else(|| CoreError::input("to", "their hours are not synced yet"))?;
        let reader = dir
            .hours
            .get(me)
            .map(|h| h.time_zone())
            .unwrap_or_else(|| hours.time_zone());
        let name = views::name_of(&dir, to);
        hints::composer_hint(&name, hours, &dir.working_hours, reader, now)
            .map_err(|e| CoreError::input("to", e.to_string()))
    }

    /// REQ-MSG-7: the on-device "contact the office" check of a draft (no text leaves the phone).
    pub fn routing_hint(&self, draft: &str) -> Option<RoutingHint> {
        hints::routing_hint(draft)
    }

    /// REQ-NOT-2, NOT-5: plans local notifications for the unread messages sent to this person,
    /// at `now`, with their own hours and lock-screen choice — the server's planner and inputs.
    pub fn plan_notifications(&self, now: DateTime<Utc>) -> Result<LocalPlan, CoreError> {
        let (session, dir, all) = self.readable_messages()?;
        local_notify::plan(&session.me.user_id, &dir, &all, now)
            .map_err(|e| CoreError::Protocol(format!("planning notifications: {e}")))
    }

    /// REQ-NOT-1, NOT-3, NOT-5: saves this person's hours and lock-screen choice on the server;
    /// the next sync brings them back in the directory.
    pub fn set_notify_settings(&self, settings: &NotifySettings) -> Result<(), CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        settings
            .hours
            .schedule()
            .map_err(|e| CoreError::input("hours", e.to_string()))?;
        self.runtime
            .block_on(self.api.put_notify_settings(&session.token, settings))?;
        Ok(())
    }

    /// Registers this device's push token (`apns`, `fcm`).
    pub fn register_push_device(&self, platform: &str, token: &str) -> Result<(), CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let device = PushDevice {
            platform: platform.to_owned(),
            token: token.to_owned(),
        };
        self.runtime
            .block_on(self.api.put_push_device(&session.token, &device))?;
        Ok(())
    }

    /// REQ-MSG-6: the thread as a dated written record (`text` or `html`), from the server.
    pub fn export_thread(&self, thread: &str, format: &str) -> Result<String, CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        self.runtime
            .block_on(self.api.export_thread(&session.token, thread, format))
    }
}
