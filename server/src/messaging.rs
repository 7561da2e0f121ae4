//! Messaging writes, applied inside the push transaction: send, read, announce, report
//! (REQ-MSG-1..3, MSG-5). Every one is checked with the shared rules first.

use chrono::{DateTime, Utc};
use homeroom_protocol::access::{can, Action, Role, SchoolFacts, Target};
use homeroom_protocol::attachments::{validate_message, Attachment};
use homeroom_protocol::messaging::{announcement_event, message_event, thread_id, validate_body};
use homeroom_protocol::notify::{EventKind, EventPreview, NotifyEvent};
use homeroom_protocol::wire::{
    AnnouncementRecord, Change, MessageRecord, MessageState, RejectCode, WriteOutcome,
};
use sqlx::Row;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::{Db, DbTx};
use crate::error::ServerError;
use crate::push::schedule::{plan_event, stamp};

fn reject(code: RejectCode, reason: impl Into<String>) -> WriteOutcome {
    WriteOutcome::Rejected {
        code,
        reason: reason.into(),
    }
}

/// Appends one entry to the change log devices pull.
pub async fn log_change(
    tx: &mut DbTx<'_>,
    school_id: &str,
    kind: &str,
    change: &Change,
) -> Result<(), ServerError> {
    let payload =
        serde_json::to_string(change).map_err(|e| ServerError::Internal(e.to_string()))?;
    sqlx::query(
        "INSERT INTO changes (school_id, kind, pupil_id, payload) VALUES ($1, $2, NULL, $3)",
    )
    .bind(school_id)
    .bind(kind)
    .bind(payload)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A person's display name, for previews and exports.
pub async fn display_name(db: &Db, user_id: &str) -> Result<String, ServerError> {
    Ok(sqlx::query("SELECT display_name FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await?
        .map(|r| r.try_get::<String, _>("display_name"))
        .transpose()?
        .unwrap_or_default())
}

/// Everything a messaging write needs besides its own fields.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub caller: &'a Caller,
    pub facts: &'a SchoolFacts,
    pub now: DateTime<Utc>,
    /// Where uploaded media lives: attachments are checked against it (REQ-MSG-1).
    pub media_dir: &'a std::path::Path,
}

/// REQ-MSG-1, MSG-2: a message to a parent or staff member of a shared class, in the pair's one
/// thread; the recipient's push is planned at once (REQ-NOT-2).
pub async fn send_message(
    c: &Ctx<'_>,
    tx: &mut DbTx<'_>,
    message_id: Uuid,
    to: &str,
    body: &str,
    attachments: &[Attachment],
) -> Result<WriteOutcome, ServerError> {
    let me = c.caller.user_id.as_str();
    if let Err(denied) = can(c.facts, Some(me), Action::Message, &Target::User(to)) {
        return Ok(reject(RejectCode::Forbidden, denied.to_string()));
    }
    let body = match validate_message(body, attachments) {
        Ok(b) => b,
        Err((field, why)) => return Ok(reject(RejectCode::Invalid, format!("{field}: {why}"))),
    };
    let i_am_parent = c
        .facts
        .users
        .get(me)
        .is_some_and(|u| u.role == Role::Parent);
    let (parent_id, staff_id) = if i_am_parent { (me, to) } else { (to, me) };
    let thread = thread_id(&c.caller.school_id, parent_id, staff_id);
    let exists = sqlx::query("SELECT 1 FROM messages WHERE id = $1")
        .bind(message_id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Ok(reject(
            RejectCode::Invalid,
            "a message with this id already exists",
        ));
    }
    if let Some((code, why)) =
        crate::attachments::check(tx, c.media_dir, &c.caller.school_id, attachments).await?
    {
        return Ok(reject(code, why));
    }
    sqlx::query(
        "INSERT INTO threads (id, school_id, parent_id, staff_id, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(thread.to_string())
    .bind(&c.caller.school_id)
    .bind(parent_id)
    .bind(staff_id)
    .bind(stamp(c.now))
    .execute(&mut **tx)
    .await?;
    let record = MessageRecord {
        id: message_id,
        thread_id: thread,
        parent_id: parent_id.to_owned(),
        staff_id: staff_id.to_owned(),
        sender_id: me.to_owned(),
        body,
        sent_at: c.now,
        attachments: attachments.to_vec(),
    };
    sqlx::query(
        "INSERT INTO messages (id, thread_id, sender_id, body, sent_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(record.id.to_string())
    .bind(thread.to_string())
    .bind(me)
    .bind(&record.body)
    .bind(stamp(c.now))
    .execute(&mut **tx)
    .await?;
    crate::attachments::store(tx, &record.id, attachments).await?;
    log_change(
        tx,
        &c.caller.school_id,
        "message",
        &Change::Message(record.clone()),
    )
    .await?;
    let event = message_event(&record, &display_name(c.db, me).await?, None);
    plan_event(
        c.db,
        tx,
        c.facts,
        &c.caller.school_id,
        &event,
        &[to.to_owned()],
        c.now,
    )
    .await?;
    Ok(WriteOutcome::Accepted)
}

/// Erases every conversation of `parent_id` — messages, reports, threads and their change-log
/// entries — when the pupil erasure leaves the parent no child at the school (REQ-PRV-4).
/// Safeguarding copies are not touched: they are exempt (REQ-PRV-5). Returns messages deleted.
pub async fn erase_conversations(
    tx: &mut DbTx<'_>,
    school_id: &str,
    parent_id: &str,
) -> Result<u64, ServerError> {
    let threads: Vec<String> =
        sqlx::query_scalar("SELECT id FROM threads WHERE school_id = $1 AND parent_id = $2")
            .bind(school_id)
            .bind(parent_id)
            .fetch_all(&mut **tx)
            .await?;
    let mut deleted = 0;
    for thread in threads {
        sqlx::query(
            "DELETE FROM message_reports WHERE message_id IN (SELECT id FROM messages WHERE thread_id = $1)",
        )
        .bind(&thread)
        .execute(&mut **tx)
        .await?;
        // Attachment rows name their message: they go first (the media bytes stay in the
        // school's content-addressed store, shared by hash).
        sqlx::query(
            "DELETE FROM message_attachments WHERE message_id IN (SELECT id FROM messages WHERE thread_id = $1)",
        )
        .bind(&thread)
        .execute(&mut **tx)
        .await?;
        deleted += sqlx::query("DELETE FROM messages WHERE thread_id = $1")
            .bind(&thread)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM threads WHERE id = $1")
            .bind(&thread)
            .execute(&mut **tx)
            .await?;
        // Message and read-state payloads carry the thread id (and the text): the log forgets them.
        sqlx::query(
            "DELETE FROM changes WHERE school_id = $1 AND kind IN ('message', 'message_state')
             AND payload LIKE $2",
        )
        .bind(school_id)
        .bind(format!("%\"thread_id\":\"{thread}\"%"))
        .execute(&mut **tx)
        .await?;
    }
    Ok(deleted)
}

/// The parent and staff member of a thread of this school, if it exists.
async fn thread_pair(
    tx: &mut DbTx<'_>,
    school_id: &str,
    thread: &Uuid,
) -> Result<Option<(String, String)>, ServerError> {
    Ok(
        sqlx::query("SELECT parent_id, staff_id FROM threads WHERE id = $1 AND school_id = $2")
            .bind(thread.to_string())
            .bind(school_id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| -> Result<(String, String), sqlx::Error> {
                Ok((r.try_get("parent_id")?, r.try_get("staff_id")?))
            })
            .transpose()?,
    )
}

/// REQ-MSG-1: the reader has seen every message sent to them in the thread.
pub async fn mark_thread_read(
    c: &Ctx<'_>,
    tx: &mut DbTx<'_>,
    thread: &Uuid,
) -> Result<WriteOutcome, ServerError> {
    let me = c.caller.user_id.as_str();
    if let Err(denied) = can(c.facts, Some(me), Action::ReadThreads, &Target::User(me)) {
        return Ok(reject(RejectCode::Forbidden, denied.to_string()));
    }
    let Some((parent_id, staff_id)) = thread_pair(tx, &c.caller.school_id, thread).await? else {
        return Ok(reject(RejectCode::NotFound, "no such conversation"));
    };
    if me != parent_id && me != staff_id {
        return Ok(reject(RejectCode::NotFound, "no such conversation"));
    }
    let rows = sqlx::query(
        "UPDATE messages SET read_at = $1, delivered_at = COALESCE(delivered_at, $1)
         WHERE thread_id = $2 AND sender_id <> $3 AND read_at IS NULL
         RETURNING id, delivered_at",
    )
    .bind(stamp(c.now))
    .bind(thread.to_string())
    .bind(me)
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        let id: String = r.try_get("id")?;
        let delivered: String = r.try_get("delivered_at")?;
        let state = MessageState {
            message_id: id
                .parse()
                .map_err(|e| ServerError::Internal(format!("message id: {e}")))?,
            thread_id: *thread,
            parent_id: parent_id.clone(),
            staff_id: staff_id.clone(),
            delivered_at: delivered.parse().ok(),
            read_at: Some(c.now),
        };
        log_change(
            tx,
            &c.caller.school_id,
            "message_state",
            &Change::MessageState(state),
        )
        .await?;
    }
    Ok(WriteOutcome::Accepted)
}

/// REQ-MSG-1: messages pulled by their recipient are delivered; the sender learns it on sync.
pub async fn mark_delivered(
    db: &Db,
    school_id: &str,
    records: &[MessageRecord],
    now: DateTime<Utc>,
) -> Result<(), ServerError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut tx = crate::db::write_tx(db).await?;
    for m in records {
        let updated = sqlx::query(
            "UPDATE messages SET delivered_at = $1 WHERE id = $2 AND delivered_at IS NULL RETURNING read_at",
        )
        .bind(stamp(now))
        .bind(m.id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = updated {
            let read_at: Option<String> = r.try_get("read_at")?;
            let state = MessageState {
                message_id: m.id,
                thread_id: m.thread_id,
                parent_id: m.parent_id.clone(),
                staff_id: m.staff_id.clone(),
                delivered_at: Some(now),
                read_at: read_at.and_then(|t| t.parse().ok()),
            };
            log_change(
                &mut tx,
                school_id,
                "message_state",
                &Change::MessageState(state),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// REQ-MSG-3: a one-way announcement by the class teacher to every parent of the class.
pub async fn announce(
    c: &Ctx<'_>,
    tx: &mut DbTx<'_>,
    announcement_id: Uuid,
    class_id: &str,
    body: &str,
) -> Result<WriteOutcome, ServerError> {
    let me = c.caller.user_id.as_str();
    if let Err(denied) = can(
        c.facts,
        Some(me),
        Action::Announce,
        &Target::Class(class_id),
    ) {
        return Ok(reject(RejectCode::Forbidden, denied.to_string()));
    }
    let body = match validate_body(body) {
        Ok(b) => b,
        Err((field, why)) => return Ok(reject(RejectCode::Invalid, format!("{field}: {why}"))),
    };
    let exists = sqlx::query("SELECT 1 FROM announcements WHERE id = $1")
        .bind(announcement_id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Ok(reject(
            RejectCode::Invalid,
            "an announcement with this id already exists",
        ));
    }
    let record = AnnouncementRecord {
        id: announcement_id,
        class_id: class_id.to_owned(),
        sender_id: me.to_owned(),
        body,
        sent_at: c.now,
    };
    sqlx::query(
        "INSERT INTO announcements (id, school_id, class_id, sender_id, body, sent_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(record.id.to_string())
    .bind(&c.caller.school_id)
    .bind(class_id)
    .bind(me)
    .bind(&record.body)
    .bind(stamp(c.now))
    .execute(&mut **tx)
    .await?;
    log_change(
        tx,
        &c.caller.school_id,
        "announcement",
        &Change::Announcement(record.clone()),
    )
    .await?;
    let mut parents: Vec<String> = c
        .facts
        .pupils
        .values()
        .filter(|p| p.class_id.as_deref() == Some(class_id))
        .flat_map(|p| p.parent_ids.iter().cloned())
        .collect();
    parents.sort();
    parents.dedup();
    let event = announcement_event(&record, &display_name(c.db, me).await?);
    plan_event(
        c.db,
        tx,
        c.facts,
        &c.caller.school_id,
        &event,
        &parents,
        c.now,
    )
    .await?;
    Ok(WriteOutcome::Accepted)
}

/// The columns a message is read with: id, thread, sender, body, sent_at, parent, staff.
pub type MessageRow = (String, String, String, String, String, String, String);

/// The select list matching [`MessageRow`] (messages `m` joined with threads `t`), for `concat!`.
#[macro_export]
macro_rules! message_columns {
    () => {
        "m.id, m.thread_id, m.sender_id, m.body, m.sent_at, t.parent_id, t.staff_id"
    };
}

/// Loads one message of the school with its thread's pair.
pub async fn load_message(
    tx: &mut DbTx<'_>,
    school_id: &str,
    message_id: &Uuid,
) -> Result<Option<MessageRecord>, ServerError> {
    let row: Option<MessageRow> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages m JOIN threads t ON t.id = m.thread_id WHERE m.id = $1 AND t.school_id = $2"
    ))
    .bind(message_id.to_string())
    .bind(school_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(message_from_row).transpose()
}

/// A [`MessageRow`] as the wire record.
pub fn message_from_row(r: MessageRow) -> Result<MessageRecord, ServerError> {
    let bad = |e: String| ServerError::Internal(format!("stored message: {e}"));
    let (id, thread_id, sender_id, body, sent_at, parent_id, staff_id) = r;
    Ok(MessageRecord {
        id: id.parse().map_err(|e| bad(format!("{e}")))?,
        thread_id: thread_id.parse().map_err(|e| bad(format!("{e}")))?,
        parent_id,
        staff_id,
        sender_id,
        body,
        sent_at: sent_at.parse().map_err(|e| bad(format!("{e}")))?,
        attachments: Vec::new(),
    })
}

/// REQ-MSG-5, PRV-5: a recipient reports a message; the report and its safeguarding copy are
/// stored and every leader's notification is planned at once (held alone, never folded, in
/// their quiet hours).
pub async fn report(
    c: &Ctx<'_>,
    tx: &mut DbTx<'_>,
    report_id: Uuid,
    message_id: &Uuid,
    reason: Option<&str>,
) -> Result<WriteOutcome, ServerError> {
    let me = c.caller.user_id.as_str();
    let Some(m) = load_message(tx, &c.caller.school_id, message_id).await? else {
        return Ok(reject(RejectCode::NotFound, "no such message"));
    };
    let recipient = if m.sender_id == m.parent_id {
        &m.staff_id
    } else {
        &m.parent_id
    };
    if recipient != me {
        return Ok(reject(
            RejectCode::Forbidden,
            "only the recipient of a message can report it",
        ));
    }
    if let Err(denied) = can(
        c.facts,
        Some(me),
        Action::ReportMessage,
        &Target::User(&m.sender_id),
    ) {
        return Ok(reject(RejectCode::Forbidden, denied.to_string()));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 1000) {
        return Ok(reject(
            RejectCode::Invalid,
            "reason: at most 1000 characters",
        ));
    }
    let inserted = sqlx::query(
        "INSERT INTO message_reports (id, school_id, message_id, reporter_id, reason, reported_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(report_id.to_string())
    .bind(&c.caller.school_id)
    .bind(m.id.to_string())
    .bind(me)
    .bind(reason)
    .bind(stamp(c.now))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted > 0 {
        // REQ-PRV-5: the restricted copy is made with the report, or neither exists.
        let report = crate::safeguarding::Report {
            id: report_id,
            school_id: &c.caller.school_id,
            reporter_id: me,
            reason,
            message: &m,
            at: c.now,
        };
        crate::safeguarding::record(c.db, tx, &report).await?;
    }
    let leaders: Vec<String> = c
        .facts
        .users
        .iter()
        .filter(|(_, u)| u.school_id == c.caller.school_id && u.role.is_leadership())
        .map(|(id, _)| id.clone())
        .collect();
    let event = NotifyEvent {
        id: report_id,
        at: c.now,
        kind: EventKind::SafeguardingReport { report: report_id },
        preview: EventPreview::default(),
    };
    plan_event(
        c.db,
        tx,
        c.facts,
        &c.caller.school_id,
        &event,
        &leaders,
        c.now,
    )
    .await?;
    Ok(WriteOutcome::Accepted)
}
