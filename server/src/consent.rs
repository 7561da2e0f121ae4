//! Consent records on the server (REQ-CON-1) and what a change to one does (REQ-CON-4): the
//! record is logged for staff and the pupil's parents, and every post that now breaks it is
//! withdrawn from the feeds and from the change log.

use std::collections::BTreeMap;

use chrono::{SecondsFormat, Utc};
use homeroom_protocol::consent::ConsentRecord;
use homeroom_protocol::posts::{check_post_tags, Audience};
use homeroom_protocol::wire::Change;
use sqlx::Row;

use crate::db::DbTx;
use crate::error::ServerError;

fn internal(what: &str) -> impl Fn(serde_json::Error) -> ServerError + '_ {
    move |e| ServerError::Internal(format!("{what}: {e}"))
}

/// Every consent record of a school, by pupil (a school is small: hundreds of rows).
pub async fn records(
    tx: &mut DbTx<'_>,
    school_id: &str,
) -> Result<BTreeMap<String, ConsentRecord>, ServerError> {
    let mut out = BTreeMap::new();
    for row in sqlx::query(
        "SELECT c.pupil_id, c.record FROM consent c JOIN pupils p ON p.id = c.pupil_id
         WHERE p.school_id = $1",
    )
    .bind(school_id)
    .fetch_all(&mut **tx)
    .await?
    {
        let record: ConsentRecord = serde_json::from_str(row.try_get::<&str, _>("record")?)
            .map_err(internal("stored consent"))?;
        out.insert(row.try_get("pupil_id")?, record);
    }
    Ok(out)
}

/// One pupil's record; a pupil with none has never been asked (a no for every use).
pub async fn record(tx: &mut DbTx<'_>, pupil_id: &str) -> Result<ConsentRecord, ServerError> {
    match sqlx::query("SELECT record FROM consent WHERE pupil_id = $1")
        .bind(pupil_id)
        .fetch_optional(&mut **tx)
        .await?
    {
        Some(row) => serde_json::from_str(row.try_get::<&str, _>("record")?)
            .map_err(internal("stored consent")),
        None => Ok(ConsentRecord::default()),
    }
}

/// Stores `record` for `pupil_id` and withdraws every post it no longer allows.
/// Returns the ids of the withdrawn posts.
pub async fn set(
    tx: &mut DbTx<'_>,
    school_id: &str,
    pupil_id: &str,
    record: &ConsentRecord,
    by: Option<String>,
) -> Result<Vec<String>, ServerError> {
    let json = serde_json::to_string(record).map_err(internal("consent"))?;
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    sqlx::query(
        "INSERT INTO consent (pupil_id, record, updated_by, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (pupil_id) DO UPDATE SET record = excluded.record,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(pupil_id)
    .bind(&json)
    .bind(&by)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    // The history is the pupil's data too: the subject-access export lists it (REQ-PRV-4).
    sqlx::query(
        "INSERT INTO consent_history (pupil_id, record, updated_by, updated_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(pupil_id)
    .bind(&json)
    .bind(&by)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    // Devices learn the record through the directory (its version changes with it).
    withdraw_broken_posts(tx, school_id, pupil_id).await
}

/// Appends one entry to the school's change log.
pub async fn log(
    tx: &mut DbTx<'_>,
    school_id: &str,
    kind: &str,
    pupil_id: Option<&str>,
    post_id: Option<&str>,
    change: &Change,
) -> Result<(), ServerError> {
    let payload = serde_json::to_string(change).map_err(internal("change"))?;
    sqlx::query(
        "INSERT INTO changes (school_id, kind, pupil_id, post_id, payload) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(school_id)
    .bind(kind)
    .bind(pupil_id)
    .bind(post_id)
    .bind(payload)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// REQ-CON-4: re-checks every live post tagging `pupil_id` against today's records.
async fn withdraw_broken_posts(
    tx: &mut DbTx<'_>,
    school_id: &str,
    pupil_id: &str,
) -> Result<Vec<String>, ServerError> {
    let records = records(tx, school_id).await?;
    let posts = sqlx::query(
        "SELECT p.id, p.audience FROM posts p JOIN post_tags t ON t.post_id = p.id
         WHERE t.pupil_id = $1 AND p.school_id = $2 AND p.withdrawn = 0",
    )
    .bind(pupil_id)
    .bind(school_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut withdrawn = Vec::new();
    for row in posts {
        let post_id: String = row.try_get("id")?;
        let audience: Audience = serde_json::from_str(row.try_get::<&str, _>("audience")?)
            .map_err(internal("stored audience"))?;
        let tagged: Vec<String> = sqlx::query_scalar(
            "SELECT pupil_id FROM post_tags WHERE post_id = $1 ORDER BY pupil_id",
        )
        .bind(&post_id)
        .fetch_all(&mut **tx)
        .await?;
        if check_post_tags(&records, &tagged, &audience).is_ok() {
            continue;
        }
        withdraw(tx, school_id, &post_id, audience).await?;
        withdrawn.push(post_id);
    }
    if !withdrawn.is_empty() {
        tracing::info!(posts = withdrawn.len(), "consent change withdrew posts");
    }
    Ok(withdrawn)
}

/// Hides a post everywhere: flagged on the server, its log entries gone, a withdrawal logged.
async fn withdraw(
    tx: &mut DbTx<'_>,
    school_id: &str,
    post_id: &str,
    audience: Audience,
) -> Result<(), ServerError> {
    sqlx::query("UPDATE posts SET withdrawn = 1 WHERE id = $1")
        .bind(post_id)
        .execute(&mut **tx)
        .await?;
    unlog_post(tx, school_id, post_id, audience).await
}

/// Takes a post out of the change log (the post, its comments and likes) and logs its
/// withdrawal, so devices that cached it drop it and its photo (REQ-CON-4, PRV-4).
pub(crate) async fn unlog_post(
    tx: &mut DbTx<'_>,
    school_id: &str,
    post_id: &str,
    audience: Audience,
) -> Result<(), ServerError> {
    sqlx::query("DELETE FROM changes WHERE school_id = $1 AND post_id = $2")
        .bind(school_id)
        .bind(post_id)
        .execute(&mut **tx)
        .await?;
    let id = post_id
        .parse()
        .map_err(|e| ServerError::Internal(format!("post id in database: {e}")))?;
    let change = Change::PostWithdrawn {
        post_id: id,
        audience,
    };
    log(tx, school_id, "post_withdrawn", None, None, &change).await
}
