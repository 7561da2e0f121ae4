//! `GET`/`PUT /v1/pupils/{id}/consent` (REQ-CON-1): staff of the pupil's class and the pupil's
//! own parents read the record; admin and leaders change it, which withdraws posts it no longer
//! allows (REQ-CON-4).

use axum::extract::State;
use axum::Json;
use homeroom_protocol::access::{can, Action, Target};
use homeroom_protocol::consent::ConsentRecord;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ServerError;
use crate::json::{ApiJson, ApiPath};

async fn allowed(
    state: &AppState,
    caller: &Caller,
    action: Action,
    pupil: &str,
) -> Result<(), ServerError> {
    let facts = state.facts.for_caller(&state.db, caller).await?;
    can(&facts, Some(&caller.user_id), action, &Target::Pupil(pupil)).map_err(|d| match d {
        homeroom_protocol::Denied::UnknownTarget(_) => ServerError::NotFound,
        d => ServerError::Forbidden(d.to_string()),
    })
}

/// The pupil's consent record.
#[tracing::instrument(skip_all)]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(pupil_id): ApiPath<String>,
) -> Result<Json<ConsentRecord>, ServerError> {
    allowed(&state, &caller, Action::ReadConsent, &pupil_id).await?;
    let mut tx = state.db.begin().await?;
    let record = crate::consent::record(&mut tx, &pupil_id).await?;
    tx.commit().await?;
    Ok(Json(record))
}

/// Replaces the pupil's consent record; posts that now break it are withdrawn at once.
#[tracing::instrument(skip_all)]
pub async fn write(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(pupil_id): ApiPath<String>,
    ApiJson(record): ApiJson<ConsentRecord>,
) -> Result<Json<ConsentRecord>, ServerError> {
    allowed(&state, &caller, Action::WriteConsent, &pupil_id).await?;
    let mut tx = crate::db::write_tx(&state.db).await?;
    crate::consent::set(
        &mut tx,
        &caller.school_id,
        &pupil_id,
        &record,
        Some(caller.user_id.clone()),
    )
    .await?;
    tx.commit().await?;
    // Withdrawals are in the log now: live devices fetch them at once (REQ-OFF-3, CON-4).
    crate::live::changed(&state, &caller.school_id).await;
    tracing::info!("consent record changed");
    Ok(Json(record))
}
