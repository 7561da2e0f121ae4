//! `POST /v1/users/{id}/school-removal`: after repeated misuse leaders remove a parent from the
//! school (REQ-MSG-5). Their links to pupils end, every session dies at once (a removed parent's
//! devices hear `account_removed` and purge), no push is left to reach them, and it is audited.

use axum::extract::State;
use axum::Json;
use homeroom_protocol::access::Action;
use homeroom_protocol::membership::RemovedParent;
use homeroom_protocol::wire::ModerationRequest;
use sqlx::Row;

use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::db::write_tx;
use crate::error::ServerError;
use crate::json::{ApiJson, ApiPath};
use crate::push::schedule::stamp;
use crate::routes::messages::{insert_warning, moderation_allowed};

/// Removes parent `user_id` from the school, in one transaction.
#[tracing::instrument(skip_all)]
pub async fn remove_from_school(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(req): ApiJson<ModerationRequest>,
) -> Result<Json<RemovedParent>, ServerError> {
    moderation_allowed(&state, &caller, &user_id, Action::RemoveParent, &req).await?;
    let reason = req.reason.trim();
    let now_at = state.clock.now();
    let now = stamp(now_at);
    let mut tx = write_tx(&state.db).await?;
    let marked = sqlx::query(
        "UPDATE users SET removed_at = $1, messaging_removed = 1
         WHERE id = $2 AND school_id = $3 AND role = 'parent' AND removed_at IS NULL",
    )
    .bind(&now)
    .bind(&user_id)
    .bind(&caller.school_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if marked == 0 {
        return Err(ServerError::field(
            "id",
            "this parent has already been removed from the school",
        ));
    }
    let pupils_unlinked =
        sqlx::query("DELETE FROM parent_links WHERE parent_id = $1 RETURNING pupil_id")
            .bind(&user_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("pupil_id"))
            .collect::<Result<std::collections::BTreeSet<_>, _>>()?
            .into_iter()
            .collect();
    let sessions_ended =
        sqlx::query("UPDATE sessions SET revoked = 1 WHERE user_id = $1 AND revoked = 0")
            .bind(&user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    // Nothing more is pushed to their phones: no device, and nothing left waiting.
    sqlx::query("DELETE FROM push_devices WHERE user_id = $1")
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE push_plans SET sent_at = $1, plan = '' WHERE recipient_id = $2 AND sent_at IS NULL",
    )
    .bind(&now)
    .bind(&user_id)
    .execute(&mut *tx)
    .await?;
    // On the parent's moderation record beside earlier warnings, with the leader's words.
    let note = format!("removed from the school: {reason}");
    insert_warning(&mut tx, &caller, &user_id, &note, now_at).await?;
    audit::record(&mut tx, &caller, "remove_parent", &user_id).await?;
    tx.commit().await?;
    Ok(Json(RemovedParent {
        parent_id: user_id,
        pupils_unlinked,
        sessions_ended,
    }))
}
