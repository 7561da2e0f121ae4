//! The restricted safeguarding record (REQ-PRV-5): when a message is reported, a self-contained
//! copy of it and its thread is written in the report's own transaction. The retention job and
//! pupil erasure never touch it; only leaders read it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use homeroom_protocol::safeguarding::SafeguardingRecord;
use homeroom_protocol::wire::MessageRecord;
use sqlx::Row;
use uuid::Uuid;

use crate::db::{Db, DbTx};
use crate::error::ServerError;
use crate::message_columns;
use crate::messaging::{display_name, message_from_row, MessageRow};
use crate::push::schedule::stamp;

/// What a report says, as the record needs it.
pub struct Report<'a> {
    pub id: Uuid,
    pub school_id: &'a str,
    pub reporter_id: &'a str,
    pub reason: Option<&'a str>,
    pub message: &'a MessageRecord,
    pub at: DateTime<Utc>,
}

/// Copies the reported message, its thread, the pair's names and the parent's pupils into the
/// safeguarding record, inside the report's transaction.
#[tracing::instrument(skip_all, fields(report = %r.id))]
pub async fn record(db: &Db, tx: &mut DbTx<'_>, r: &Report<'_>) -> Result<(), ServerError> {
    let rows: Vec<MessageRow> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages m JOIN threads t ON t.id = m.thread_id
         WHERE m.thread_id = $1 ORDER BY m.sent_at, m.id"
    ))
    .bind(r.message.thread_id.to_string())
    .fetch_all(&mut **tx)
    .await?;
    let thread = rows
        .into_iter()
        .map(message_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let mut names = BTreeMap::new();
    for id in [&r.message.parent_id, &r.message.staff_id] {
        names.insert(id.clone(), display_name(db, id).await?);
    }
    let pupils_concerned =
        sqlx::query("SELECT pupil_id FROM parent_links WHERE parent_id = $1 ORDER BY pupil_id")
            .bind(&r.message.parent_id)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>("pupil_id"))
            .collect::<Result<Vec<_>, _>>()?;
    let record = SafeguardingRecord {
        id: r.id,
        reported_at: r.at,
        reporter_id: r.reporter_id.to_owned(),
        reason: r.reason.map(str::to_owned),
        message: r.message.clone(),
        thread,
        names,
        pupils_concerned,
    };
    let json = serde_json::to_string(&record).map_err(|e| ServerError::Internal(e.to_string()))?;
    sqlx::query(
        "INSERT INTO safeguarding_records (id, school_id, reported_at, record) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(r.id.to_string())
    .bind(r.school_id)
    .bind(stamp(r.at))
    .bind(json)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The school's safeguarding record, newest first.
pub async fn all(db: &Db, school_id: &str) -> Result<Vec<SafeguardingRecord>, ServerError> {
    let rows = sqlx::query(
        "SELECT record FROM safeguarding_records WHERE school_id = $1 ORDER BY reported_at DESC, id",
    )
    .bind(school_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            serde_json::from_str(row.try_get::<&str, _>("record")?)
                .map_err(|e| ServerError::Internal(format!("stored safeguarding record: {e}")))
        })
        .collect()
}
