//! Parent codes (REQ-ACC-2, ACC-3): a class teacher issues one per pupil (a new one revokes the
//! old); a parent redeems it once, before it expires, to join as that pupil's parent.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use homeroom_protocol::access::{can, Action, Target};
use homeroom_protocol::codes::{self, CODE_VALID_DAYS, MAX_PARENTS_PER_PUPIL};
use homeroom_protocol::invites::{validate_email, JoinPending, RequestStatus};
use homeroom_protocol::wire::{Me, ParentCode, RedeemParentCode, SignInResponse};
use ring::rand::{SecureRandom, SystemRandom};
use sqlx::Row;

use crate::app::AppState;
use crate::auth::{create_session, hash_password, secret_hash, Caller};
use crate::db::DbTx;
use crate::error::ServerError;
use crate::json::{ApiJson, ApiPath};

/// One answer for unknown, used, revoked and expired codes: a guesser learns nothing.
const INVALID_CODE: &str = "this code is not valid: ask the school for a new one";

/// A new random code from the unambiguous alphabet (~69 bits): parent codes and pupil codes.
pub(crate) fn fresh_code() -> Result<String, ServerError> {
    loop {
        let mut raw = [0u8; 64];
        SystemRandom::new()
            .fill(&mut raw)
            .map_err(|_| ServerError::Internal("no randomness".into()))?;
        if let Some(c) = codes::from_random(&raw) {
            return Ok(c);
        }
    }
}

/// Stores a new code for `pupil_id` (its hash only), valid until `expires_at`.
pub(crate) async fn insert_code(
    tx: &mut DbTx<'_>,
    code: &str,
    pupil_id: &str,
    issued_by: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), ServerError> {
    sqlx::query(
        "INSERT INTO parent_codes (code_hash, pupil_id, issued_by, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(secret_hash(code))
    .bind(pupil_id)
    .bind(issued_by)
    .bind(expires_at.to_rfc3339())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Revokes the pupil's unused codes, all of them or all but `keep`: one live code per pupil.
pub(crate) async fn revoke_other_codes(
    tx: &mut DbTx<'_>,
    pupil_id: &str,
    keep: Option<&str>,
) -> Result<(), ServerError> {
    sqlx::query(
        "UPDATE parent_codes SET revoked = 1 WHERE pupil_id = $1 AND used_at IS NULL AND code_hash <> $2",
    )
    .bind(pupil_id)
    .bind(keep.map(secret_hash).unwrap_or_default())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `POST /v1/pupils/{id}/parent-code`: issues a new code and revokes any earlier one.
#[tracing::instrument(skip_all)]
pub async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(pupil_id): ApiPath<String>,
) -> Result<Json<ParentCode>, ServerError> {
    let facts = state.facts.for_caller(&state.db, &caller).await?;
    can(
        &facts,
        Some(&caller.user_id),
        Action::IssueParentCode,
        &Target::Pupil(&pupil_id),
    )
    .map_err(|d| ServerError::Forbidden(d.to_string()))?;
    let code = fresh_code()?;
    let expires_at = Utc::now() + Duration::days(CODE_VALID_DAYS);
    let mut tx = crate::db::write_tx(&state.db).await?;
    revoke_other_codes(&mut tx, &pupil_id, None).await?;
    insert_code(&mut tx, &code, &pupil_id, &caller.user_id, expires_at).await?;
    tx.commit().await?;
    tracing::info!("parent code issued");
    Ok(Json(ParentCode {
        pupil_id,
        code,
        expires_at,
    }))
}

/// `POST /v1/parent-codes/redeem`: a new parent account linked to the code's pupil, signed in.
#[tracing::instrument(skip_all)]
pub async fn redeem(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    ApiJson(req): ApiJson<RedeemParentCode>,
) -> Result<Response, ServerError> {
    let client = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    state.limits.redeem(client)?;
    let code = codes::normalize(&req.code).map_err(|why| ServerError::field("code", why))?;
    let email = validate_email(&req.email).map_err(|why| ServerError::field("email", why))?;
    if req.password.chars().count() < 10 || req.password.len() > 320 {
        return Err(ServerError::field("password", "use at least 10 characters"));
    }
    let name = req.display_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServerError::field(
            "display_name",
            "a name of 1 to 100 characters",
        ));
    }
    // A cheap read first: a wrong guess costs no password hashing (and answers fast).
    let known = sqlx::query(
        "SELECT 1 FROM parent_codes WHERE code_hash = $1 AND revoked = 0 AND used_at IS NULL",
    )
    .bind(secret_hash(&code))
    .fetch_optional(&state.db)
    .await?;
    if known.is_none() {
        return Err(ServerError::field("code", INVALID_CODE));
    }
    let hash = {
        let p = req.password.clone();
        tokio::task::spawn_blocking(move || hash_password(&p))
            .await
            .map_err(|e| ServerError::Internal(format!("hash task: {e}")))??
    };
    let mut tx = crate::db::write_tx(&state.db).await?;
    let row = sqlx::query(
        "SELECT c.pupil_id, c.expires_at, p.school_id FROM parent_codes c JOIN pupils p ON p.id = c.pupil_id
         WHERE c.code_hash = $1 AND c.revoked = 0 AND c.used_at IS NULL AND p.class_id IS NOT NULL",
    )
    .bind(secret_hash(&code))
    .fetch_optional(&mut *tx)
    .await?;
    let invalid = || ServerError::field("code", INVALID_CODE);
    let row = row.ok_or_else(invalid)?;
    let expires: String = row.try_get("expires_at")?;
    let live = chrono::DateTime::parse_from_rfc3339(&expires)
        .map(|t| t.with_timezone(&Utc) > Utc::now())
        .unwrap_or(false);
    if !live {
        return Err(invalid());
    }
    let pupil_id: String = row.try_get("pupil_id")?;
    let school_id: String = row.try_get("school_id")?;
    let parents: i64 = sqlx::query("SELECT COUNT(*) AS n FROM parent_links WHERE pupil_id = $1")
        .bind(&pupil_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    // REQ-ACC-3: two parents link at once; a third makes a request the school's admin decides.
    let needs_approval = parents as usize >= MAX_PARENTS_PER_PUPIL;
    let taken = sqlx::query("SELECT 1 FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(ServerError::field(
            "email",
            "this email already has an account: sign in first",
        ));
    }
    let user_id = format!("parent-{}", uuid::Uuid::new_v4());
    sqlx::query("INSERT INTO users (id, school_id, role, display_name, email, password_hash) VALUES ($1, $2, 'parent', $3, $4, $5)")
        .bind(&user_id)
        .bind(&school_id)
        .bind(name)
        .bind(&email)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let request_id = uuid::Uuid::new_v4().to_string();
    if needs_approval {
        sqlx::query(
            "INSERT INTO parent_link_requests (id, school_id, pupil_id, parent_id, requested_at, status)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&request_id)
        .bind(&school_id)
        .bind(&pupil_id)
        .bind(&user_id)
        .bind(&now)
        .bind(RequestStatus::Pending.name())
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query("INSERT INTO parent_links (pupil_id, parent_id) VALUES ($1, $2)")
            .bind(&pupil_id)
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE parent_codes SET used_at = $1 WHERE code_hash = $2")
        .bind(Utc::now().to_rfc3339())
        .bind(secret_hash(&code))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if needs_approval {
        // No session until the admin approves: the first pull then starts at the beginning of
        // the child's history, with nothing skipped.
        tracing::info!("parent code redeemed; link awaits approval");
        let pending = JoinPending {
            status: "awaiting_approval".into(),
            request_id,
            message: "this child already has two parents linked, so the school's admin must \
                      approve a third: your account is made, and you can sign in once they approve"
                .into(),
        };
        return Ok((StatusCode::ACCEPTED, Json(pending)).into_response());
    }
    let (token, expires_at) = create_session(&state.db, &user_id, req.device_id.as_deref()).await?;
    tracing::info!("parent joined with a code");
    Ok(Json(SignInResponse {
        token,
        expires_at,
        me: Me {
            user_id,
            display_name: name.to_owned(),
            role: homeroom_protocol::access::Role::Parent,
            school_id,
        },
    })
    .into_response())
}
