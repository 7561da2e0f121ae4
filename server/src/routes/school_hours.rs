//! `GET`/`PUT /v1/school/working-hours`: the school's working hours, which the push planner and
//! the composer hint read (REQ-NOT-1, MSG-4). Staff who set no hours of their own are quiet
//! whenever the school is closed; only the admin changes them.

use axum::extract::State;
use axum::Json;
use chrono::Weekday;
use homeroom_protocol::access::{Action, Target};
use homeroom_protocol::notify::{DailySpan, TimeOfDay, WorkingHours};
use serde::Deserialize;

use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::db::write_tx;
use crate::error::ServerError;
use crate::json::ApiJson;
use crate::push::schedule::{replan_held, school_working_hours};
use crate::routes::require;

/// The body of a `PUT`, read as text first so each bad value is named by its field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingHoursInput {
    /// School days: "Mon" … "Sun".
    pub days: Vec<String>,
    pub hours: SpanInput,
}

/// A working day's start and end, "HH:MM".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanInput {
    pub start: String,
    pub end: String,
}

/// Turns the input into working hours, or names the field at fault and why.
pub fn parse(input: &WorkingHoursInput) -> Result<WorkingHours, ServerError> {
    let mut days = Vec::with_capacity(input.days.len());
    for (i, d) in input.days.iter().enumerate() {
        let day: Weekday = d
            .trim()
            .parse()
            .map_err(|_| ServerError::field(format!("days[{i}]"), "a weekday, Mon to Sun"))?;
        days.push(day);
    }
    let time = |field: &str, text: &str| -> Result<TimeOfDay, ServerError> {
        text.trim()
            .parse()
            .map_err(|_| ServerError::field(field, "a time HH:MM between 00:00 and 24:00"))
    };
    let hours = WorkingHours {
        days,
        hours: DailySpan {
            start: time("hours.start", &input.hours.start)?,
            end: time("hours.end", &input.hours.end)?,
        },
    };
    hours
        .validate()
        .map_err(|(field, why)| ServerError::field(field, why))?;
    Ok(hours)
}

/// `GET /v1/school/working-hours`: anyone signed in at the school may read them.
#[tracing::instrument(skip_all)]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<WorkingHours>, ServerError> {
    Ok(Json(
        school_working_hours(&state.db, &caller.school_id).await?,
    ))
}

/// `PUT /v1/school/working-hours`: the admin sets them; bad input is refused, nothing changes.
#[tracing::instrument(skip_all)]
pub async fn write(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<WorkingHoursInput>,
) -> Result<Json<WorkingHours>, ServerError> {
    require(
        &state,
        &caller,
        Action::SetWorkingHours,
        Target::School(&caller.school_id),
    )
    .await?;
    let hours = parse(&input)?;
    let text = serde_json::to_string(&hours).map_err(|e| ServerError::Internal(e.to_string()))?;
    let mut tx = write_tx(&state.db).await?;
    sqlx::query("UPDATE schools SET working_hours = $1 WHERE id = $2")
        .bind(text)
        .bind(&caller.school_id)
        .execute(&mut *tx)
        .await?;
    audit::record(&mut tx, &caller, "set_working_hours", &caller.school_id).await?;
    tx.commit().await?;
    // What is already held moves too (after the commit: planning reads the new hours). Should
    // this fail, the held pushes keep their old times, which were allowed when planned.
    let facts = state.facts.for_caller(&state.db, &caller).await?;
    replan_held(
        &state.db,
        &facts,
        &caller.school_id,
        None,
        state.clock.now(),
    )
    .await?;
    Ok(Json(hours))
}
