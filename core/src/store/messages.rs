//! Messages and announcements in the cache (REQ-MSG-1, MSG-3): bodies sealed at rest, written
//! optimistically by the device and confirmed or replaced by pulls.

use chrono::{DateTime, Utc};
use homeroom_protocol::attachments::Attachment;
use homeroom_protocol::wire::{AnnouncementRecord, MessageRecord, MessageState};
use rusqlite::{params, Connection, Row};
use uuid::Uuid;

use crate::error::{CoreError, StorageContext};
use crate::store::seal::Sealer;

/// A message as the cache holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedMessage {
    pub record: MessageRecord,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    /// Made on this device and not yet accepted by the server.
    pub pending: bool,
}

/// An announcement as the cache holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedAnnouncement {
    pub record: AnnouncementRecord,
    pub pending: bool,
}

fn body_place(id: &Uuid) -> String {
    format!("message-body:{id}")
}

fn attachments_place(id: &Uuid) -> String {
    format!("message-attachments:{id}")
}

/// The attachment list sealed like the body (file names say things too), or NULL for none.
fn seal_attachments(sealer: &Sealer, m: &MessageRecord) -> Result<Option<Vec<u8>>, CoreError> {
    if m.attachments.is_empty() {
        return Ok(None);
    }
    let json = serde_json::to_vec(&m.attachments)
        .map_err(|e| CoreError::Io(format!("encode attachments: {e}")))?;
    Ok(Some(sealer.seal(&json, &attachments_place(&m.id))?))
}

fn open_attachments(
    sealer: &Sealer,
    id: &Uuid,
    sealed: Option<Vec<u8>>,
) -> Result<Vec<Attachment>, CoreError> {
    let Some(sealed) = sealed else {
        return Ok(Vec::new());
    };
    let json = sealer.open(&sealed, &attachments_place(id))?;
    serde_json::from_slice(&json)
        .map_err(|e| CoreError::Io(format!("a cached message has bad attachments: {e}")))
}

fn announcement_place(id: &Uuid) -> String {
    format!("announcement-body:{id}")
}

fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339()
}

/// Stores a message: `pending` for one made here, otherwise as the server sent it (which
/// also confirms a pending one).
pub fn upsert(
    conn: &Connection,
    sealer: &Sealer,
    m: &MessageRecord,
    pending: bool,
) -> Result<(), CoreError> {
    let body = sealer.seal_str(&m.body, &body_place(&m.id))?;
    let attachments = seal_attachments(sealer, m)?;
    conn.prepare_cached(
        "INSERT INTO messages (id, thread_id, parent_id, staff_id, sender_id, body, sent_at, pending, attachments)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(id) DO UPDATE SET body = excluded.body, sent_at = excluded.sent_at,
             pending = excluded.pending, attachments = excluded.attachments",
    )
    .ctx("preparing a message insert")?
    .execute(params![
        m.id.to_string(),
        m.thread_id.to_string(),
        m.parent_id,
        m.staff_id,
        m.sender_id,
        body,
        ts(m.sent_at),
        pending,
        attachments
    ])
    .ctx("saving a message")?;
    Ok(())
}

/// The server accepted these messages.
pub fn confirm(conn: &Connection, id: &Uuid) -> Result<(), CoreError> {
    conn.execute(
        "UPDATE messages SET pending = 0 WHERE id = ?1",
        [id.to_string()],
    )
    .ctx("confirming a message")?;
    Ok(())
}

/// The server refused a message: it is taken back.
pub fn delete(conn: &Connection, id: &Uuid) -> Result<(), CoreError> {
    conn.execute("DELETE FROM messages WHERE id = ?1", [id.to_string()])
        .ctx("removing a refused message")?;
    Ok(())
}

/// Delivered and read state from the server; a time once known is kept.
pub fn apply_state(conn: &Connection, s: &MessageState) -> Result<(), CoreError> {
    conn.execute(
        "UPDATE messages SET delivered_at = COALESCE(?2, delivered_at), read_at = COALESCE(?3, read_at)
         WHERE id = ?1",
        params![
            s.message_id.to_string(),
            s.delivered_at.map(ts),
            s.read_at.map(ts)
        ],
    )
    .ctx("saving a message's state")?;
    Ok(())
}

/// Marks every message sent to `me` in the thread read, here and now; returns how many.
pub fn mark_read(
    conn: &Connection,
    thread_id: &Uuid,
    me: &str,
    at: DateTime<Utc>,
) -> Result<usize, CoreError> {
    conn.execute(
        "UPDATE messages SET read_at = ?3, delivered_at = COALESCE(delivered_at, ?3)
         WHERE thread_id = ?1 AND sender_id <> ?2 AND read_at IS NULL",
        params![thread_id.to_string(), me, ts(at)],
    )
    .ctx("marking a thread read")
}

fn parse_time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|t| t.parse().ok())
}

fn read_message(sealer: &Sealer, r: &Row<'_>) -> Result<CachedMessage, CoreError> {
    let bad = |what: &str| CoreError::Io(format!("a cached message has a bad {what}"));
    let id: Uuid = r
        .get::<_, String>(0)
        .ctx("reading a message")?
        .parse()
        .map_err(|_| bad("id"))?;
    let body: Vec<u8> = r.get(5).ctx("reading a message")?;
    Ok(CachedMessage {
        record: MessageRecord {
            id,
            thread_id: r
                .get::<_, String>(1)
                .ctx("reading a message")?
                .parse()
                .map_err(|_| bad("thread id"))?,
            parent_id: r.get(2).ctx("reading a message")?,
            staff_id: r.get(3).ctx("reading a message")?,
            sender_id: r.get(4).ctx("reading a message")?,
            body: sealer.open_string(&body, &body_place(&id))?,
            sent_at: r
                .get::<_, String>(6)
                .ctx("reading a message")?
                .parse()
                .map_err(|_| bad("time"))?,
            attachments: open_attachments(sealer, &id, r.get(10).ctx("reading a message")?)?,
        },
        delivered_at: parse_time(r.get(7).ctx("reading a message")?),
        read_at: parse_time(r.get(8).ctx("reading a message")?),
        pending: r.get::<_, bool>(9).ctx("reading a message")?,
    })
}

const MESSAGE_COLUMNS: &str = "SELECT id, thread_id, parent_id, staff_id, sender_id, body, sent_at, delivered_at, read_at, pending, attachments FROM messages";

fn query_messages(
    conn: &Connection,
    sealer: &Sealer,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<CachedMessage>, CoreError> {
    let mut stmt = conn.prepare_cached(sql).ctx("preparing a message query")?;
    let mut rows = stmt.query(args).ctx("reading messages")?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().ctx("reading a message row")? {
        out.push(read_message(sealer, r)?);
    }
    Ok(out)
}

/// One thread's messages, oldest first.
pub fn for_thread(
    conn: &Connection,
    sealer: &Sealer,
    thread_id: &Uuid,
) -> Result<Vec<CachedMessage>, CoreError> {
    query_messages(
        conn,
        sealer,
        &format!("{MESSAGE_COLUMNS} WHERE thread_id = ?1 ORDER BY sent_at, id"),
        [thread_id.to_string()],
    )
}

/// Every cached message, oldest first (a phone holds one person's threads: small).
pub fn all(conn: &Connection, sealer: &Sealer) -> Result<Vec<CachedMessage>, CoreError> {
    query_messages(
        conn,
        sealer,
        &format!("{MESSAGE_COLUMNS} ORDER BY sent_at, id"),
        [],
    )
}

/// Stores an announcement (`pending` for one made here).
pub fn upsert_announcement(
    conn: &Connection,
    sealer: &Sealer,
    a: &AnnouncementRecord,
    pending: bool,
) -> Result<(), CoreError> {
    let body = sealer.seal_str(&a.body, &announcement_place(&a.id))?;
    conn.execute(
        "INSERT INTO announcements (id, class_id, sender_id, body, sent_at, pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET body = excluded.body, sent_at = excluded.sent_at,
             pending = excluded.pending",
        params![
            a.id.to_string(),
            a.class_id,
            a.sender_id,
            body,
            ts(a.sent_at),
            pending
        ],
    )
    .ctx("saving an announcement")?;
    Ok(())
}

/// The server accepted (`keep`) or refused an announcement made here.
pub fn settle_announcement(conn: &Connection, id: &Uuid, keep: bool) -> Result<(), CoreError> {
    let sql = if keep {
        "UPDATE announcements SET pending = 0 WHERE id = ?1"
    } else {
        "DELETE FROM announcements WHERE id = ?1"
    };
    conn.execute(sql, [id.to_string()])
        .ctx("settling an announcement")?;
    Ok(())
}

/// Every cached announcement, newest first.
pub fn announcements(
    conn: &Connection,
    sealer: &Sealer,
) -> Result<Vec<CachedAnnouncement>, CoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, class_id, sender_id, body, sent_at, pending FROM announcements
             ORDER BY sent_at DESC, id",
        )
        .ctx("preparing the announcements query")?;
    let mut rows = stmt.query([]).ctx("reading announcements")?;
    let mut out = Vec::new();
    let bad = || CoreError::Io("a cached announcement is damaged".into());
    while let Some(r) = rows.next().ctx("reading an announcement")? {
        let id: Uuid = r
            .get::<_, String>(0)
            .ctx("reading an announcement")?
            .parse()
            .map_err(|_| bad())?;
        let body: Vec<u8> = r.get(3).ctx("reading an announcement")?;
        out.push(CachedAnnouncement {
            record: AnnouncementRecord {
                id,
                class_id: r.get(1).ctx("reading an announcement")?,
                sender_id: r.get(2).ctx("reading an announcement")?,
                body: sealer.open_string(&body, &announcement_place(&id))?,
                sent_at: r
                    .get::<_, String>(4)
                    .ctx("reading an announcement")?
                    .parse()
                    .map_err(|_| bad())?,
            },
            pending: r.get(5).ctx("reading an announcement")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (Connection, Sealer) {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations::migrate(&mut conn).unwrap();
        (conn, Sealer::new(&[9u8; 32]).unwrap())
    }

    fn message(id: u128, sender: &str, body: &str) -> MessageRecord {
        MessageRecord {
            id: Uuid::from_u128(id),
            thread_id: Uuid::from_u128(100),
            parent_id: "pa1".into(),
            staff_id: "tA".into(),
            sender_id: sender.into(),
            body: body.into(),
            sent_at: format!("2026-03-04T21:3{id}:00Z").parse().unwrap(),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn message_bodies_are_sealed_at_rest_and_read_back() {
        let (conn, sealer) = db();
        upsert(
            &conn,
            &sealer,
            &message(1, "pa1", "Amira's reading book is lost"),
            true,
        )
        .unwrap();
        let raw: Vec<u8> = conn
            .query_row("SELECT body FROM messages", [], |r| r.get(0))
            .unwrap();
        assert!(
            !raw.windows(7).any(|w| w == b"reading"),
            "no plaintext at rest"
        );
        let got = for_thread(&conn, &sealer, &Uuid::from_u128(100)).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].record.body, "Amira's reading book is lost");
        assert!(got[0].pending);
    }

    #[test]
    fn reading_a_thread_marks_only_incoming_messages() {
        let (conn, sealer) = db();
        upsert(&conn, &sealer, &message(1, "pa1", "hello"), false).unwrap();
        upsert(&conn, &sealer, &message(2, "tA", "hi"), false).unwrap();
        let n = mark_read(&conn, &Uuid::from_u128(100), "tA", Utc::now()).unwrap();
        assert_eq!(n, 1);
        let got = all(&conn, &sealer).unwrap();
        assert!(got[0].read_at.is_some() && got[1].read_at.is_none());
    }
}
