//! Awards in the cache: written optimistically by the device, confirmed or replaced by pulls.

use chrono::{DateTime, Utc};
use homeroom_protocol::wire::AwardRecord;
use rusqlite::Connection;

use crate::error::{CoreError, StorageContext};
use crate::store::seal::Sealer;

/// An award as the cache holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedAward {
    pub record: AwardRecord,
    /// Made on this device and not yet acknowledged by the server.
    pub pending: bool,
}

/// Where an award's note lives, for sealing: a note cannot be moved to another award.
fn note_place(id: &str) -> String {
    format!("award-note:{id}")
}

/// Seals a note for its award.
fn seal_note(sealer: &Sealer, a: &AwardRecord) -> Result<Option<Vec<u8>>, CoreError> {
    a.note
        .as_deref()
        .map(|n| sealer.seal_str(n, &note_place(&a.id.to_string())))
        .transpose()
}

/// The eight bound columns (?1..?8) every award insert shares, the note sealed.
type AwardRow<'a> = (
    String,
    &'a str,
    &'a str,
    &'a str,
    i32,
    Option<Vec<u8>>,
    &'a str,
    String,
);

fn award_row<'a>(sealer: &Sealer, a: &'a AwardRecord) -> Result<AwardRow<'a>, CoreError> {
    Ok((
        a.id.to_string(),
        &a.pupil_id,
        &a.class_id,
        &a.skill_id,
        a.points,
        seal_note(sealer, a)?,
        &a.awarded_by,
        a.awarded_at.to_rfc3339(),
    ))
}

/// Stores an award made on this device, not yet acknowledged.
pub fn insert_pending(
    conn: &Connection,
    sealer: &Sealer,
    a: &AwardRecord,
) -> Result<(), CoreError> {
    conn.prepare_cached(
        "INSERT INTO awards (id, pupil_id, class_id, skill_id, points, note, awarded_by, awarded_at, pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)",
    )
    .ctx("preparing an award insert")?
    .execute(award_row(sealer, a)?)
    .ctx("saving an award")?;
    Ok(())
}

/// Stores an award from the server. A local award the server has not acknowledged yet is
/// left alone: pulled data never overwrites an unsent edit.
pub fn upsert_pulled(conn: &Connection, sealer: &Sealer, a: &AwardRecord) -> Result<(), CoreError> {
    // Cached: a cold sync runs this thousands of times.
    let mut stmt = conn
        .prepare_cached(
        "INSERT INTO awards (id, pupil_id, class_id, skill_id, points, note, awarded_by, awarded_at, pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)
         ON CONFLICT(id) DO UPDATE SET pupil_id = excluded.pupil_id, class_id = excluded.class_id,
             skill_id = excluded.skill_id, points = excluded.points, note = excluded.note,
             awarded_by = excluded.awarded_by, awarded_at = excluded.awarded_at
         WHERE awards.pending = 0",
        )
        .ctx("preparing to save a pulled award")?;
    stmt.execute(award_row(sealer, a)?)
        .ctx("saving a pulled award")?;
    Ok(())
}

/// Marks the device's awards as acknowledged by the server.
pub fn confirm(conn: &Connection, ids: &[String]) -> Result<(), CoreError> {
    for_each_id(
        conn,
        "UPDATE awards SET pending = 0 WHERE id = ?1",
        ids,
        "confirming an award",
    )
}

/// Hides or shows awards: an undo waiting for the server, or one it refused.
pub fn set_hidden(conn: &Connection, ids: &[String], hidden: bool) -> Result<(), CoreError> {
    let sql = if hidden {
        "UPDATE awards SET hidden = 1 WHERE id = ?1"
    } else {
        "UPDATE awards SET hidden = 0 WHERE id = ?1"
    };
    for_each_id(conn, sql, ids, "hiding or showing an award")
}

/// Removes awards (a rejected optimistic write being rolled back).
pub fn delete(conn: &Connection, ids: &[String]) -> Result<(), CoreError> {
    for_each_id(
        conn,
        "DELETE FROM awards WHERE id = ?1",
        ids,
        "removing an award",
    )
}

/// Runs one cached single-id statement for each id.
fn for_each_id(
    conn: &Connection,
    sql: &str,
    ids: &[String],
    context: &'static str,
) -> Result<(), CoreError> {
    let mut stmt = conn.prepare_cached(sql).ctx(context)?;
    for id in ids {
        stmt.execute([id]).ctx(context)?;
    }
    Ok(())
}

/// Removes every cached award of pupils this person may no longer see (REQ-ACC-5): keeps only
/// `visible`, and never an award still waiting in the outbox. Returns the pupils purged.
pub fn purge_except(conn: &Connection, visible: &[String]) -> Result<Vec<String>, CoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT DISTINCT pupil_id FROM awards WHERE pending = 0")
        .ctx("preparing the purge")?;
    let cached: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .ctx("listing cached pupils")?
        .collect::<Result<_, _>>()
        .ctx("reading cached pupils")?;
    let gone: Vec<String> = cached
        .into_iter()
        .filter(|p| !visible.contains(p))
        .collect();
    for p in &gone {
        conn.execute(
            "DELETE FROM awards WHERE pupil_id = ?1 AND pending = 0",
            [p],
        )
        .ctx("purging a pupil's awards")?;
    }
    Ok(gone)
}

/// The retention cut-off as stored text: RFC 3339 in UTC compares correctly on its first 19
/// characters (REQ-PTS-7).
fn cutoff_text(now: DateTime<Utc>) -> String {
    homeroom_protocol::retention::award_cutoff(now)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// Deletes awards past the retention cut-off, even before the server's removal arrives;
/// returns the pupils affected. Unsent awards are kept until the server has answered.
pub fn delete_expired(conn: &Connection, now: DateTime<Utc>) -> Result<Vec<String>, CoreError> {
    let cutoff = cutoff_text(now);
    let mut stmt = conn
        .prepare_cached("SELECT DISTINCT pupil_id FROM awards WHERE pending = 0 AND substr(awarded_at, 1, 19) < ?1")
        .ctx("finding expired awards")?;
    let pupils: Vec<String> = stmt
        .query_map([&cutoff], |r| r.get(0))
        .ctx("finding expired awards")?
        .collect::<Result<_, _>>()
        .ctx("reading expired awards")?;
    conn.execute(
        "DELETE FROM awards WHERE pending = 0 AND substr(awarded_at, 1, 19) < ?1",
        [&cutoff],
    )
    .ctx("deleting expired awards")?;
    Ok(pupils)
}

/// Pupils whose awards these ids are.
pub fn pupils_of(conn: &Connection, ids: &[String]) -> Result<Vec<String>, CoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT pupil_id FROM awards WHERE id = ?1")
        .ctx("preparing award lookup")?;
    let mut out = Vec::new();
    for id in ids {
        let mut rows = stmt.query([id]).ctx("looking an award up")?;
        if let Some(r) = rows.next().ctx("reading an award")? {
            out.push(r.get(0).ctx("reading an award's pupil")?);
        }
    }
    Ok(out)
}

/// One pupil's awards, newest first.
pub fn for_pupil(
    conn: &Connection,
    sealer: &Sealer,
    pupil_id: &str,
) -> Result<Vec<CachedAward>, CoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, pupil_id, class_id, skill_id, points, note, awarded_by, awarded_at, pending
             FROM awards WHERE pupil_id = ?1 AND hidden = 0 AND substr(awarded_at, 1, 19) >= ?2
             ORDER BY awarded_at DESC, id",
        )
        .ctx("preparing the points query")?;
    let rows = stmt
        .query_map([pupil_id, cutoff_text(Utc::now()).as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i32>(4)?,
                r.get::<_, Option<Vec<u8>>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, i64>(8)?,
            ))
        })
        .ctx("reading points")?;
    let mut out = Vec::new();
    for row in rows {
        let (id, pupil_id, class_id, skill_id, points, sealed_note, awarded_by, at, pending) =
            row.ctx("reading an award row")?;
        let note = sealed_note
            .map(|n| sealer.open_string(&n, &note_place(&id)))
            .transpose()?;
        let id = id
            .parse()
            .map_err(|e| CoreError::Io(format!("corrupt award id in cache: {e}")))?;
        let awarded_at = DateTime::parse_from_rfc3339(&at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| CoreError::Io(format!("corrupt award time in cache: {e}")))?;
        out.push(CachedAward {
            record: AwardRecord {
                id,
                pupil_id,
                class_id,
                skill_id,
                points,
                note,
                awarded_by,
                awarded_at,
            },
            pending: pending != 0,
        });
    }
    Ok(out)
}
