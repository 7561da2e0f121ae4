//! Message attachments on the server (REQ-MSG-1): a message is accepted only when every
//! attachment names complete media of the school whose bytes fit the declared type, and an
//! attachment is served only to the thread's two people, or to leaders once it was reported.

use std::io::Read;
use std::path::{Path, PathBuf};

use homeroom_protocol::access::Role;
use homeroom_protocol::attachments::{content_matches, Attachment, AttachmentKind, SNIFF_BYTES};
use homeroom_protocol::wire::RejectCode;
use sqlx::Row;
use uuid::Uuid;

use crate::db::{Db, DbTx};
use crate::error::ServerError;

/// Where complete media of a school lives (the layout of `routes::media`).
pub fn media_file(media_dir: &Path, school: &str, sha: &str) -> PathBuf {
    media_dir.join(school).join(&sha[..2]).join(sha)
}

/// The first bytes of a stored file, to check its type.
fn head_of(path: &Path) -> Result<Vec<u8>, ServerError> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    std::fs::File::open(path)
        .and_then(|f| f.take(SNIFF_BYTES as u64).read_to_end(&mut head))
        .map_err(|e| ServerError::Internal(format!("media read: {e}")))?;
    Ok(head)
}

/// Checks that the server holds every attachment completely, at its size and of its type;
/// the refusal to send back otherwise.
#[tracing::instrument(skip_all, fields(n = list.len()))]
pub async fn check(
    tx: &mut DbTx<'_>,
    media_dir: &Path,
    school: &str,
    list: &[Attachment],
) -> Result<Option<(RejectCode, String)>, ServerError> {
    for a in list {
        let row =
            sqlx::query("SELECT size, complete FROM media WHERE school_id = $1 AND sha256 = $2")
                .bind(school)
                .bind(&a.sha256)
                .fetch_optional(&mut **tx)
                .await?;
        let complete = match &row {
            Some(r) => {
                r.try_get::<i64, _>("complete")? != 0
                    && r.try_get::<i64, _>("size")? as u64 == a.size
            }
            None => false,
        };
        if !complete {
            return Ok(Some((
                RejectCode::MediaMissing,
                format!("attachment {} has not been uploaded completely", a.name),
            )));
        }
        let head = head_of(&media_file(media_dir, school, &a.sha256))?;
        if !content_matches(a.kind, &a.content_type, &head) {
            return Ok(Some((
                RejectCode::Invalid,
                format!("attachments: {} is not {}", a.name, a.content_type),
            )));
        }
    }
    Ok(None)
}

fn kind_text(kind: AttachmentKind) -> &'static str {
    match kind {
        AttachmentKind::Photo => "photo",
        AttachmentKind::File => "file",
    }
}

/// Stores a message's attachments, in order, in the transaction that stores the message.
pub async fn store(
    tx: &mut DbTx<'_>,
    message_id: &Uuid,
    list: &[Attachment],
) -> Result<(), ServerError> {
    for (i, a) in list.iter().enumerate() {
        sqlx::query(
            "INSERT INTO message_attachments (message_id, position, sha256, kind, name, content_type, size)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(message_id.to_string())
        .bind(i as i64)
        .bind(&a.sha256)
        .bind(kind_text(a.kind))
        .bind(&a.name)
        .bind(&a.content_type)
        .bind(a.size as i64)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A message's attachments, in order (for records read back from the tables).
pub async fn of_message(db: &Db, message_id: &Uuid) -> Result<Vec<Attachment>, ServerError> {
    let rows = sqlx::query(
        "SELECT sha256, kind, name, content_type, size FROM message_attachments
         WHERE message_id = $1 ORDER BY position",
    )
    .bind(message_id.to_string())
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Attachment {
                sha256: r.try_get("sha256")?,
                kind: match r.try_get::<&str, _>("kind")? {
                    "photo" => AttachmentKind::Photo,
                    _ => AttachmentKind::File,
                },
                name: r.try_get("name")?,
                content_type: r.try_get("content_type")?,
                size: r.try_get::<i64, _>("size")? as u64,
            })
        })
        .collect()
}

/// Whether `user` may read media `sha` as an attachment: they are one of the two people of a
/// thread with a message carrying it, or a leader and such a message was reported (REQ-MSG-5).
#[tracing::instrument(skip_all)]
pub async fn may_read(
    db: &Db,
    school: &str,
    sha: &str,
    user: &str,
    role: Role,
) -> Result<bool, ServerError> {
    let rows = sqlx::query(
        "SELECT m.id, t.parent_id, t.staff_id FROM message_attachments a
         JOIN messages m ON m.id = a.message_id JOIN threads t ON t.id = m.thread_id
         WHERE a.sha256 = $1 AND t.school_id = $2",
    )
    .bind(sha)
    .bind(school)
    .fetch_all(db)
    .await?;
    for r in &rows {
        let parent: String = r.try_get("parent_id")?;
        let staff: String = r.try_get("staff_id")?;
        if parent == user || staff == user {
            return Ok(true);
        }
        if role.is_leadership() {
            let reported = sqlx::query("SELECT 1 FROM message_reports WHERE message_id = $1")
                .bind(r.try_get::<String, _>("id")?)
                .fetch_optional(db)
                .await?;
            if reported.is_some() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
