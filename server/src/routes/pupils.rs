//! Data protection for one pupil (REQ-PRV-4): export everything the school holds (a subject
//! access request, as JSON or a tar archive with the photos) and erase a pupil who has left.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use homeroom_protocol::access::{Action, Target};
use homeroom_protocol::membership::{ErasedPupil, PupilExport};
use homeroom_protocol::wire::AwardRecord;
use sqlx::Row;

use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::db::write_tx;
use crate::error::ServerError;
use crate::json::ApiPath;
use crate::routes::require;

/// `GET /v1/pupils/{id}/export`: everything the school holds on the pupil, as JSON.
#[tracing::instrument(skip_all)]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(pupil_id): ApiPath<String>,
) -> Result<Json<PupilExport>, ServerError> {
    Ok(Json(
        audited_export(&state, &caller, &pupil_id, "export_pupil").await?,
    ))
}

/// `GET /v1/pupils/{id}/export/archive`: the same export with the photos it names, as a tar
/// archive: `export.json` and `media/<sha256>` (REQ-PRV-4 "JSON + media archive").
#[tracing::instrument(skip_all)]
pub async fn export_archive(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(pupil_id): ApiPath<String>,
) -> Result<impl IntoResponse, ServerError> {
    let export = audited_export(&state, &caller, &pupil_id, "export_pupil_archive").await?;
    let json = serde_json::to_vec_pretty(&export)
        .map_err(|e| ServerError::Internal(format!("export: {e}")))?;
    let files: Vec<(String, std::path::PathBuf)> = export
        .media
        .iter()
        .map(|m| {
            (
                format!("media/{}", m.sha256),
                state.media_path(&caller.school_id, &m.sha256, false),
            )
        })
        .collect();
    let archive = tokio::task::spawn_blocking(move || archive(&json, &files))
        .await
        .map_err(|e| ServerError::Internal(format!("archive task: {e}")))??;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"pupil-export.tar\"".to_owned(),
            ),
        ],
        archive,
    ))
}

/// A tar of `export.json` and each photo file under its name.
fn archive(json: &[u8], files: &[(String, std::path::PathBuf)]) -> Result<Vec<u8>, ServerError> {
    let io = |e: std::io::Error| ServerError::Internal(format!("export archive: {e}"));
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    tar.append_data(&mut header, "export.json", json)
        .map_err(io)?;
    for (name, path) in files {
        tar.append_path_with_name(path, name).map_err(io)?;
    }
    tar.into_inner().map_err(io)
}

/// Checks the rules, gathers the export and records it in the audit log: exports are personal-
/// data events, on record before the data leaves.
async fn audited_export(
    state: &AppState,
    caller: &Caller,
    pupil_id: &str,
    action: &str,
) -> Result<PupilExport, ServerError> {
    require(state, caller, Action::ExportPupil, Target::Pupil(pupil_id)).await?;
    let mut tx = write_tx(&state.db).await?;
    let export =
        crate::subject_access::collect(&mut tx, &caller.school_id, pupil_id, &caller.user_id)
            .await?;
    audit::record(&mut tx, caller, action, pupil_id).await?;
    tx.commit().await?;
    Ok(export)
}

/// `DELETE /v1/pupils/{id}`: erases a pupil who has left — everything the export lists (see
/// [`crate::erasure`]), the pupil's account and sessions, and photo files no one else's post or
/// message shows. Only the admin may, and only once the pupil is out of every class (the shared
/// rule says so).
#[tracing::instrument(skip_all)]
pub async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(pupil_id): ApiPath<String>,
) -> Result<Json<ErasedPupil>, ServerError> {
    require(
        &state,
        &caller,
        Action::ErasePupil,
        Target::Pupil(&pupil_id),
    )
    .await?;
    let mut tx = write_tx(&state.db).await?;
    let erased = crate::erasure::erase_pupil(&mut tx, &caller.school_id, &pupil_id).await?;
    audit::record(&mut tx, &caller, "erase_pupil", &pupil_id).await?;
    tx.commit().await?;
    // The rows are gone; now the files (a failure here leaves an orphan file, never a row
    // pointing at nothing).
    let mut summary = erased.summary;
    for sha in &erased.media_to_delete {
        match std::fs::remove_file(state.media_path(&caller.school_id, sha, false)) {
            Ok(()) => summary.media_files_deleted += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::error!(error = %e, "erasure could not remove a photo file"),
        }
    }
    Ok(Json(summary))
}

/// Every award still held for `pupil_id`, oldest first (REQ-PRV-4 export, REQ-PTS-4 reports).
pub(crate) async fn awards_of(
    conn: &mut sqlx::AnyConnection,
    pupil_id: &str,
) -> Result<Vec<AwardRecord>, ServerError> {
    let mut awards = Vec::new();
    for row in sqlx::query(
        "SELECT id, class_id, skill_id, points, note, awarded_by, awarded_at FROM awards
         WHERE pupil_id = $1 ORDER BY awarded_at, id",
    )
    .bind(pupil_id)
    .fetch_all(&mut *conn)
    .await?
    {
        let id: String = row.try_get("id")?;
        awards.push(AwardRecord {
            id: id
                .parse()
                .map_err(|e| ServerError::Internal(format!("award id in database: {e}")))?,
            pupil_id: pupil_id.to_owned(),
            class_id: row.try_get("class_id")?,
            skill_id: row.try_get("skill_id")?,
            points: i32::try_from(row.try_get::<i64, _>("points")?)
                .map_err(|e| ServerError::Internal(format!("points in database: {e}")))?,
            note: row.try_get("note")?,
            awarded_by: row.try_get("awarded_by")?,
            awarded_at: crate::subject_access::parse_time(
                &row.try_get::<String, _>("awarded_at")?,
            )?,
        });
    }
    Ok(awards)
}
