//! School-registered devices (REQ-ACC-6): the admin enrols, lists and revokes the tablets staff
//! may sign in on; revoking one ends every session on it at once.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use homeroom_protocol::access::{Action, Target};
use homeroom_protocol::devices::{DeviceInfo, EnrolDeviceRequest, EnrolledDevice};
use homeroom_protocol::membership::validate_display_name;
use sqlx::Row;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit;
use crate::auth::{new_token, secret_hash, Caller};
use crate::db::write_tx;
use crate::error::ServerError;
use crate::json::{ApiJson, ApiPath};
use crate::routes::require;

/// `POST /v1/devices`: enrols a device and returns its key, once.
#[tracing::instrument(skip_all)]
pub async fn enrol(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<EnrolDeviceRequest>,
) -> Result<(StatusCode, Json<EnrolledDevice>), ServerError> {
    require(
        &state,
        &caller,
        Action::EnrolDevice,
        Target::School(&caller.school_id),
    )
    .await?;
    let label = validate_display_name(&req.label).map_err(|m| ServerError::field("label", m))?;
    let device_id = Uuid::new_v4().to_string();
    let device_key = new_token()?;
    let mut tx = write_tx(&state.db).await?;
    sqlx::query(
        "INSERT INTO enrolled_devices (id, school_id, key_hash, label, enrolled_by, enrolled_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&device_id)
    .bind(&caller.school_id)
    .bind(secret_hash(&device_key))
    .bind(&label)
    .bind(&caller.user_id)
    .bind(Utc::now().to_rfc3339())
    .execute(&mut *tx)
    .await?;
    audit::record(&mut tx, &caller, "enrol_device", &device_id).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(EnrolledDevice {
            device_id,
            label,
            device_key,
        }),
    ))
}

/// `GET /v1/devices`: the school's enrolled devices, revoked ones included.
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<DeviceInfo>>, ServerError> {
    require(
        &state,
        &caller,
        Action::EnrolDevice,
        Target::School(&caller.school_id),
    )
    .await?;
    let mut out = Vec::new();
    for row in sqlx::query(
        "SELECT id, label, enrolled_by, enrolled_at, revoked_at FROM enrolled_devices WHERE school_id = $1 ORDER BY enrolled_at, id",
    )
    .bind(&caller.school_id)
    .fetch_all(&state.db)
    .await?
    {
        let at: String = row.try_get("enrolled_at")?;
        out.push(DeviceInfo {
            device_id: row.try_get("id")?,
            label: row.try_get("label")?,
            enrolled_by: row.try_get("enrolled_by")?,
            enrolled_at: DateTime::parse_from_rfc3339(&at)
                .map_err(|e| ServerError::Internal(format!("enrolment time in database: {e}")))?
                .with_timezone(&Utc),
            revoked: row.try_get::<Option<String>, _>("revoked_at")?.is_some(),
        });
    }
    Ok(Json(out))
}

/// `DELETE /v1/devices/{id}`: revokes an enrolment (a lost or retired tablet) and every
/// session signed in on it.
#[tracing::instrument(skip_all)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(device_id): ApiPath<String>,
) -> Result<StatusCode, ServerError> {
    require(
        &state,
        &caller,
        Action::EnrolDevice,
        Target::School(&caller.school_id),
    )
    .await?;
    let mut tx = write_tx(&state.db).await?;
    let changed = sqlx::query(
        "UPDATE enrolled_devices SET revoked_at = $1 WHERE id = $2 AND school_id = $3 AND revoked_at IS NULL",
    )
    .bind(Utc::now().to_rfc3339())
    .bind(&device_id)
    .bind(&caller.school_id)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        return Err(ServerError::NotFound);
    }
    sqlx::query("UPDATE sessions SET revoked = 1 WHERE device_id = $1")
        .bind(&device_id)
        .execute(&mut *tx)
        .await?;
    audit::record(&mut tx, &caller, "revoke_device", &device_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
