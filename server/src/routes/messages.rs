//! Messaging routes beside the outbox path: a direct send, notification settings, push devices,
//! thread export, and leaders' reports and moderation (REQ-MSG-1, MSG-2, MSG-5, MSG-6, NOT-1, NOT-3).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use homeroom_protocol::access::{can, Action, Target};
use homeroom_protocol::messaging::NotifySettings;
use homeroom_protocol::wire::{
    ClientWrite, MessageReport, ModerationRequest, PushDevice, RejectCode, SendMessageRequest,
    WriteOp, WriteOutcome, WriteResult,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ServerError;
use crate::json::{ApiJson, ApiPath, ApiQuery};
use crate::message_columns;
use crate::messaging::{message_from_row, MessageRow};
use crate::push::schedule::stamp;

/// `POST /v1/messages`: the same write as the outbox's `send_message`, idempotent by
/// `message_id`, answered with HTTP status codes (403 for a pupil: REQ-MSG-2).
#[tracing::instrument(skip_all)]
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SendMessageRequest>,
) -> Result<Json<WriteResult>, ServerError> {
    let facts = state.facts.for_caller(&state.db, &caller).await?;
    let write = ClientWrite {
        client_id: req.message_id,
        op: WriteOp::SendMessage {
            message_id: req.message_id,
            to: req.to,
            body: req.body,
            attachments: req.attachments,
        },
    };
    let outcome = super::sync::apply_write(&state, &caller, &facts, &write).await?;
    if matches!(outcome, WriteOutcome::Accepted) {
        // The recipient's live devices hear of it at once (REQ-OFF-3).
        crate::live::changed(&state, &caller.school_id).await;
    }
    match outcome {
        WriteOutcome::Rejected { code, reason } => Err(match code {
            RejectCode::Forbidden => ServerError::Forbidden(reason),
            RejectCode::NotFound => ServerError::NotFound,
            RejectCode::Invalid => ServerError::field("body", reason),
            // An attachment not uploaded yet (REQ-MSG-1): upload it, then send again.
            RejectCode::MediaMissing => ServerError::field("attachments", reason),
            // A post-only refusal; a message never gets it.
            RejectCode::ConsentBlocked => ServerError::Forbidden(reason),
        }),
        outcome => Ok(Json(WriteResult {
            client_id: req.message_id,
            outcome,
        })),
    }
}

/// `PUT /v1/me/notify-settings`: one's own quiet and working hours, time zone and lock-screen
/// choice (REQ-NOT-1, NOT-3, NOT-5); hours that leave no time to be notified are refused.
#[tracing::instrument(skip_all)]
pub async fn set_notify_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(settings): ApiJson<NotifySettings>,
) -> Result<Json<NotifySettings>, ServerError> {
    let facts = state.facts.for_caller(&state.db, &caller).await?;
    let me = caller.user_id.as_str();
    can(&facts, Some(me), Action::SetQuietHours, &Target::User(me))
        .map_err(|d| ServerError::Forbidden(d.to_string()))?;
    settings
        .hours
        .schedule()
        .map_err(|e| ServerError::field("hours", e.to_string()))?;
    let text =
        serde_json::to_string(&settings).map_err(|e| ServerError::Internal(e.to_string()))?;
    let mut tx = crate::db::write_tx(&state.db).await?;
    sqlx::query(
        "INSERT INTO notify_settings (user_id, settings, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
    )
    .bind(me)
    .bind(text)
    .bind(stamp(state.clock.now()))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // Notifications already held for this person move to their new hours (REQ-NOT-1, NOT-3).
    crate::push::schedule::replan_held(
        &state.db,
        &facts,
        &caller.school_id,
        Some(me),
        state.clock.now(),
    )
    .await?;
    Ok(Json(settings))
}

/// `PUT /v1/me/push-device`: where this person's notifications are pushed.
#[tracing::instrument(skip_all)]
pub async fn register_push_device(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(device): ApiJson<PushDevice>,
) -> Result<Json<PushDevice>, ServerError> {
    if !matches!(device.platform.as_str(), "apns" | "fcm" | "loopback") {
        return Err(ServerError::field("platform", "apns, fcm or loopback"));
    }
    if device.token.is_empty() || device.token.len() > 4096 {
        return Err(ServerError::field(
            "token",
            "a device token of 1 to 4096 bytes",
        ));
    }
    let mut tx = crate::db::write_tx(&state.db).await?;
    sqlx::query(
        "INSERT INTO push_devices (user_id, platform, token, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, platform, token) DO UPDATE SET updated_at = excluded.updated_at",
    )
    .bind(&caller.user_id)
    .bind(&device.platform)
    .bind(&device.token)
    .bind(stamp(state.clock.now()))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(device))
}

/// Query of the export route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `text` (default) or `html`.
    #[serde(default)]
    pub format: Option<String>,
}

/// `GET /v1/threads/{id}/export`: the thread as a dated written record for a meeting record or
/// safeguarding log (REQ-MSG-6). The thread's staff member and leaders only.
#[tracing::instrument(skip_all)]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(thread_id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ServerError> {
    let pair: Option<(String, String)> =
        sqlx::query_as("SELECT parent_id, staff_id FROM threads WHERE id = $1 AND school_id = $2")
            .bind(thread_id.to_string())
            .bind(&caller.school_id)
            .fetch_optional(&state.db)
            .await?;
    let Some((parent_id, staff_id)) = pair else {
        return Err(ServerError::NotFound);
    };
    let allowed =
        caller.role.is_leadership() || (caller.role.is_staff() && caller.user_id == staff_id);
    if !allowed {
        return Err(ServerError::Forbidden(
            "only the thread's staff member or a leader can export it".into(),
        ));
    }
    let messages = thread_messages(&state, &thread_id).await?;
    let tz = crate::push::schedule::school_time_zone(&state.db, &caller.school_id).await?;
    let record = crate::export::ThreadRecord {
        school: sqlx::query_as::<_, (String,)>("SELECT name FROM schools WHERE id = $1")
            .bind(&caller.school_id)
            .fetch_one(&state.db)
            .await?
            .0,
        parent: crate::messaging::display_name(&state.db, &parent_id).await?,
        staff: crate::messaging::display_name(&state.db, &staff_id).await?,
        exported_by: crate::messaging::display_name(&state.db, &caller.user_id).await?,
        exported_at: state.clock.now(),
        time_zone: tz,
        parent_id,
        messages,
    };
    let (body, mime, ext) = match q.format.as_deref().unwrap_or("text") {
        "text" => (record.to_text(), "text/plain; charset=utf-8", "txt"),
        "html" => (record.to_html(), "text/html; charset=utf-8", "html"),
        _ => return Err(ServerError::field("format", "text or html")),
    };
    let disposition = format!(
        "attachment; filename=\"conversation-{}.{ext}\"",
        record.exported_at.format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// A thread's messages with their read state, oldest first.
async fn thread_messages(
    state: &AppState,
    thread_id: &Uuid,
) -> Result<Vec<crate::export::ExportedMessage>, ServerError> {
    /// A message row and its read time.
    type Row = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        ", m.read_at FROM messages m JOIN threads t ON t.id = m.thread_id
             WHERE m.thread_id = $1 ORDER BY m.sent_at, m.id"
    ))
    .bind(thread_id.to_string())
    .fetch_all(&state.db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (a, b, c, d, e, f, g, read_at) in rows {
        let mut record = message_from_row((a, b, c.clone(), d, e, f, g))?;
        record.attachments = crate::attachments::of_message(&state.db, &record.id).await?;
        out.push(crate::export::ExportedMessage {
            sender: crate::messaging::display_name(&state.db, &c).await?,
            read_at: read_at.and_then(|t| t.parse().ok()),
            record,
        });
    }
    Ok(out)
}

/// `GET /v1/reports`: reported messages with their threads, newest first (REQ-MSG-5; leaders).
#[tracing::instrument(skip_all)]
pub async fn reports(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<MessageReport>>, ServerError> {
    if !caller.role.is_leadership() {
        return Err(ServerError::Forbidden(
            "reports are for the school's leaders".into(),
        ));
    }
    let rows: Vec<(String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT id, message_id, reporter_id, reason, reported_at FROM message_reports
         WHERE school_id = $1 ORDER BY reported_at DESC, id",
    )
    .bind(&caller.school_id)
    .fetch_all(&state.db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    let bad = |e: String| ServerError::Internal(format!("stored report: {e}"));
    for (id, message_id, reporter_id, reason, reported_at) in rows {
        let row: MessageRow = sqlx::query_as(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages m JOIN threads t ON t.id = m.thread_id WHERE m.id = $1"
        ))
        .bind(&message_id)
        .fetch_one(&state.db)
        .await?;
        let mut message = message_from_row(row)?;
        message.attachments = crate::attachments::of_message(&state.db, &message.id).await?;
        let thread = thread_messages(&state, &message.thread_id)
            .await?
            .into_iter()
            .map(|m| m.record)
            .collect();
        let (warnings,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM messaging_warnings WHERE user_id = $1")
                .bind(&message.sender_id)
                .fetch_one(&state.db)
                .await?;
        out.push(MessageReport {
            id: id.parse().map_err(|e| bad(format!("{e}")))?,
            reporter_id,
            reason,
            reported_at: reported_at.parse().map_err(|e| bad(format!("{e}")))?,
            message,
            thread,
            sender_warnings: warnings as u32,
        });
    }
    Ok(Json(out))
}

/// Checks a leader may act on this parent's messaging (or membership: REQ-MSG-5) and that
/// they said why.
pub(crate) async fn moderation_allowed(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    action: Action,
    req: &ModerationRequest,
) -> Result<(), ServerError> {
    let facts = state.facts.for_caller(&state.db, caller).await?;
    can(
        &facts,
        Some(&caller.user_id),
        action,
        &Target::User(user_id),
    )
    .map_err(|d| ServerError::Forbidden(d.to_string()))?;
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(ServerError::field(
            "reason",
            "say why, in at most 1000 characters",
        ));
    }
    Ok(())
}

/// Adds one entry to the parent's moderation record, inside the caller's transaction.
pub(crate) async fn insert_warning(
    tx: &mut crate::db::DbTx<'_>,
    caller: &Caller,
    user_id: &str,
    reason: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), ServerError> {
    sqlx::query(
        "INSERT INTO messaging_warnings (id, school_id, user_id, issued_by, reason, issued_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(&caller.school_id)
    .bind(user_id)
    .bind(&caller.user_id)
    .bind(reason)
    .bind(stamp(at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a warning (or a removal) on the parent's record; returns how many they have had.
async fn record_warning(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    reason: &str,
    remove: bool,
) -> Result<i64, ServerError> {
    let mut tx = crate::db::write_tx(&state.db).await?;
    if remove {
        sqlx::query("UPDATE users SET messaging_removed = 1 WHERE id = $1 AND school_id = $2")
            .bind(user_id)
            .bind(&caller.school_id)
            .execute(&mut *tx)
            .await?;
    }
    insert_warning(&mut tx, caller, user_id, reason, state.clock.now()).await?;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messaging_warnings WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(n)
}

/// `POST /v1/users/{id}/messaging-warnings`: a leader warns a parent (REQ-MSG-5).
#[tracing::instrument(skip_all)]
pub async fn warn(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(req): ApiJson<ModerationRequest>,
) -> Result<Json<serde_json::Value>, ServerError> {
    moderation_allowed(&state, &caller, &user_id, Action::WarnParent, &req).await?;
    let n = record_warning(&state, &caller, &user_id, req.reason.trim(), false).await?;
    Ok(Json(
        serde_json::json!({ "user_id": user_id, "warnings": n }),
    ))
}

/// `POST /v1/users/{id}/messaging-removal`: after repeated misuse a leader removes a parent's
/// messaging; their sends are refused from then on, on the phone and here (REQ-MSG-5).
#[tracing::instrument(skip_all)]
pub async fn remove_messaging(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(req): ApiJson<ModerationRequest>,
) -> Result<Json<serde_json::Value>, ServerError> {
    moderation_allowed(&state, &caller, &user_id, Action::RemoveParent, &req).await?;
    let reason = format!("messaging removed: {}", req.reason.trim());
    let n = record_warning(&state, &caller, &user_id, &reason, true).await?;
    Ok(Json(
        serde_json::json!({ "user_id": user_id, "messaging_removed": true, "warnings": n }),
    ))
}
