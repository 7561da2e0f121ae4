//! `GET /v1/safeguarding`: the restricted safeguarding record, for the school's leaders only
//! (REQ-PRV-5); each reading is on the audit log.

use axum::extract::State;
use axum::Json;
use homeroom_protocol::access::{Action, Target};
use homeroom_protocol::safeguarding::SafeguardingRecord;

use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::db::write_tx;
use crate::error::ServerError;
use crate::routes::require;

/// Every safeguarding record of the caller's school, newest first.
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<SafeguardingRecord>>, ServerError> {
    require(
        &state,
        &caller,
        Action::ReadSafeguarding,
        Target::School(&caller.school_id),
    )
    .await?;
    let records = crate::safeguarding::all(&state.db, &caller.school_id).await?;
    let mut tx = write_tx(&state.db).await?;
    audit::record(&mut tx, &caller, "read_safeguarding", &caller.school_id).await?;
    tx.commit().await?;
    Ok(Json(records))
}
