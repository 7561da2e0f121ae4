//! The outbox: the device's writes, in order, until the server has answered each one.

use chrono::Utc;
use homeroom_protocol::wire::{ClientWrite, RejectCode, WriteOp};
use rusqlite::{params, Connection};
use uuid::Uuid;

use crate::error::{CoreError, StorageContext};
use crate::store::seal::Sealer;

/// Where an outbox entry lives, for sealing.
fn place(client_id: &str) -> String {
    format!("outbox:{client_id}")
}

/// Puts back an entry salvaged from a damaged cache, sealed bytes as they were.
pub fn restore_raw(
    conn: &Connection,
    client_id: &str,
    op: &[u8],
    created_at: &str,
) -> Result<(), CoreError> {
    // No unique index on `client_id` (it would cost every tap a page): checked here instead.
    conn.execute(
        "INSERT INTO outbox (client_id, op, created_at) SELECT ?1, ?2, ?3
         WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE client_id = ?1)",
        params![client_id, op, created_at],
    )
    .ctx("restoring a salvaged write")?;
    Ok(())
}

/// Queues a write; call inside the transaction that applies it locally.
pub fn enqueue(conn: &Connection, sealer: &Sealer, write: &ClientWrite) -> Result<(), CoreError> {
    enqueue_after_media(conn, sealer, write, &[])
}

/// Queues a write that may be sent only once the media named by these hashes is uploaded
/// (a message and its attachments, REQ-MSG-1); writes behind it wait too, keeping the order.
pub fn enqueue_after_media(
    conn: &Connection,
    sealer: &Sealer,
    write: &ClientWrite,
    media: &[String],
) -> Result<(), CoreError> {
    let id = write.client_id.to_string();
    let op =
        serde_json::to_vec(&write.op).map_err(|e| CoreError::Io(format!("encode write: {e}")))?;
    let sealed = sealer.seal(&op, &place(&id))?;
    let needs = (!media.is_empty()).then(|| media.join(","));
    conn.prepare_cached(
        "INSERT INTO outbox (client_id, op, created_at, needs_media) VALUES (?1, ?2, ?3, ?4)",
    )
    .ctx("preparing an outbox insert")?
    .execute(params![id, sealed, Utc::now().to_rfc3339(), needs])
    .ctx("queueing a write")?;
    Ok(())
}

/// Whether every upload named in `needs` (comma-separated hashes) is finished or given up
/// (then the server's `MediaMissing` refusal settles the write); an unknown hash does not block.
fn media_ready(conn: &Connection, needs: &str) -> Result<bool, CoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT 1 FROM media_uploads WHERE sha256 = ?1 AND done = 0")
        .ctx("preparing the upload check")?;
    for sha in needs.split(',').filter(|s| !s.is_empty()) {
        if stmt.exists([sha]).ctx("checking an upload")? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A write waiting to be sent, with its place in the queue (what [`remove`] takes).
#[derive(Debug, Clone)]
pub struct Queued {
    pub seq: i64,
    pub write: ClientWrite,
}

/// The oldest `limit` writes, in the order they were made (by sequence, not by clock), up to
/// the first that still waits for its media.
pub fn next_batch(
    conn: &Connection,
    sealer: &Sealer,
    limit: usize,
) -> Result<Vec<Queued>, CoreError> {
    read(conn, sealer, limit, true)
}

/// Every unsent write, in order, media or not: what the device shows on top of pulled data.
pub fn all(conn: &Connection, sealer: &Sealer) -> Result<Vec<ClientWrite>, CoreError> {
    Ok(read(conn, sealer, i64::MAX as usize, false)?
        .into_iter()
        .map(|q| q.write)
        .collect())
}

fn read(
    conn: &Connection,
    sealer: &Sealer,
    limit: usize,
    stop_at_media: bool,
) -> Result<Vec<Queued>, CoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, client_id, op, needs_media FROM outbox ORDER BY seq LIMIT ?1")
        .ctx("preparing the outbox query")?;
    let rows = stmt
        .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .ctx("reading the outbox")?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, id, op, needs) = row.ctx("reading an outbox row")?;
        if let Some(needs) = needs.filter(|_| stop_at_media) {
            if !media_ready(conn, &needs)? {
                break;
            }
        }
        let client_id: Uuid = id
            .parse()
            .map_err(|e| CoreError::Io(format!("corrupt outbox id: {e}")))?;
        let op = sealer.open(&op, &place(&id))?;
        let op: WriteOp = serde_json::from_slice(&op)
            .map_err(|e| CoreError::Io(format!("corrupt outbox entry: {e}")))?;
        out.push(Queued {
            seq,
            write: ClientWrite { client_id, op },
        });
    }
    Ok(out)
}

/// Counts unsent writes.
pub fn len(conn: &Connection) -> Result<u32, CoreError> {
    conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get::<_, i64>(0))
        .ctx("counting the outbox")
        .map(|n| n as u32)
}

/// Drops a write the server has answered: found by its place in the queue, and only if that
/// place still holds it (without AUTOINCREMENT a place is reused once the queue has emptied).
pub fn remove(conn: &Connection, queued: &Queued) -> Result<(), CoreError> {
    conn.prepare_cached("DELETE FROM outbox WHERE seq = ?1 AND client_id = ?2")
        .ctx("preparing to remove a sent write")?
        .execute(params![queued.seq, queued.write.client_id.to_string()])
        .ctx("removing a sent write")?;
    Ok(())
}

/// Counts a failed attempt to send the batch.
pub fn note_attempt(conn: &Connection) -> Result<(), CoreError> {
    conn.execute("UPDATE outbox SET attempts = attempts + 1", [])
        .ctx("counting a send attempt")?;
    Ok(())
}

/// Keeps a refused write and its reason so the app can tell the person.
pub fn record_rejection(
    conn: &Connection,
    sealer: &Sealer,
    write: &ClientWrite,
    code: RejectCode,
    reason: &str,
) -> Result<(), CoreError> {
    let id = write.client_id.to_string();
    let op =
        serde_json::to_vec(&write.op).map_err(|e| CoreError::Io(format!("encode write: {e}")))?;
    let op = sealer.seal(&op, &format!("rejected:{id}"))?;
    let code = serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    conn.execute(
        "INSERT OR REPLACE INTO rejected_writes (client_id, op, code, reason, rejected_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, op, code, reason, Utc::now().to_rfc3339()],
    )
    .ctx("recording a refused write")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::media;

    fn write(n: u128) -> ClientWrite {
        ClientWrite {
            client_id: Uuid::from_u128(n),
            op: WriteOp::MarkThreadRead {
                thread_id: Uuid::from_u128(100 + n),
            },
        }
    }

    // REQ-OFF-1: the answer to a write sent before the queue was emptied (sign-out, then a new
    // write reusing its place) removes that write only, never the new one in its place.
    #[test]
    fn a_late_answer_never_removes_a_newer_write_in_the_same_place() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations::migrate(&mut conn).unwrap();
        let sealer = Sealer::new(&[5u8; 32]).unwrap();
        enqueue(&conn, &sealer, &write(1)).unwrap();
        let sent = next_batch(&conn, &sealer, 10).unwrap().remove(0);
        conn.execute("DELETE FROM outbox", []).unwrap();
        enqueue(&conn, &sealer, &write(2)).unwrap();
        let newer = next_batch(&conn, &sealer, 10).unwrap().remove(0);
        assert_eq!(newer.seq, sent.seq, "the place is reused");
        remove(&conn, &sent).unwrap();
        assert_eq!(len(&conn).unwrap(), 1, "the newer write is still queued");
        remove(&conn, &newer).unwrap();
        assert_eq!(len(&conn).unwrap(), 0);
    }

    // REQ-MSG-1: a message waits for its attachments, and the writes after it wait too (order).
    #[test]
    fn a_write_waits_for_its_media_and_keeps_the_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations::migrate(&mut conn).unwrap();
        let sealer = Sealer::new(&[5u8; 32]).unwrap();
        let sha = "a".repeat(64);
        media::enqueue_sealed_upload(&conn, &sha, "/nowhere", 10).unwrap();
        enqueue(&conn, &sealer, &write(1)).unwrap();
        enqueue_after_media(&conn, &sealer, &write(2), std::slice::from_ref(&sha)).unwrap();
        enqueue(&conn, &sealer, &write(3)).unwrap();
        let ids = |b: Vec<Queued>| b.into_iter().map(|q| q.write.client_id).collect::<Vec<_>>();
        assert_eq!(
            ids(next_batch(&conn, &sealer, 10).unwrap()),
            vec![Uuid::from_u128(1)],
            "only what comes before the waiting message"
        );
        media::set_acked(&conn, &sha, 10, true).unwrap();
        assert_eq!(ids(next_batch(&conn, &sealer, 10).unwrap()).len(), 3);
        // An upload given up does not block the outbox: the server's refusal settles the write.
        let other = "b".repeat(64);
        media::enqueue_sealed_upload(&conn, &other, "/nowhere", 10).unwrap();
        enqueue_after_media(&conn, &sealer, &write(4), std::slice::from_ref(&other)).unwrap();
        assert_eq!(ids(next_batch(&conn, &sealer, 10).unwrap()).len(), 3);
        media::give_up(&conn, &other).unwrap();
        assert_eq!(ids(next_batch(&conn, &sealer, 10).unwrap()).len(), 4);
    }
}
