//! Erasing a pupil who has left (REQ-PRV-4): every row the subject-access export lists goes, in
//! one transaction; photo files no other post or message shows leave the media store after it
//! commits. What stays, and why:
//! - the audit log's `erase_pupil` entry (the school must be able to show it erased, and when);
//! - safeguarding records (exempt: REQ-PRV-5);
//! - withdrawal entries in the change log for each deleted post, which name the post and its
//!   audience (for a portfolio item, the pupil's opaque id, never a name): without them a device
//!   that cached the post would keep showing it.

use homeroom_protocol::membership::ErasedPupil;
use homeroom_protocol::posts::Audience;
use sqlx::Row;

use crate::db::DbTx;
use crate::error::ServerError;

/// What an erasure removed, and the photos to delete from the store once it has committed.
pub struct Erased {
    pub summary: ErasedPupil,
    pub media_to_delete: Vec<String>,
}

/// Erases `pupil_id` of `school_id` inside `tx` (the caller checked the rules). `NotFound` if
/// there is no such pupil.
pub async fn erase_pupil(
    tx: &mut DbTx<'_>,
    school_id: &str,
    pupil_id: &str,
) -> Result<Erased, ServerError> {
    // The change log carries award and portfolio payloads (notes, captions): it forgets the pupil.
    sqlx::query("DELETE FROM changes WHERE school_id = $1 AND pupil_id = $2")
        .bind(school_id)
        .bind(pupil_id)
        .execute(&mut **tx)
        .await?;
    let awards_deleted = sqlx::query("DELETE FROM awards WHERE pupil_id = $1 AND school_id = $2")
        .bind(pupil_id)
        .bind(school_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    let goals_deleted = crate::goals::erase(tx, school_id, pupil_id).await?;
    let (posts_deleted, comments_deleted, photos) = erase_posts(tx, school_id, pupil_id).await?;
    let media_to_delete = unshared_media(tx, school_id, photos).await?;
    // The consent record and its history are the pupil's too (the record's key would also keep
    // the pupil row alive).
    let consent_records_deleted = sqlx::query("DELETE FROM consent_history WHERE pupil_id = $1")
        .bind(pupil_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM consent WHERE pupil_id = $1")
        .bind(pupil_id)
        .execute(&mut **tx)
        .await?;
    let report_shares_deleted =
        sqlx::query("DELETE FROM report_shares WHERE school_id = $1 AND pupil_id = $2")
            .bind(school_id)
            .bind(pupil_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    sqlx::query("DELETE FROM parent_codes WHERE pupil_id = $1")
        .bind(pupil_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM parent_link_requests WHERE pupil_id = $1")
        .bind(pupil_id)
        .execute(&mut **tx)
        .await?;
    let parents: Vec<String> =
        sqlx::query_scalar("DELETE FROM parent_links WHERE pupil_id = $1 RETURNING parent_id")
            .bind(pupil_id)
            .fetch_all(&mut **tx)
            .await?;
    let parent_links_deleted = parents.len() as u64;
    // A parent left with no child here: their conversations about this pupil go too.
    let mut messages_deleted = 0;
    for parent in &parents {
        let (others,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM parent_links WHERE parent_id = $1")
                .bind(parent)
                .fetch_one(&mut **tx)
                .await?;
        if others == 0 {
            messages_deleted +=
                crate::messaging::erase_conversations(tx, school_id, parent).await?;
        }
    }
    sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE pupil_id = $1)")
        .bind(pupil_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM users WHERE pupil_id = $1 AND role = 'pupil'")
        .bind(pupil_id)
        .execute(&mut **tx)
        .await?;
    let gone = sqlx::query("DELETE FROM pupils WHERE id = $1 AND school_id = $2")
        .bind(pupil_id)
        .bind(school_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(ServerError::NotFound);
    }
    Ok(Erased {
        media_to_delete,
        summary: ErasedPupil {
            pupil_id: pupil_id.to_owned(),
            awards_deleted,
            goals_deleted,
            parent_links_deleted,
            messages_deleted,
            posts_deleted,
            comments_deleted,
            media_files_deleted: 0,
            consent_records_deleted,
            report_shares_deleted,
        },
    })
}

/// Deletes the pupil's portfolio items and every post tagging the pupil — a photo of the pupil
/// cannot stay once their consent record is gone (REQ-CON-4) — with their tags, comments, likes
/// and log entries, logging a withdrawal for each so devices drop it. Returns posts and comments
/// deleted and the photos the posts showed.
async fn erase_posts(
    tx: &mut DbTx<'_>,
    school_id: &str,
    pupil_id: &str,
) -> Result<(u64, u64, Vec<String>), ServerError> {
    let (portfolio, tagged) = crate::subject_access::post_ids(tx, school_id, pupil_id).await?;
    let (mut posts, mut comments, mut photos) = (0, 0, Vec::new());
    for post_id in portfolio.iter().chain(&tagged) {
        let row = sqlx::query("SELECT audience, media_sha256 FROM posts WHERE id = $1")
            .bind(post_id)
            .fetch_one(&mut **tx)
            .await?;
        let audience: Audience = serde_json::from_str(row.try_get::<&str, _>("audience")?)
            .map_err(|e| ServerError::Internal(format!("stored audience: {e}")))?;
        if let Some(sha) = row.try_get::<Option<String>, _>("media_sha256")? {
            if !photos.contains(&sha) {
                photos.push(sha);
            }
        }
        comments += sqlx::query("DELETE FROM post_comments WHERE post_id = $1")
            .bind(post_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        for table in ["post_likes", "post_tags"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE post_id = $1"
            )))
            .bind(post_id)
            .execute(&mut **tx)
            .await?;
        }
        posts += sqlx::query("DELETE FROM posts WHERE id = $1")
            .bind(post_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        crate::consent::unlog_post(tx, school_id, post_id, audience).await?;
    }
    Ok((posts, comments, photos))
}

/// Of `photos`, those no remaining post or message attachment shows: their rows go now, their
/// files once the transaction commits.
async fn unshared_media(
    tx: &mut DbTx<'_>,
    school_id: &str,
    photos: Vec<String>,
) -> Result<Vec<String>, ServerError> {
    let mut unshared = Vec::new();
    for sha in photos {
        let (in_posts,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM posts WHERE school_id = $1 AND media_sha256 = $2")
                .bind(school_id)
                .bind(&sha)
                .fetch_one(&mut **tx)
                .await?;
        let (in_messages,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM message_attachments a JOIN messages m ON m.id = a.message_id
             JOIN threads t ON t.id = m.thread_id WHERE t.school_id = $1 AND a.sha256 = $2",
        )
        .bind(school_id)
        .bind(&sha)
        .fetch_one(&mut **tx)
        .await?;
        if in_posts + in_messages > 0 {
            continue;
        }
        sqlx::query("DELETE FROM media WHERE school_id = $1 AND sha256 = $2")
            .bind(school_id)
            .bind(&sha)
            .execute(&mut **tx)
            .await?;
        unshared.push(sha);
    }
    Ok(unshared)
}
