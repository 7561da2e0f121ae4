//! The retention job (REQ-PTS-7, PRV-5): awards past the shared cut-off are deleted on the
//! server, and each deletion is logged so every device purges its copy on its next sync.

use std::time::Duration;

use crate::db::Db;
use chrono::{DateTime, Utc};
use homeroom_protocol::retention::award_cutoff;
use sqlx::Row;
use uuid::Uuid;

use crate::error::ServerError;
use crate::removal::remove_award;

/// How many awards one transaction deletes, so the job never holds the write lock for long.
const BATCH: i64 = 500;

/// Deletes every award made before the cut-off for `now`; returns how many.
#[tracing::instrument(skip(pool))]
pub async fn run_once(pool: &Db, now: DateTime<Utc>) -> Result<u64, ServerError> {
    // Stored as RFC 3339 in UTC: the first 19 characters compare correctly as text.
    let cutoff = award_cutoff(now).format("%Y-%m-%dT%H:%M:%S").to_string();
    let mut removed = 0u64;
    loop {
        let rows = sqlx::query(
            "SELECT id, school_id, pupil_id FROM awards WHERE substr(awarded_at, 1, 19) < $1 ORDER BY awarded_at LIMIT $2",
        )
        .bind(&cutoff)
        .bind(BATCH)
        .fetch_all(pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        let mut tx = crate::db::write_tx(pool).await?;
        for row in &rows {
            let id: String = row.try_get("id")?;
            let id: Uuid = id
                .parse()
                .map_err(|e| ServerError::Internal(format!("award id in database: {e}")))?;
            let school: String = row.try_get("school_id")?;
            let pupil: String = row.try_get("pupil_id")?;
            remove_award(&mut tx, &school, &id, &pupil).await?;
        }
        tx.commit().await?;
        removed += rows.len() as u64;
    }
    if removed > 0 {
        tracing::info!(removed, "retention: expired awards deleted");
    }
    Ok(removed)
}

/// Runs the job now and then every `every`, for as long as the server runs.
pub fn spawn(pool: Db, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&pool, Utc::now()).await {
                tracing::error!(error = %e, "retention job failed; will retry");
            }
        }
    })
}
