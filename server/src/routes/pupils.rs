//! Data protection for one pupil (REQ-PRV-4): export everything the school holds (a subject
//! access request) and erase a pupil who has left.

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use homeroom_protocol::access::{Action, Target};
use homeroom_protocol::membership::{ErasedPupil, ExportedParent, PupilExport};
use homeroom_protocol::wire::AwardRecord;
use sqlx::Row;

use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::db::write_tx;
use crate::error::ServerError;
use crate::routes::require;

fn parse_time(s: &str) -> Result<DateTime<Utc>, ServerError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ServerError::Internal(format!("time in database: {e}")))
}

/// `GET /v1/pupils/{id}/export`: the pupil's record, parents and every award still held.
#[tracing::instrument(skip_all)]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(pupil_id): Path<String>,
) -> Result<Json<PupilExport>, ServerError> {
    require(
        &state,
        &caller,
        Action::ExportPupil,
        Target::Pupil(&pupil_id),
    )
    .await?;
    let mut tx = write_tx(&state.db).await?;
    let pupil =
        sqlx::query("SELECT display_name, class_id FROM pupils WHERE id = $1 AND school_id = $2")
            .bind(&pupil_id)
            .bind(&caller.school_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(ServerError::NotFound)?;
    let mut parents = Vec::new();
    for row in sqlx::query(
        "SELECT u.id, u.display_name, u.email FROM parent_links l JOIN users u ON u.id = l.parent_id
         WHERE l.pupil_id = $1 ORDER BY u.id",
    )
    .bind(&pupil_id)
    .fetch_all(&mut *tx)
    .await?
    {
        parents.push(ExportedParent {
            id: row.try_get("id")?,
            display_name: row.try_get("display_name")?,
            email: row.try_get("email")?,
        });
    }
    let awards = awards_of(&mut tx, &pupil_id).await?;
    let goals = crate::goals::of_pupil(&mut tx, &caller.school_id, &pupil_id).await?;
    // Exports are themselves personal-data events: on record before the data leaves.
    audit::record(&mut tx, &caller, "export_pupil", &pupil_id).await?;
    tx.commit().await?;
    Ok(Json(PupilExport {
        exported_at: Utc::now(),
        exported_by: caller.user_id,
        pupil_id,
        display_name: pupil.try_get("display_name")?,
        class_id: pupil.try_get("class_id")?,
        parents,
        awards,
        goals,
    }))
}

/// `DELETE /v1/pupils/{id}`: erases a pupil who has left — awards and goals (and their log entries),
/// parent links and codes, the conversations of parents left with no child here (safeguarding
/// copies stay: REQ-PRV-5), the pupil's account and sessions, and the pupil record. Only the
/// admin may, and only once the pupil is out of every class (the shared rule says so).
#[tracing::instrument(skip_all)]
pub async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    Path(pupil_id): Path<String>,
) -> Result<Json<ErasedPupil>, ServerError> {
    require(
        &state,
        &caller,
        Action::ErasePupil,
        Target::Pupil(&pupil_id),
    )
    .await?;
    let mut tx = write_tx(&state.db).await?;
    // The change log carries award payloads (notes included): it forgets the pupil too.
    sqlx::query("DELETE FROM changes WHERE school_id = $1 AND pupil_id = $2")
        .bind(&caller.school_id)
        .bind(&pupil_id)
        .execute(&mut *tx)
        .await?;
    let awards_deleted = sqlx::query("DELETE FROM awards WHERE pupil_id = $1 AND school_id = $2")
        .bind(&pupil_id)
        .bind(&caller.school_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let goals_deleted = crate::goals::erase(&mut tx, &caller.school_id, &pupil_id).await?;
    // The consent record is the pupil's too (and its key would keep the pupil row alive).
    sqlx::query("DELETE FROM consent WHERE pupil_id = $1")
        .bind(&pupil_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM parent_codes WHERE pupil_id = $1")
        .bind(&pupil_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM parent_link_requests WHERE pupil_id = $1")
        .bind(&pupil_id)
        .execute(&mut *tx)
        .await?;
    let parents: Vec<String> =
        sqlx::query_scalar("DELETE FROM parent_links WHERE pupil_id = $1 RETURNING parent_id")
            .bind(&pupil_id)
            .fetch_all(&mut *tx)
            .await?;
    let parent_links_deleted = parents.len() as u64;
    // A parent left with no child here: their conversations about this pupil go too.
    let mut messages_deleted = 0;
    for parent in &parents {
        let (others,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM parent_links WHERE parent_id = $1")
                .bind(parent)
                .fetch_one(&mut *tx)
                .await?;
        if others == 0 {
            messages_deleted +=
                crate::messaging::erase_conversations(&mut tx, &caller.school_id, parent).await?;
        }
    }
    sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE pupil_id = $1)")
        .bind(&pupil_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM users WHERE pupil_id = $1 AND role = 'pupil'")
        .bind(&pupil_id)
        .execute(&mut *tx)
        .await?;
    let gone = sqlx::query("DELETE FROM pupils WHERE id = $1 AND school_id = $2")
        .bind(&pupil_id)
        .bind(&caller.school_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(ServerError::NotFound);
    }
    audit::record(&mut tx, &caller, "erase_pupil", &pupil_id).await?;
    tx.commit().await?;
    Ok(Json(ErasedPupil {
        pupil_id,
        awards_deleted,
        goals_deleted,
        parent_links_deleted,
        messages_deleted,
    }))
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
            awarded_at: parse_time(&row.try_get::<String, _>("awarded_at")?)?,
        });
    }
    Ok(awards)
}
