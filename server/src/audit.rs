//! The audit log of admin and leader actions (issue 5): written in the same transaction as the
//! action, so an action without its record cannot exist; read by the school's leadership.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use homeroom_protocol::membership::AuditEntry;
use sqlx::Row;

use crate::app::AppState;
use crate::auth::Caller;
use crate::db::DbTx;
use crate::error::ServerError;

/// How many entries one `GET /v1/audit` returns (newest first).
const AUDIT_PAGE: i64 = 500;

/// Records one action by `caller` on `target` inside the action's own transaction.
pub async fn record(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    action: &str,
    target: &str,
) -> Result<(), ServerError> {
    sqlx::query(
        "INSERT INTO audit_log (school_id, at, actor_id, action, target) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&caller.school_id)
    .bind(Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true))
    .bind(&caller.user_id)
    .bind(action)
    .bind(target)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `GET /v1/audit`: the school's audit log, for its admin and leaders only.
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AuditEntry>>, ServerError> {
    if !caller.role.is_leadership() {
        return Err(ServerError::Forbidden(
            "only the school's leadership reads the audit log".into(),
        ));
    }
    let rows = sqlx::query(
        "SELECT at, actor_id, action, target FROM audit_log WHERE school_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(&caller.school_id)
    .bind(AUDIT_PAGE)
    .fetch_all(&state.db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let at: String = row.try_get("at")?;
        out.push(AuditEntry {
            at: DateTime::parse_from_rfc3339(&at)
                .map_err(|e| ServerError::Internal(format!("audit time in database: {e}")))?
                .with_timezone(&Utc),
            actor_id: row.try_get("actor_id")?,
            action: row.try_get("action")?,
            target: row.try_get("target")?,
        });
    }
    Ok(Json(out))
}
