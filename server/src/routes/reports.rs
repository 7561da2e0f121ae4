//! Points reports (REQ-PTS-4): pie-chart data for one pupil over a period, and the month and
//! all-time reports staff share with a pupil's parents on request.

use axum::extract::State;
use axum::Json;
use chrono::SecondsFormat;
use homeroom_protocol::access::Target;
use homeroom_protocol::goals::ProgressInputs;
use homeroom_protocol::reports::{self, Period, PointsReport, ShareReportRequest, SharedReport};
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::db::write_tx;
use crate::error::ServerError;
use crate::json::{ApiJson, ApiPath, ApiQuery};
use crate::routes::require;

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    period: String,
}

fn period_of(name: &str) -> Result<Period, ServerError> {
    Period::parse(name)
        .ok_or_else(|| ServerError::field("period", "one of day, week, fortnight, month, all_time"))
}

/// The report as of now, from the awards still held (retention applies: REQ-PTS-7), with
/// progress per goal when `reader` may read the pupil's goals (REQ-PTS-8).
async fn build(
    state: &AppState,
    school_id: &str,
    reader: &str,
    pupil_id: &str,
    period: Period,
) -> Result<PointsReport, ServerError> {
    let facts = state.facts.facts(&state.db, school_id).await?;
    let skills = match facts
        .pupils
        .get(pupil_id)
        .and_then(|p| p.class_id.as_deref())
    {
        Some(class) => crate::directory::class_skills(&state.db, class).await?,
        None => Vec::new(),
    };
    let mut conn = state.db.acquire().await?;
    let awards = super::pupils::awards_of(&mut conn, pupil_id).await?;
    let goals = if homeroom_protocol::goals::may_read(&facts, reader, pupil_id).is_ok() {
        crate::goals::of_pupil(&mut conn, school_id, pupil_id).await?
    } else {
        Vec::new()
    };
    let live_items = crate::goals::standing_items(&mut conn, school_id, &goals).await?;
    let tz = crate::push::schedule::school_time_zone(&state.db, school_id).await?;
    let inputs = ProgressInputs {
        goals: &goals,
        awards: &awards,
        live_items: &live_items,
    };
    Ok(
        reports::build(pupil_id, period, state.clock.now(), tz, &awards, &skills)
            .with_goals(&facts, reader, inputs),
    )
}

/// `GET /v1/pupils/{id}/report?period=week`: pupils and parents up to a fortnight, staff all.
#[tracing::instrument(skip_all)]
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(pupil_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<PointsReport>, ServerError> {
    let period = period_of(&q.period)?;
    require(
        &state,
        &caller,
        period.read_action(),
        Target::Pupil(&pupil_id),
    )
    .await?;
    Ok(Json(
        build(
            &state,
            &caller.school_id,
            &caller.user_id,
            &pupil_id,
            period,
        )
        .await?,
    ))
}

/// `POST /v1/pupils/{id}/report-shares`: staff share this month's or the all-time report with
/// the pupil's parents, as it stands now.
#[tracing::instrument(skip_all)]
pub async fn share(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(pupil_id): ApiPath<String>,
    ApiJson(req): ApiJson<ShareReportRequest>,
) -> Result<Json<SharedReport>, ServerError> {
    let action = req.period.share_action().ok_or_else(|| {
        ServerError::field(
            "period",
            "only month and all_time reports are shared; parents see the shorter ones already",
        )
    })?;
    require(&state, &caller, action, Target::Pupil(&pupil_id)).await?;
    let report = build(
        &state,
        &caller.school_id,
        &caller.user_id,
        &pupil_id,
        req.period,
    )
    .await?;
    let shared = SharedReport {
        id: Uuid::new_v4().to_string(),
        shared_by: caller.user_id.clone(),
        shared_at: state.clock.now(),
        report,
    };
    let body = serde_json::to_string(&shared.report)
        .map_err(|e| ServerError::Internal(format!("encode report: {e}")))?;
    let mut tx = write_tx(&state.db).await?;
    sqlx::query(
        "INSERT INTO report_shares (id, school_id, pupil_id, period, shared_by, shared_at, report)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&shared.id)
    .bind(&caller.school_id)
    .bind(&pupil_id)
    .bind(req.period.name())
    .bind(&shared.shared_by)
    .bind(
        shared
            .shared_at
            .to_rfc3339_opts(SecondsFormat::Millis, true),
    )
    .bind(body)
    .execute(&mut *tx)
    .await?;
    audit::record(&mut tx, &caller, "share_report", &pupil_id).await?;
    tx.commit().await?;
    Ok(Json(shared))
}

/// `GET /v1/pupils/{id}/report-shares`: the shared reports, newest first, for the pupil's own
/// parents and staff who may read them.
#[tracing::instrument(skip_all)]
pub async fn shared(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(pupil_id): ApiPath<String>,
) -> Result<Json<Vec<SharedReport>>, ServerError> {
    let facts = state.facts.for_caller(&state.db, &caller).await?;
    if !reports::may_read_shared(&facts, &caller.user_id, &pupil_id) {
        return Err(ServerError::Forbidden(
            "not allowed: read shared reports".into(),
        ));
    }
    let mut conn = state.db.acquire().await?;
    let shares =
        crate::subject_access::report_shares(&mut conn, &caller.school_id, &pupil_id).await?;
    Ok(Json(shares))
}
