//! Goals in the cache (REQ-PTS-8): the server's record of each goal, sealed at rest (an EHCP
//! outcome is SEN data). Unsent edits stay in the outbox and are laid over these when read.

use std::collections::BTreeSet;

use homeroom_protocol::goals::{self, GoalRecord};
use rusqlite::{params, Connection};
use uuid::Uuid;

use crate::error::{CoreError, StorageContext};
use crate::store::seal::Sealer;

fn place(id: &str) -> String {
    format!("goal:{id}")
}

/// Stores (or replaces) a goal's record.
pub fn upsert(conn: &Connection, sealer: &Sealer, goal: &GoalRecord) -> Result<(), CoreError> {
    let id = goal.id.to_string();
    let body = serde_json::to_vec(goal).map_err(|e| CoreError::Io(format!("encode goal: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO goals (id, pupil_id, record, pending) VALUES (?1, ?2, ?3, 0)
         ON CONFLICT(id) DO UPDATE SET pupil_id = excluded.pupil_id, record = excluded.record",
    )
    .ctx("preparing a goal upsert")?
    .execute(params![id, goal.pupil_id, sealer.seal(&body, &place(&id))?])
    .ctx("storing a goal")?;
    Ok(())
}

fn decode(sealer: &Sealer, id: &str, sealed: &[u8]) -> Result<GoalRecord, CoreError> {
    let body = sealer.open(sealed, &place(id))?;
    serde_json::from_slice(&body).map_err(|e| CoreError::Io(format!("corrupt goal: {e}")))
}

/// One goal's stored record.
pub fn get(conn: &Connection, sealer: &Sealer, id: &str) -> Result<Option<GoalRecord>, CoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT record FROM goals WHERE id = ?1")
        .ctx("preparing a goal lookup")?;
    let mut rows = stmt.query([id]).ctx("looking a goal up")?;
    match rows.next().ctx("reading a goal")? {
        Some(r) => Ok(Some(decode(
            sealer,
            id,
            &r.get::<_, Vec<u8>>(0).ctx("reading a goal")?,
        )?)),
        None => Ok(None),
    }
}

/// Every stored goal of one pupil.
pub fn for_pupil(
    conn: &Connection,
    sealer: &Sealer,
    pupil_id: &str,
) -> Result<Vec<GoalRecord>, CoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT id, record FROM goals WHERE pupil_id = ?1 ORDER BY id")
        .ctx("preparing the goals query")?;
    let rows = stmt
        .query_map([pupil_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .ctx("reading goals")?
        .collect::<Result<Vec<_>, _>>()
        .ctx("reading goals")?;
    rows.iter()
        .map(|(id, sealed)| decode(sealer, id, sealed))
        .collect()
}

/// Of the portfolio posts `goals` link, those this device still holds: a withdrawn post
/// (REQ-CON-4) or one erased (REQ-PRV-4) has left the cache, and no longer counts (REQ-PTS-8).
pub fn standing_items(
    conn: &Connection,
    goals: &[GoalRecord],
) -> Result<BTreeSet<Uuid>, CoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT 1 FROM posts WHERE id = ?1")
        .ctx("preparing the linked-item lookup")?;
    let mut standing = BTreeSet::new();
    for id in goals::linked_items(goals) {
        if stmt
            .exists([id.to_string()])
            .ctx("looking a linked item up")?
        {
            standing.insert(id);
        }
    }
    Ok(standing)
}

/// Removes the goals of every pupil not in `visible` (REQ-ACC-5: a pupil who left, a family
/// removed); returns the pupils purged.
pub fn purge_except(conn: &Connection, visible: &[String]) -> Result<Vec<String>, CoreError> {
    let cached: Vec<String> = conn
        .prepare_cached("SELECT DISTINCT pupil_id FROM goals")
        .ctx("preparing the goal purge")?
        .query_map([], |r| r.get(0))
        .ctx("listing pupils with goals")?
        .collect::<Result<_, _>>()
        .ctx("listing pupils with goals")?;
    let gone: Vec<String> = cached
        .into_iter()
        .filter(|p| !visible.contains(p))
        .collect();
    for p in &gone {
        conn.execute("DELETE FROM goals WHERE pupil_id = ?1", [p])
            .ctx("purging a pupil's goals")?;
    }
    Ok(gone)
}
