//! Media by content hash (issue 4 item 5, REQ-PRV-1): a device starts an upload with its size,
//! sends chunks at the acknowledged offset, and on the last byte the server checks the SHA-256.
//! An interrupted upload resumes from `GET` status. Bytes live under `<data dir>/media/`.

use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use chrono::{SecondsFormat, Utc};
use homeroom_protocol::posts::{is_sha256_hex, MediaStatus, StartUpload, MAX_MEDIA_BYTES};
use ring::digest::{Context, SHA256};
use serde::Deserialize;
use sqlx::Row;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ServerError;
use crate::json::{ApiJson, ApiPath, ApiQuery};

/// Query of a chunk: where in the file it starts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkAt {
    pub offset: u64,
}

fn checked_hash(sha: &str) -> Result<(), ServerError> {
    if is_sha256_hex(sha) {
        Ok(())
    } else {
        Err(ServerError::field("sha256", "not a lower-case hex SHA-256"))
    }
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> ServerError {
    move |e| ServerError::Internal(format!("media {what}: {e}"))
}

impl AppState {
    /// Where a photo's bytes live (or an upload's, while partial).
    pub(crate) fn media_path(&self, school: &str, sha: &str, partial: bool) -> PathBuf {
        let dir = self.media_dir.join(school);
        if partial {
            dir.join("partial").join(sha)
        } else {
            dir.join(&sha[..2]).join(sha)
        }
    }
}

async fn status_of(
    state: &AppState,
    school: &str,
    sha: &str,
) -> Result<Option<MediaStatus>, ServerError> {
    let row = sqlx::query(
        "SELECT size, received, complete FROM media WHERE school_id = $1 AND sha256 = $2",
    )
    .bind(school)
    .bind(sha)
    .fetch_optional(&state.db)
    .await?;
    row.map(|r| {
        Ok(MediaStatus {
            sha256: sha.to_owned(),
            size: r.try_get::<i64, _>("size")? as u64,
            received: r.try_get::<i64, _>("received")? as u64,
            complete: r.try_get::<i64, _>("complete")? != 0,
        })
    })
    .transpose()
}

/// Staff upload photos for posts and attachments; parents upload message attachments
/// (REQ-MSG-1); pupils have no messaging and post nothing (REQ-MSG-2).
fn may_upload(caller: &Caller) -> Result<(), ServerError> {
    if caller.role.is_staff() || caller.role == homeroom_protocol::access::Role::Parent {
        Ok(())
    } else {
        Err(ServerError::Forbidden("pupils do not upload media".into()))
    }
}

/// `POST /v1/media/{sha256}`: starts an upload of `size` bytes, or reports the one under way.
#[tracing::instrument(skip_all)]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(sha): ApiPath<String>,
    ApiJson(req): ApiJson<StartUpload>,
) -> Result<Json<MediaStatus>, ServerError> {
    checked_hash(&sha)?;
    may_upload(&caller)?;
    if req.size == 0 || req.size > MAX_MEDIA_BYTES {
        return Err(ServerError::field(
            "size",
            format!("a photo is 1 to {MAX_MEDIA_BYTES} bytes"),
        ));
    }
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    sqlx::query(
        "INSERT INTO media (sha256, school_id, size, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (school_id, sha256) DO NOTHING",
    )
    .bind(&sha)
    .bind(&caller.school_id)
    .bind(req.size as i64)
    .bind(&caller.user_id)
    .bind(now)
    .execute(&state.db)
    .await?;
    let status = status_of(&state, &caller.school_id, &sha)
        .await?
        .ok_or(ServerError::NotFound)?;
    if status.size != req.size {
        return Err(ServerError::field(
            "size",
            "an upload of this hash with another size is under way",
        ));
    }
    Ok(Json(status))
}

/// `GET /v1/media/{sha256}`: the acknowledged offset, to resume from.
#[tracing::instrument(skip_all)]
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(sha): ApiPath<String>,
) -> Result<Json<MediaStatus>, ServerError> {
    checked_hash(&sha)?;
    status_of(&state, &caller.school_id, &sha)
        .await?
        .map(Json)
        .ok_or(ServerError::NotFound)
}

/// `PUT /v1/media/{sha256}?offset=N`: appends one chunk that starts at the acknowledged offset.
#[tracing::instrument(skip_all, fields(offset = at.offset, len = body.len()))]
pub async fn chunk(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(sha): ApiPath<String>,
    ApiQuery(at): ApiQuery<ChunkAt>,
    body: Bytes,
) -> Result<Json<MediaStatus>, ServerError> {
    checked_hash(&sha)?;
    may_upload(&caller)?;
    // The write lock serialises chunks of one upload (and keeps the row and the file in step).
    let mut tx = crate::db::write_tx(&state.db).await?;
    let row = sqlx::query(
        "SELECT size, received, complete FROM media WHERE school_id = $1 AND sha256 = $2",
    )
    .bind(&caller.school_id)
    .bind(&sha)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServerError::NotFound)?;
    let size = row.try_get::<i64, _>("size")? as u64;
    let received = row.try_get::<i64, _>("received")? as u64;
    if row.try_get::<i64, _>("complete")? != 0 {
        return Ok(Json(MediaStatus {
            sha256: sha,
            size,
            received,
            complete: true,
        }));
    }
    if at.offset != received {
        return Err(ServerError::field(
            "offset",
            format!("the server holds {received} bytes; send from there"),
        ));
    }
    if body.is_empty() || received + body.len() as u64 > size {
        return Err(ServerError::field(
            "body",
            "the chunk is empty or runs past the upload's size",
        ));
    }
    let partial = state.media_path(&caller.school_id, &sha, true);
    if let Some(dir) = partial.parent() {
        std::fs::create_dir_all(dir).map_err(io("dir"))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&partial)
        .map_err(io("open"))?;
    // Bytes past the acknowledged offset (a chunk that was cut) are dropped, not trusted.
    file.set_len(received).map_err(io("truncate"))?;
    file.seek(SeekFrom::Start(received)).map_err(io("seek"))?;
    file.write_all(&body).map_err(io("write"))?;
    file.sync_data().map_err(io("sync"))?;
    let received = received + body.len() as u64;
    let mut complete = false;
    if received == size {
        let bytes = std::fs::read(&partial).map_err(io("read"))?;
        let mut ctx = Context::new(&SHA256);
        ctx.update(&bytes);
        let got: String = ctx
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if got != sha {
            // Start over: nothing unverified is ever served.
            let _ = std::fs::remove_file(&partial);
            sqlx::query("UPDATE media SET received = 0 WHERE school_id = $1 AND sha256 = $2")
                .bind(&caller.school_id)
                .bind(&sha)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Err(ServerError::field(
                "sha256",
                "the uploaded bytes do not match the hash; upload again from 0",
            ));
        }
        let done = state.media_path(&caller.school_id, &sha, false);
        if let Some(dir) = done.parent() {
            std::fs::create_dir_all(dir).map_err(io("dir"))?;
        }
        std::fs::rename(&partial, &done).map_err(io("rename"))?;
        complete = true;
    }
    sqlx::query(
        "UPDATE media SET received = $1, complete = $2 WHERE school_id = $3 AND sha256 = $4",
    )
    .bind(received as i64)
    .bind(i64::from(complete))
    .bind(&caller.school_id)
    .bind(&sha)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(MediaStatus {
        sha256: sha,
        size,
        received,
        complete,
    }))
}

/// `GET /v1/media/{sha256}/content`: the photo, to its uploader and to whoever may see a live
/// post showing it (REQ-STO-1..3); a withdrawn post's photo is served to no one else. A message
/// attachment goes to the thread's people and, after a report, to leaders.
#[tracing::instrument(skip_all)]
pub async fn content(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(sha): ApiPath<String>,
) -> Result<impl IntoResponse, ServerError> {
    checked_hash(&sha)?;
    let facts = state.facts.for_caller(&state.db, &caller).await?;
    let uploader: Option<String> = sqlx::query_scalar(
        "SELECT uploaded_by FROM media WHERE school_id = $1 AND sha256 = $2 AND complete = 1",
    )
    .bind(&caller.school_id)
    .bind(&sha)
    .fetch_optional(&state.db)
    .await?;
    let Some(uploader) = uploader else {
        return Err(ServerError::NotFound);
    };
    // A message attachment, to the thread's two people or a leader after a report (REQ-MSG-1, MSG-5).
    let mut allowed = uploader == caller.user_id
        || crate::attachments::may_read(
            &state.db,
            &caller.school_id,
            &sha,
            &caller.user_id,
            caller.role,
        )
        .await?;
    if !allowed {
        for aud in sqlx::query_scalar::<_, String>(
            "SELECT audience FROM posts WHERE school_id = $1 AND media_sha256 = $2 AND withdrawn = 0",
        )
        .bind(&caller.school_id)
        .bind(&sha)
        .fetch_all(&state.db)
        .await?
        {
            let audience: homeroom_protocol::posts::Audience = serde_json::from_str(&aud)
                .map_err(|e| ServerError::Internal(format!("stored audience: {e}")))?;
            if audience.may_read(&facts, &caller.user_id) {
                allowed = true;
                break;
            }
        }
    }
    if !allowed {
        return Err(ServerError::NotFound);
    }
    let bytes =
        std::fs::read(state.media_path(&caller.school_id, &sha, false)).map_err(io("read"))?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}
