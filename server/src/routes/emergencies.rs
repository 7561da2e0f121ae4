//! `POST /v1/emergencies`: the admin's school-wide emergency announcement, the one notification
//! that breaks quiet hours, marked as an emergency on every device (REQ-NOT-4).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use homeroom_protocol::access::{can, Action, Role, SchoolFacts, Target};
use homeroom_protocol::messaging::{
    emergency_event, validate_body, EmergencyRecord, EmergencyRequest,
};

use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::db::write_tx;
use crate::error::ServerError;
use crate::json::ApiJson;
use crate::messaging::display_name;
use crate::push::schedule::{plan_event, stamp};

/// Everyone the emergency reaches: the school's staff and every parent with a child at the
/// school (a removed family is not told), except the sender.
fn recipients(facts: &SchoolFacts, school_id: &str, sender: &str) -> Vec<String> {
    facts
        .users
        .iter()
        .filter(|(id, u)| {
            id.as_str() != sender
                && u.school_id == school_id
                && (u.role.is_staff()
                    || (u.role == Role::Parent
                        && can(
                            facts,
                            Some(id.as_str()),
                            Action::ReadSchoolStory,
                            &Target::School(school_id),
                        )
                        .is_ok()))
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// Records the emergency and plans it for everyone at once, in one transaction; the push
/// dispatcher is woken so it goes out now, not at its next tick.
#[tracing::instrument(skip_all)]
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<EmergencyRequest>,
) -> Result<(StatusCode, Json<EmergencyRecord>), ServerError> {
    let facts = state.facts.for_caller(&state.db, &caller).await?;
    can(
        &facts,
        Some(&caller.user_id),
        Action::SendEmergency,
        &Target::School(&caller.school_id),
    )
    .map_err(|d| ServerError::Forbidden(d.to_string()))?;
    let body = validate_body(&req.body).map_err(|(f, why)| ServerError::field(f, why))?;
    let to = recipients(&facts, &caller.school_id, &caller.user_id);
    let record = EmergencyRecord {
        id: req.emergency_id,
        sent_by: caller.user_id.clone(),
        body,
        sent_at: state.clock.now(),
        recipients: u32::try_from(to.len()).unwrap_or(u32::MAX),
    };
    let mut tx = write_tx(&state.db).await?;
    let inserted = sqlx::query(
        "INSERT INTO emergencies (id, school_id, sent_by, body, sent_at, recipients)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(record.id.to_string())
    .bind(&caller.school_id)
    .bind(&record.sent_by)
    .bind(&record.body)
    .bind(stamp(record.sent_at))
    .bind(i64::from(record.recipients))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        // A retried request: the first one already told everyone.
        return Err(ServerError::field(
            "emergency_id",
            "this emergency has already been sent",
        ));
    }
    let event = emergency_event(&record, &display_name(&state.db, &caller.user_id).await?);
    plan_event(
        &state.db,
        &mut tx,
        &facts,
        &caller.school_id,
        &event,
        &to,
        record.sent_at,
    )
    .await?;
    audit::record(&mut tx, &caller, "send_emergency", &record.id.to_string()).await?;
    tx.commit().await?;
    state.push_wake.notify_one();
    Ok((StatusCode::CREATED, Json(record)))
}
