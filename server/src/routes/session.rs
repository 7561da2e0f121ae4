//! `POST /v1/sessions`: sign in with email and password, or with a pupil code (REQ-ACC-4).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::Json;
use homeroom_protocol::access::Role;
use homeroom_protocol::wire::{Me, SignInRequest, SignInResponse};
use sqlx::Row;

use crate::app::AppState;
use crate::auth::{create_session, secret_hash, verify_password};
use crate::db::parse_role;
use crate::error::ServerError;
use crate::json::ApiJson;

/// A valid argon2id hash of nothing in particular: unknown emails cost the same time as known ones.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Cp6L3TFgDbjs3yQd1h6p9VFSMmGlFoMgHBNdIE2j7U";

/// Longest email or secret the server will look at.
const MAX_CREDENTIAL_CHARS: usize = 320;

#[tracing::instrument(skip_all)]
pub async fn sign_in(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<Json<SignInResponse>, ServerError> {
    let account = match &req {
        SignInRequest::Password { email, .. } => email.trim().to_owned(),
        SignInRequest::PupilCode { code, .. } => format!("code:{}", secret_hash(code.trim())),
    };
    // The peer address is there when served over TCP (absent for in-process requests).
    let client = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    state.limits.sign_in(client, &account)?;
    let (row, device_id) = match &req {
        SignInRequest::Password {
            email,
            password,
            device_id,
        } => {
            if email.len() > MAX_CREDENTIAL_CHARS || password.len() > MAX_CREDENTIAL_CHARS {
                return Err(ServerError::InvalidCredentials);
            }
            let row = sqlx::query(
                "SELECT id, display_name, role, school_id, password_hash, removed_at FROM users WHERE email = $1",
            )
            .bind(email.trim().to_lowercase())
            .fetch_optional(&state.db)
            .await?;
            let stored: Option<String> = match &row {
                Some(r) => r.try_get("password_hash")?,
                None => None,
            };
            let password = password.clone();
            let ok = tokio::task::spawn_blocking(move || {
                verify_password(&password, stored.as_deref().unwrap_or(DUMMY_HASH))
                    && stored.is_some()
            })
            .await
            .map_err(|e| ServerError::Internal(format!("verify task: {e}")))?;
            if !ok {
                return Err(ServerError::InvalidCredentials);
            }
            let row = row.ok_or(ServerError::InvalidCredentials)?;
            // REQ-MSG-5: a parent the leaders removed from the school cannot come back this way.
            if row.try_get::<Option<String>, _>("removed_at")?.is_some() {
                return Err(ServerError::AccountRemoved);
            }
            (row, device_id)
        }
        SignInRequest::PupilCode { code, device_id } => {
            if code.len() > MAX_CREDENTIAL_CHARS {
                return Err(ServerError::InvalidCredentials);
            }
            let row = sqlx::query(
                "SELECT id, display_name, role, school_id FROM users WHERE pupil_code_hash = $1",
            )
            .bind(secret_hash(code.trim().to_uppercase().as_str()))
            .fetch_optional(&state.db)
            .await?
            .ok_or(ServerError::InvalidCredentials)?;
            (row, device_id)
        }
    };
    let me = Me {
        user_id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        role: parse_role(row.try_get::<&str, _>("role")?)?,
        school_id: row.try_get("school_id")?,
    };
    // REQ-ACC-6: staff accounts work only on a device the school enrolled; the session is tied
    // to that enrolment, so revoking the device ends it. The admin, who enrols devices, is not
    // bound (someone has to enrol the first tablet).
    let device = if matches!(me.role, Role::Teacher | Role::Staff | Role::Leader) {
        let key = device_id.as_deref().ok_or(ServerError::DeviceNotEnrolled)?;
        let enrolment: Option<String> = sqlx::query_scalar(
            "SELECT id FROM enrolled_devices WHERE school_id = $1 AND key_hash = $2 AND revoked_at IS NULL",
        )
        .bind(&me.school_id)
        .bind(secret_hash(key.trim()))
        .fetch_optional(&state.db)
        .await?;
        Some(enrolment.ok_or(ServerError::DeviceNotEnrolled)?)
    } else {
        None
    };
    if me.role == Role::Parent {
        awaiting_approval(&state, &me.user_id).await?;
    }
    let (token, expires_at) = create_session(&state.db, &me.user_id, device.as_deref()).await?;
    tracing::info!(role = ?me.role, "signed in");
    Ok(Json(SignInResponse {
        token,
        expires_at,
        me,
    }))
}

/// REQ-ACC-3: a parent whose only way in is a request the admin has not approved gets no
/// session (their first pull, once approved, then starts at the start of the child's history).
async fn awaiting_approval(state: &AppState, user_id: &str) -> Result<(), ServerError> {
    let linked = sqlx::query("SELECT 1 FROM parent_links WHERE parent_id = $1 LIMIT 1")
        .bind(user_id)
        .fetch_optional(&state.db)
        .await?
        .is_some();
    if linked {
        return Ok(());
    }
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM parent_link_requests WHERE parent_id = $1")
            .bind(user_id)
            .fetch_all(&state.db)
            .await?;
    if statuses.iter().any(|s| s == "pending") {
        return Err(ServerError::AwaitingApproval);
    }
    if !statuses.is_empty() {
        return Err(ServerError::Forbidden(
            "this account's request to join was not approved (declined, or the child has left): please contact the school"
                .into(),
        ));
    }
    Ok(())
}

/// `DELETE /v1/sessions/current`: signing out ends the session on the server too.
#[tracing::instrument(skip_all)]
pub async fn sign_out(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
) -> Result<axum::http::StatusCode, ServerError> {
    sqlx::query("UPDATE sessions SET revoked = 1 WHERE token_hash = $1")
        .bind(&caller.session)
        .execute(&state.db)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
