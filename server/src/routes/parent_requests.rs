//! A third parent waits for the school's admin (REQ-ACC-3, "special circumstances"):
//! `GET /v1/parent-requests` lists the requests, `POST …/{id}/approve` links the parent and
//! `POST …/{id}/decline` refuses; both decisions go in the audit log with the action.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use homeroom_protocol::access::{Action, Role, Target};
use homeroom_protocol::invites::{ParentRequest, ParentRequestDecided, RequestStatus};
use serde::Deserialize;
use sqlx::Row;

use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::db::write_tx;
use crate::error::ServerError;
use crate::json::{ApiPath, ApiQuery};
use crate::routes::require;

/// How many requests one list returns (newest first).
const PAGE: i64 = 500;

/// `?status=pending|approved|declined|withdrawn|all` (default `pending`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /v1/parent-requests`: the school's requests for an extra parent, for its admin only.
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<ParentRequest>>, ServerError> {
    if caller.role != Role::Admin {
        return Err(ServerError::Forbidden(
            "only the school's admin decides on a third parent".into(),
        ));
    }
    let wanted = match q.status.as_deref().unwrap_or("pending") {
        "all" => None,
        s => Some(RequestStatus::parse(s).ok_or_else(|| {
            ServerError::field(
                "status",
                "one of pending, approved, declined, withdrawn, all",
            )
        })?),
    };
    let rows = sqlx::query(
        "SELECT r.id, r.pupil_id, r.parent_id, r.requested_at, r.status, p.display_name AS pupil_name,
                u.display_name AS parent_name, u.email AS parent_email
         FROM parent_link_requests r
         JOIN pupils p ON p.id = r.pupil_id
         JOIN users u ON u.id = r.parent_id
         WHERE r.school_id = $1 AND (r.status = $2 OR $3 = 1)
         ORDER BY r.requested_at DESC, r.id LIMIT $4",
    )
    .bind(&caller.school_id)
    .bind(wanted.map(RequestStatus::name).unwrap_or(""))
    .bind(i64::from(wanted.is_none()))
    .bind(PAGE)
    .fetch_all(&state.db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let pupil_id: String = row.try_get("pupil_id")?;
        let linked_parents = sqlx::query(
            "SELECT u.display_name FROM parent_links l JOIN users u ON u.id = l.parent_id
             WHERE l.pupil_id = $1 ORDER BY u.display_name",
        )
        .bind(&pupil_id)
        .fetch_all(&state.db)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("display_name"))
        .collect::<Result<Vec<_>, _>>()?;
        let status: String = row.try_get("status")?;
        out.push(ParentRequest {
            id: row.try_get("id")?,
            pupil_id,
            pupil_name: row.try_get("pupil_name")?,
            parent_id: row.try_get("parent_id")?,
            parent_name: row.try_get("parent_name")?,
            parent_email: row
                .try_get::<Option<String>, _>("parent_email")?
                .unwrap_or_default(),
            linked_parents,
            requested_at: parse_time(&row.try_get::<String, _>("requested_at")?)?,
            status: RequestStatus::parse(&status)
                .ok_or_else(|| ServerError::Internal(format!("request status {status:?}")))?,
        });
    }
    Ok(Json(out))
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, ServerError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ServerError::Internal(format!("request time in database: {e}")))
}

/// `POST /v1/parent-requests/{id}/approve`: links the parent to the pupil; their next sign-in
/// and pull see the child.
#[tracing::instrument(skip_all)]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ParentRequestDecided>, ServerError> {
    let decided = decide(&state, &caller, &id, RequestStatus::Approved).await?;
    crate::live::changed(&state, &caller.school_id).await;
    Ok(Json(decided))
}

/// `POST /v1/parent-requests/{id}/decline`: the parent stays unlinked (and cannot sign in).
#[tracing::instrument(skip_all)]
pub async fn decline(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ParentRequestDecided>, ServerError> {
    Ok(Json(
        decide(&state, &caller, &id, RequestStatus::Declined).await?,
    ))
}

/// Records the admin's decision on a pending request, with its audit entry, in one transaction.
async fn decide(
    state: &AppState,
    caller: &Caller,
    id: &str,
    to: RequestStatus,
) -> Result<ParentRequestDecided, ServerError> {
    if caller.role != Role::Admin {
        // Asked before looking the request up: a refusal says nothing about whether it exists.
        return Err(ServerError::Forbidden(
            "only the school's admin decides on a third parent".into(),
        ));
    }
    let row = sqlx::query(
        "SELECT pupil_id, parent_id FROM parent_link_requests WHERE id = $1 AND school_id = $2",
    )
    .bind(id)
    .bind(&caller.school_id)
    .fetch_optional(&state.db)
    .await?
    .ok_or(ServerError::NotFound)?;
    let pupil_id: String = row.try_get("pupil_id")?;
    let parent_id: String = row.try_get("parent_id")?;
    require(
        state,
        caller,
        Action::ApproveParentLink,
        Target::Pupil(&pupil_id),
    )
    .await?;
    let mut tx = write_tx(&state.db).await?;
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let updated = sqlx::query(
        "UPDATE parent_link_requests SET status = $1, decided_by = $2, decided_at = $3
         WHERE id = $4 AND status = $5",
    )
    .bind(to.name())
    .bind(&caller.user_id)
    .bind(&now)
    .bind(id)
    .bind(RequestStatus::Pending.name())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(ServerError::Conflict(
            "this request has already been decided".into(),
        ));
    }
    let action = if to == RequestStatus::Approved {
        sqlx::query(
            "INSERT INTO parent_links (pupil_id, parent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(&pupil_id)
        .bind(&parent_id)
        .execute(&mut *tx)
        .await?;
        "approve_parent_link"
    } else {
        "decline_parent_link"
    };
    audit::record(&mut tx, caller, action, &format!("{pupil_id}/{parent_id}")).await?;
    tx.commit().await?;
    tracing::info!(decision = to.name(), "parent request decided");
    Ok(ParentRequestDecided {
        id: id.to_owned(),
        pupil_id,
        parent_id,
        status: to,
    })
}
