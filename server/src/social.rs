//! Comments and likes on posts from a device's push (REQ-STO-4), checked with the shared rules.
//! Every log entry carries its post's id, so withdrawing the post (REQ-CON-4) takes its comments
//! and likes out of the log with it, and a `ref_id`, so a removal or a newer state replaces the
//! older entry instead of leaving it to be pulled.

use chrono::{DateTime, SecondsFormat, Utc};
use homeroom_protocol::access::SchoolFacts;
use homeroom_protocol::posts::Audience;
use homeroom_protocol::social::{
    may_comment, may_like, may_moderate, may_remove_comment, validate_comment, CommentRecord,
    LikeRecord,
};
use homeroom_protocol::wire::{Change, RejectCode, WriteOutcome};
use sqlx::Row;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::DbTx;
use crate::error::ServerError;

fn reject(code: RejectCode, reason: impl Into<String>) -> WriteOutcome {
    WriteOutcome::Rejected {
        code,
        reason: reason.into(),
    }
}

/// A live post as the rules need it.
pub(crate) struct Post {
    pub(crate) audience: Audience,
    comments_off: bool,
    /// When it was posted, as stored (RFC 3339): goals count items by it (REQ-PTS-8).
    pub(crate) posted_at: String,
}

/// The post, if it exists, is not withdrawn and `caller` may read it; otherwise the refusal to
/// give (the same for "no such post" and "not yours to see": nothing leaks).
pub(crate) async fn readable_post(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    post_id: &Uuid,
) -> Result<Result<Post, WriteOutcome>, ServerError> {
    let row = sqlx::query(
        "SELECT audience, comments_off, posted_at FROM posts
         WHERE id = $1 AND school_id = $2 AND withdrawn = 0",
    )
    .bind(post_id.to_string())
    .bind(&caller.school_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(Err(reject(RejectCode::NotFound, "no such post")));
    };
    let audience: Audience = serde_json::from_str(row.try_get::<&str, _>("audience")?)
        .map_err(|e| ServerError::Internal(format!("stored audience: {e}")))?;
    if !audience.may_read(facts, &caller.user_id) {
        return Ok(Err(reject(RejectCode::NotFound, "no such post")));
    }
    Ok(Ok(Post {
        audience,
        comments_off: row.try_get::<i64, _>("comments_off")? != 0,
        posted_at: row.try_get("posted_at")?,
    }))
}

/// Appends a log entry about `post_id`, first deleting older entries about the same `ref_id`.
async fn log(
    tx: &mut DbTx<'_>,
    school_id: &str,
    kind: &str,
    post_id: &Uuid,
    ref_id: &str,
    change: &Change,
) -> Result<(), ServerError> {
    sqlx::query("DELETE FROM changes WHERE school_id = $1 AND ref_id = $2")
        .bind(school_id)
        .bind(ref_id)
        .execute(&mut **tx)
        .await?;
    let payload =
        serde_json::to_string(change).map_err(|e| ServerError::Internal(format!("change: {e}")))?;
    sqlx::query(
        "INSERT INTO changes (school_id, kind, post_id, ref_id, pupil_id, payload)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(school_id)
    .bind(kind)
    .bind(post_id.to_string())
    .bind(ref_id)
    .bind(portfolio_owner(change))
    .bind(payload)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The pupil whose portfolio an entry is about: erasing the pupil (REQ-PRV-4) erases it too.
fn portfolio_owner(change: &Change) -> Option<String> {
    let audience = match change {
        Change::Comment(CommentRecord { audience, .. })
        | Change::Like(LikeRecord { audience, .. })
        | Change::CommentRemoved { audience, .. }
        | Change::CommentsOpen { audience, .. } => audience,
        _ => return None,
    };
    match audience {
        Audience::Portfolio { pupil_id } => Some(pupil_id.clone()),
        _ => None,
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// REQ-STO-4: a comment by class staff or a parent of the class (or of the portfolio's pupil).
pub async fn comment(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    comment_id: Uuid,
    post_id: &Uuid,
    body: &str,
) -> Result<WriteOutcome, ServerError> {
    if let Err((field, why)) = validate_comment(body) {
        return Ok(reject(RejectCode::Invalid, format!("{field}: {why}")));
    }
    let post = match readable_post(tx, caller, facts, post_id).await? {
        Ok(p) => p,
        Err(refused) => return Ok(refused),
    };
    if let Err(denied) = may_comment(facts, &caller.user_id, &post.audience) {
        return Ok(reject(RejectCode::Forbidden, denied.to_string()));
    }
    if post.comments_off {
        return Ok(reject(
            RejectCode::Forbidden,
            "comments are turned off on this post",
        ));
    }
    let id = comment_id.to_string();
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM post_comments WHERE id = $1")
        .bind(&id)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Ok(reject(RejectCode::Invalid, "a comment with this id exists"));
    }
    let author_name: String = sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1")
        .bind(&caller.user_id)
        .fetch_optional(&mut **tx)
        .await?
        .unwrap_or_default();
    let record = CommentRecord {
        id: comment_id,
        post_id: *post_id,
        audience: post.audience,
        author: caller.user_id.clone(),
        author_name,
        body: body.trim().to_owned(),
        commented_at: Utc::now(),
    };
    sqlx::query(
        "INSERT INTO post_comments (id, post_id, school_id, author, body, commented_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(post_id.to_string())
    .bind(&caller.school_id)
    .bind(&record.author)
    .bind(&record.body)
    .bind(stamp(record.commented_at))
    .execute(&mut **tx)
    .await?;
    let change = Change::Comment(record);
    log(tx, &caller.school_id, "comment", post_id, &id, &change).await?;
    Ok(WriteOutcome::Accepted)
}

/// REQ-STO-4: the author deletes their comment, or class staff remove any comment in the class.
pub async fn remove_comment(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    comment_id: &Uuid,
) -> Result<WriteOutcome, ServerError> {
    let id = comment_id.to_string();
    let Some(row) =
        sqlx::query("SELECT post_id, author FROM post_comments WHERE id = $1 AND school_id = $2")
            .bind(&id)
            .bind(&caller.school_id)
            .fetch_optional(&mut **tx)
            .await?
    else {
        return Ok(reject(
            RejectCode::NotFound,
            "no such comment (it may have been removed already)",
        ));
    };
    let author: String = row.try_get("author")?;
    let post_id: Uuid = row
        .try_get::<&str, _>("post_id")?
        .parse()
        .map_err(|e| ServerError::Internal(format!("post id in database: {e}")))?;
    let post = match readable_post(tx, caller, facts, &post_id).await? {
        Ok(p) => p,
        Err(_) => return Ok(reject(RejectCode::NotFound, "no such comment")),
    };
    if let Err(denied) = may_remove_comment(facts, &caller.user_id, &author, &post.audience) {
        return Ok(reject(RejectCode::Forbidden, denied.to_string()));
    }
    sqlx::query("DELETE FROM post_comments WHERE id = $1")
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    if author != caller.user_id {
        tracing::info!("class staff removed a comment");
    }
    let change = Change::CommentRemoved {
        comment_id: *comment_id,
        post_id,
        audience: post.audience,
    };
    log(
        tx,
        &caller.school_id,
        "comment_removed",
        &post_id,
        &id,
        &change,
    )
    .await?;
    Ok(WriteOutcome::Accepted)
}

/// REQ-STO-4: likes a post, or takes the like back; repeating either changes nothing.
pub async fn set_like(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    post_id: &Uuid,
    liked: bool,
) -> Result<WriteOutcome, ServerError> {
    let post = match readable_post(tx, caller, facts, post_id).await? {
        Ok(p) => p,
        Err(refused) => return Ok(refused),
    };
    if let Err(denied) = may_like(facts, &caller.user_id, &post.audience) {
        return Ok(reject(RejectCode::Forbidden, denied.to_string()));
    }
    let pid = post_id.to_string();
    let changed = if liked {
        sqlx::query(
            "INSERT INTO post_likes (post_id, user_id, liked_at) VALUES ($1, $2, $3)
             ON CONFLICT (post_id, user_id) DO NOTHING",
        )
        .bind(&pid)
        .bind(&caller.user_id)
        .bind(stamp(Utc::now()))
        .execute(&mut **tx)
        .await?
    } else {
        sqlx::query("DELETE FROM post_likes WHERE post_id = $1 AND user_id = $2")
            .bind(&pid)
            .bind(&caller.user_id)
            .execute(&mut **tx)
            .await?
    }
    .rows_affected()
        > 0;
    if changed {
        let change = Change::Like(LikeRecord {
            post_id: *post_id,
            audience: post.audience,
            user_id: caller.user_id.clone(),
            liked,
        });
        let ref_id = format!("like:{pid}:{}", caller.user_id);
        log(tx, &caller.school_id, "like", post_id, &ref_id, &change).await?;
    }
    Ok(WriteOutcome::Accepted)
}

/// REQ-STO-4: class staff turn comments on a post off, or on again.
pub async fn set_comments_open(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    post_id: &Uuid,
    open: bool,
) -> Result<WriteOutcome, ServerError> {
    let post = match readable_post(tx, caller, facts, post_id).await? {
        Ok(p) => p,
        Err(refused) => return Ok(refused),
    };
    if let Err(denied) = may_moderate(facts, &caller.user_id, &post.audience) {
        return Ok(reject(RejectCode::Forbidden, denied.to_string()));
    }
    if post.comments_off != open {
        return Ok(WriteOutcome::Accepted);
    }
    sqlx::query("UPDATE posts SET comments_off = $1 WHERE id = $2")
        .bind(i64::from(!open))
        .bind(post_id.to_string())
        .execute(&mut **tx)
        .await?;
    let change = Change::CommentsOpen {
        post_id: *post_id,
        audience: post.audience,
        open,
    };
    let ref_id = format!("comments_open:{post_id}");
    log(
        tx,
        &caller.school_id,
        "comments_open",
        post_id,
        &ref_id,
        &change,
    )
    .await?;
    Ok(WriteOutcome::Accepted)
}
