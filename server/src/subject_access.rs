//! Everything the school holds on one pupil, gathered for a subject-access request (REQ-PRV-4):
//! the record, parents and requests, awards, goals, consent and its history, portfolio items with their
//! comments and likes, posts the pupil is tagged in, their photos, and shared reports.

use chrono::{DateTime, Utc};
use homeroom_protocol::consent::ConsentRecord;
use homeroom_protocol::membership::{
    ExportedComment, ExportedConsent, ExportedLike, ExportedMedia, ExportedParent,
    ExportedParentRequest, ExportedPost, PupilExport,
};
use homeroom_protocol::posts::{Audience, PostRecord};
use homeroom_protocol::reports::SharedReport;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::error::ServerError;

/// A stored RFC 3339 timestamp.
pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>, ServerError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ServerError::Internal(format!("time in database: {e}")))
}

fn parse_optional_time(s: Option<String>) -> Result<Option<DateTime<Utc>>, ServerError> {
    s.as_deref().map(parse_time).transpose()
}

fn stored<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T, ServerError> {
    serde_json::from_str(json).map_err(|e| ServerError::Internal(format!("stored {what}: {e}")))
}

/// The audience column of `pupil_id`'s portfolio items, exactly as posts are stored.
pub(crate) fn portfolio_audience(pupil_id: &str) -> Result<String, ServerError> {
    serde_json::to_string(&Audience::Portfolio {
        pupil_id: pupil_id.to_owned(),
    })
    .map_err(|e| ServerError::Internal(format!("audience: {e}")))
}

/// The ids of the pupil's portfolio items and of the other posts tagging the pupil, in order
/// of posting: the posts an export lists and an erasure deletes.
pub(crate) async fn post_ids(
    conn: &mut AnyConnection,
    school_id: &str,
    pupil_id: &str,
) -> Result<(Vec<String>, Vec<String>), ServerError> {
    let portfolio: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM posts WHERE school_id = $1 AND audience = $2 ORDER BY posted_at, id",
    )
    .bind(school_id)
    .bind(portfolio_audience(pupil_id)?)
    .fetch_all(&mut *conn)
    .await?;
    let tagged: Vec<String> = sqlx::query_scalar(
        "SELECT p.id FROM posts p JOIN post_tags t ON t.post_id = p.id
         WHERE p.school_id = $1 AND t.pupil_id = $2 ORDER BY p.posted_at, p.id",
    )
    .bind(school_id)
    .bind(pupil_id)
    .fetch_all(&mut *conn)
    .await?;
    let tagged = tagged
        .into_iter()
        .filter(|id| !portfolio.contains(id))
        .collect();
    Ok((portfolio, tagged))
}

/// The whole export of `pupil_id` (the caller checked the rules and has the pupil's row).
pub async fn collect(
    conn: &mut AnyConnection,
    school_id: &str,
    pupil_id: &str,
    exported_by: &str,
) -> Result<PupilExport, ServerError> {
    let pupil =
        sqlx::query("SELECT display_name, class_id FROM pupils WHERE id = $1 AND school_id = $2")
            .bind(pupil_id)
            .bind(school_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(ServerError::NotFound)?;
    let (portfolio_ids, tagged_ids) = post_ids(conn, school_id, pupil_id).await?;
    let mut portfolio = Vec::with_capacity(portfolio_ids.len());
    for id in &portfolio_ids {
        portfolio.push(post(conn, id, true).await?);
    }
    let mut tagged_posts = Vec::with_capacity(tagged_ids.len());
    for id in &tagged_ids {
        tagged_posts.push(post(conn, id, false).await?);
    }
    let mut media = Vec::new();
    for p in portfolio.iter().chain(&tagged_posts) {
        if let Some(sha) = &p.post.media_sha256 {
            if !media.iter().any(|m: &ExportedMedia| &m.sha256 == sha) {
                if let Some(m) = media_of(conn, school_id, sha).await? {
                    media.push(m);
                }
            }
        }
    }
    let consent_history = consent_history(conn, pupil_id).await?;
    Ok(PupilExport {
        exported_at: Utc::now(),
        exported_by: exported_by.to_owned(),
        pupil_id: pupil_id.to_owned(),
        display_name: pupil.try_get("display_name")?,
        class_id: pupil.try_get("class_id")?,
        parents: parents(conn, pupil_id).await?,
        awards: crate::routes::pupils::awards_of(conn, pupil_id).await?,
        goals: crate::goals::of_pupil(conn, school_id, pupil_id).await?,
        parent_requests: parent_requests(conn, school_id, pupil_id).await?,
        consent: current_consent(conn, pupil_id).await?,
        consent_history,
        portfolio,
        tagged_posts,
        media,
        report_shares: report_shares(conn, school_id, pupil_id).await?,
    })
}

async fn parents(
    conn: &mut AnyConnection,
    pupil_id: &str,
) -> Result<Vec<ExportedParent>, ServerError> {
    let rows = sqlx::query(
        "SELECT u.id, u.display_name, u.email FROM parent_links l JOIN users u ON u.id = l.parent_id
         WHERE l.pupil_id = $1 ORDER BY u.id",
    )
    .bind(pupil_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ExportedParent {
                id: row.try_get("id")?,
                display_name: row.try_get("display_name")?,
                email: row.try_get("email")?,
            })
        })
        .collect()
}

async fn parent_requests(
    conn: &mut AnyConnection,
    school_id: &str,
    pupil_id: &str,
) -> Result<Vec<ExportedParentRequest>, ServerError> {
    let rows = sqlx::query(
        "SELECT parent_id, status, requested_at, decided_by, decided_at FROM parent_link_requests
         WHERE school_id = $1 AND pupil_id = $2 ORDER BY requested_at, id",
    )
    .bind(school_id)
    .bind(pupil_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ExportedParentRequest {
                parent_id: row.try_get("parent_id")?,
                status: row.try_get("status")?,
                requested_at: parse_time(&row.try_get::<String, _>("requested_at")?)?,
                decided_by: row.try_get("decided_by")?,
                decided_at: parse_optional_time(row.try_get("decided_at")?)?,
            })
        })
        .collect()
}

fn consent_from_row(row: &AnyRow) -> Result<ExportedConsent, ServerError> {
    Ok(ExportedConsent {
        record: stored::<ConsentRecord>("consent", &row.try_get::<String, _>("record")?)?,
        updated_by: row.try_get("updated_by")?,
        updated_at: parse_time(&row.try_get::<String, _>("updated_at")?)?,
    })
}

async fn current_consent(
    conn: &mut AnyConnection,
    pupil_id: &str,
) -> Result<Option<ExportedConsent>, ServerError> {
    sqlx::query("SELECT record, updated_by, updated_at FROM consent WHERE pupil_id = $1")
        .bind(pupil_id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(consent_from_row)
        .transpose()
}

async fn consent_history(
    conn: &mut AnyConnection,
    pupil_id: &str,
) -> Result<Vec<ExportedConsent>, ServerError> {
    sqlx::query(
        "SELECT record, updated_by, updated_at FROM consent_history WHERE pupil_id = $1 ORDER BY id",
    )
    .bind(pupil_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(consent_from_row)
    .collect()
}

/// One post with its tags; with its comments and likes when it is the pupil's portfolio item.
async fn post(
    conn: &mut AnyConnection,
    post_id: &str,
    with_reactions: bool,
) -> Result<ExportedPost, ServerError> {
    let row = sqlx::query(
        "SELECT id, audience, author, caption, media_sha256, posted_at, withdrawn FROM posts
         WHERE id = $1",
    )
    .bind(post_id)
    .fetch_one(&mut *conn)
    .await?;
    let tagged: Vec<String> =
        sqlx::query_scalar("SELECT pupil_id FROM post_tags WHERE post_id = $1 ORDER BY pupil_id")
            .bind(post_id)
            .fetch_all(&mut *conn)
            .await?;
    let record = PostRecord {
        id: stored_id(&row.try_get::<String, _>("id")?)?,
        audience: stored("audience", &row.try_get::<String, _>("audience")?)?,
        author: row.try_get("author")?,
        caption: row.try_get("caption")?,
        media_sha256: row.try_get("media_sha256")?,
        tagged,
        posted_at: parse_time(&row.try_get::<String, _>("posted_at")?)?,
    };
    let (comments, likes) = if with_reactions {
        (comments(conn, post_id).await?, likes(conn, post_id).await?)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(ExportedPost {
        post: record,
        withdrawn: row.try_get::<i64, _>("withdrawn")? != 0,
        comments,
        likes,
    })
}

fn stored_id(id: &str) -> Result<uuid::Uuid, ServerError> {
    id.parse()
        .map_err(|e| ServerError::Internal(format!("post id in database: {e}")))
}

async fn comments(
    conn: &mut AnyConnection,
    post_id: &str,
) -> Result<Vec<ExportedComment>, ServerError> {
    sqlx::query(
        "SELECT id, author, body, commented_at FROM post_comments WHERE post_id = $1
         ORDER BY commented_at, id",
    )
    .bind(post_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(ExportedComment {
            id: row.try_get("id")?,
            author: row.try_get("author")?,
            body: row.try_get("body")?,
            commented_at: parse_time(&row.try_get::<String, _>("commented_at")?)?,
        })
    })
    .collect()
}

async fn likes(conn: &mut AnyConnection, post_id: &str) -> Result<Vec<ExportedLike>, ServerError> {
    sqlx::query(
        "SELECT user_id, liked_at FROM post_likes WHERE post_id = $1 ORDER BY liked_at, user_id",
    )
    .bind(post_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(ExportedLike {
            user_id: row.try_get("user_id")?,
            liked_at: parse_time(&row.try_get::<String, _>("liked_at")?)?,
        })
    })
    .collect()
}

async fn media_of(
    conn: &mut AnyConnection,
    school_id: &str,
    sha: &str,
) -> Result<Option<ExportedMedia>, ServerError> {
    let size: Option<i64> = sqlx::query_scalar(
        "SELECT size FROM media WHERE school_id = $1 AND sha256 = $2 AND complete = 1",
    )
    .bind(school_id)
    .bind(sha)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(size.map(|size| ExportedMedia {
        sha256: sha.to_owned(),
        size: u64::try_from(size).unwrap_or_default(),
    }))
}

/// The reports shared with the pupil's parents, newest first (REQ-PTS-4).
pub(crate) async fn report_shares(
    conn: &mut AnyConnection,
    school_id: &str,
    pupil_id: &str,
) -> Result<Vec<SharedReport>, ServerError> {
    sqlx::query(
        "SELECT id, shared_by, shared_at, report FROM report_shares
         WHERE school_id = $1 AND pupil_id = $2 ORDER BY shared_at DESC, id",
    )
    .bind(school_id)
    .bind(pupil_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(SharedReport {
            id: row.try_get("id")?,
            shared_by: row.try_get("shared_by")?,
            shared_at: parse_time(&row.try_get::<String, _>("shared_at")?)?,
            report: stored("report", &row.try_get::<String, _>("report")?)?,
        })
    })
    .collect()
}
