//! Class membership (REQ-ACC-1): a class teacher adds pupils — also part way through the year —
//! and removes pupils who leave, which takes their family out of the class with them (ACC-5).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use homeroom_protocol::access::{Action, Target};
use homeroom_protocol::membership::{
    validate_display_name, AddPupilRequest, AddedPupil, RemovedPupil,
};
use sqlx::Row;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit;
use crate::auth::{secret_hash, Caller};
use crate::db::write_tx;
use crate::error::ServerError;
use crate::json::{ApiJson, ApiPath};
use crate::routes::codes::fresh_code;
use crate::routes::require;

/// `POST /v1/classes/{class_id}/pupils`: a new pupil joins the class with a fresh sign-in code.
#[tracing::instrument(skip_all)]
pub async fn add_pupil(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(class_id): ApiPath<String>,
    ApiJson(req): ApiJson<AddPupilRequest>,
) -> Result<(StatusCode, Json<AddedPupil>), ServerError> {
    require(&state, &caller, Action::AddPupil, Target::Class(&class_id)).await?;
    let display_name = validate_display_name(&req.display_name)
        .map_err(|m| ServerError::field("display_name", m))?;
    let pupil_id = Uuid::new_v4().to_string();
    let pupil_code = fresh_code()?;
    let mut tx = write_tx(&state.db).await?;
    sqlx::query(
        "INSERT INTO pupils (id, school_id, display_name, class_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(&pupil_id)
    .bind(&caller.school_id)
    .bind(&display_name)
    .bind(&class_id)
    .execute(&mut *tx)
    .await?;
    // The pupil's own account (REQ-ACC-4): signs in with the code, sees only their own points.
    sqlx::query(
        "INSERT INTO users (id, school_id, role, display_name, pupil_id, pupil_code_hash) VALUES ($1, $2, 'pupil', $3, $4, $5)",
    )
    .bind(&pupil_id)
    .bind(&caller.school_id)
    .bind(&display_name)
    .bind(&pupil_id)
    .bind(secret_hash(&pupil_code))
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &caller,
        "add_pupil",
        &format!("{class_id}/{pupil_id}"),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(AddedPupil {
            pupil_id,
            display_name,
            class_id,
            pupil_code,
        }),
    ))
}

/// `DELETE /v1/classes/{class_id}/pupils/{pupil_id}`: the pupil leaves the class. Their records
/// stay on file (export, then erasure: REQ-PRV-4) but grant nothing: the pupil's sessions end,
/// open parent codes die, and the family's devices purge the pupil on their next sync.
#[tracing::instrument(skip_all)]
pub async fn remove_pupil(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((class_id, pupil_id)): ApiPath<(String, String)>,
) -> Result<Json<RemovedPupil>, ServerError> {
    require(
        &state,
        &caller,
        Action::RemovePupil,
        Target::Class(&class_id),
    )
    .await?;
    let mut tx = write_tx(&state.db).await?;
    let moved = sqlx::query(
        "UPDATE pupils SET class_id = NULL WHERE id = $1 AND class_id = $2 AND school_id = $3",
    )
    .bind(&pupil_id)
    .bind(&class_id)
    .bind(&caller.school_id)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(ServerError::NotFound);
    }
    sqlx::query(
        "UPDATE sessions SET revoked = 1 WHERE user_id IN (SELECT id FROM users WHERE pupil_id = $1)",
    )
    .bind(&pupil_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE parent_codes SET revoked = 1 WHERE pupil_id = $1 AND used_at IS NULL")
        .bind(&pupil_id)
        .execute(&mut *tx)
        .await?;
    // A request for a third parent has nothing left to decide (REQ-ACC-3).
    sqlx::query(
        "UPDATE parent_link_requests SET status = 'withdrawn' WHERE pupil_id = $1 AND status = 'pending'",
    )
    .bind(&pupil_id)
    .execute(&mut *tx)
    .await?;
    let parents_removed =
        sqlx::query("SELECT parent_id FROM parent_links WHERE pupil_id = $1 ORDER BY parent_id")
            .bind(&pupil_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("parent_id"))
            .collect::<Result<Vec<_>, _>>()?;
    audit::record(
        &mut tx,
        &caller,
        "remove_pupil",
        &format!("{class_id}/{pupil_id}"),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(RemovedPupil {
        pupil_id,
        class_id,
        parents_removed,
    }))
}
