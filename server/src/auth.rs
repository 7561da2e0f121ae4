//! Who is calling: password and pupil-code sign-in, and opaque bearer tokens stored only hashed.

use crate::db::Db;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use homeroom_protocol::access::Role;
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use sqlx::Row;

use crate::app::AppState;
use crate::db::parse_role;
use crate::error::ServerError;

/// How long a session lasts before the app must sign in again.
pub const SESSION_DAYS: i64 = 30;

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, ServerError> {
    let mut raw = [0u8; 16];
    SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| ServerError::Internal("no randomness".into()))?;
    let salt =
        SaltString::encode_b64(&raw).map_err(|e| ServerError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Internal(format!("hash password: {e}")))
}

/// Checks a password against a stored argon2 hash (constant time inside argon2).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// SHA-256 of a secret, hex: tokens and pupil codes are stored only this way.
pub fn secret_hash(secret: &str) -> String {
    hex(digest(&SHA256, secret.as_bytes()).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random bearer token (256 bits).
pub fn new_token() -> Result<String, ServerError> {
    let mut buf = [0u8; 32];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| ServerError::Internal("no randomness".into()))?;
    Ok(hex(&buf))
}

/// Stores a new session for `user_id` and returns its token and expiry.
pub async fn create_session(
    pool: &Db,
    user_id: &str,
    device_id: Option<&str>,
) -> Result<(String, DateTime<Utc>), ServerError> {
    let token = new_token()?;
    let now = Utc::now();
    let expires = now + Duration::days(SESSION_DAYS);
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, device_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(secret_hash(&token))
    .bind(user_id)
    .bind(device_id)
    .bind(now.to_rfc3339())
    .bind(expires.to_rfc3339())
    .execute(pool)
    .await?;
    Ok((token, expires))
}

/// The signed-in caller of a request, from its `Authorization: Bearer` token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub school_id: String,
    pub role: Role,
    /// The hash of the session's token, so the session can end itself (sign-out).
    pub session: String,
    /// The facts generation read with the session (one query for both): the access facts a
    /// request is judged by are at least this new (see `facts_cache`).
    pub facts_generation: i64,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ServerError::Unauthenticated)?;
        let session = secret_hash(token);
        // Looked up by hash: the comparison is an index lookup on a digest, not on the secret.
        let row = sqlx::query(
            "SELECT u.id, u.school_id, u.role, u.removed_at, s.expires_at, s.revoked,
                    (SELECT generation FROM facts_generation WHERE id = 1) AS facts_generation
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(&session)
        .fetch_optional(&state.db)
        .await?
        .ok_or(ServerError::Unauthenticated)?;
        // REQ-MSG-5: a removed parent's devices learn why, so they purge what they hold.
        if row.try_get::<Option<String>, _>("removed_at")?.is_some() {
            return Err(ServerError::AccountRemoved);
        }
        if row.try_get::<i64, _>("revoked")? != 0 {
            return Err(ServerError::Unauthenticated);
        }
        let expires: String = row.try_get("expires_at")?;
        let expired = DateTime::parse_from_rfc3339(&expires)
            .map(|t| t.with_timezone(&Utc) <= Utc::now())
            .unwrap_or(true);
        if expired {
            return Err(ServerError::Unauthenticated);
        }
        Ok(Caller {
            user_id: row.try_get("id")?,
            school_id: row.try_get("school_id")?,
            role: parse_role(row.try_get::<&str, _>("role")?)?,
            session,
            facts_generation: row.try_get("facts_generation")?,
        })
    }
}
