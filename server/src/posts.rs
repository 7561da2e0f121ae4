//! Creating a post from a device's push (REQ-STO-1..3): allowed by the shared rules, its photo
//! uploaded completely, and every tag re-checked against consent (REQ-CON-4).

use chrono::{SecondsFormat, Utc};
use homeroom_protocol::access::SchoolFacts;
use homeroom_protocol::posts::{check_post_tags, validate_post, Audience, NewPost, PostRecord};
use homeroom_protocol::wire::{Change, RejectCode, WriteOutcome};

use crate::auth::Caller;
use crate::db::DbTx;
use crate::error::ServerError;

fn reject(code: RejectCode, reason: impl Into<String>) -> WriteOutcome {
    WriteOutcome::Rejected {
        code,
        reason: reason.into(),
    }
}

/// Applies a `CreatePost` write inside the push's transaction.
pub async fn create(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    post: &NewPost,
) -> Result<WriteOutcome, ServerError> {
    if let Err((field, why)) = validate_post(post) {
        return Ok(reject(RejectCode::Invalid, format!("{field}: {why}")));
    }
    if let Err(denied) = post.audience.may_post(facts, &caller.user_id) {
        return Ok(reject(RejectCode::Forbidden, denied.to_string()));
    }
    for pupil in &post.tagged {
        let here = facts
            .pupils
            .get(pupil)
            .is_some_and(|p| p.school_id == caller.school_id);
        if !here {
            return Ok(reject(RejectCode::NotFound, format!("no pupil {pupil}")));
        }
    }
    let records = crate::consent::records(tx, &caller.school_id).await?;
    if let Err(block) = check_post_tags(&records, &post.tagged, &post.audience) {
        tracing::info!("post refused by consent re-check");
        return Ok(reject(RejectCode::ConsentBlocked, block.to_string()));
    }
    if let Some(sha) = &post.media_sha256 {
        let complete: Option<i64> =
            sqlx::query_scalar("SELECT complete FROM media WHERE school_id = $1 AND sha256 = $2")
                .bind(&caller.school_id)
                .bind(sha)
                .fetch_optional(&mut **tx)
                .await?;
        if complete != Some(1) {
            return Ok(reject(
                RejectCode::MediaMissing,
                "the photo has not been uploaded completely",
            ));
        }
    }
    let id = post.post_id.to_string();
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM posts WHERE id = $1")
        .bind(&id)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Ok(reject(RejectCode::Invalid, "a post with this id exists"));
    }
    let record = PostRecord {
        id: post.post_id,
        audience: post.audience.clone(),
        author: caller.user_id.clone(),
        caption: post.caption.clone(),
        media_sha256: post.media_sha256.clone(),
        tagged: post.tagged.clone(),
        posted_at: Utc::now(),
    };
    let audience = serde_json::to_string(&record.audience)
        .map_err(|e| ServerError::Internal(format!("audience: {e}")))?;
    sqlx::query(
        "INSERT INTO posts (id, school_id, audience, author, caption, media_sha256, posted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&caller.school_id)
    .bind(audience)
    .bind(&record.author)
    .bind(&record.caption)
    .bind(&record.media_sha256)
    .bind(
        record
            .posted_at
            .to_rfc3339_opts(SecondsFormat::Millis, true),
    )
    .execute(&mut **tx)
    .await?;
    for pupil in &record.tagged {
        sqlx::query("INSERT INTO post_tags (post_id, pupil_id) VALUES ($1, $2)")
            .bind(&id)
            .bind(pupil)
            .execute(&mut **tx)
            .await?;
    }
    let owner = match &record.audience {
        Audience::Portfolio { pupil_id } => Some(pupil_id.clone()),
        _ => None,
    };
    crate::consent::log(
        tx,
        &caller.school_id,
        "post",
        owner.as_deref(),
        Some(&id),
        &Change::Post(record),
    )
    .await?;
    Ok(WriteOutcome::Accepted)
}
