//! `POST /v1/push` and `GET /v1/pull`: devices send their outbox and fetch what changed.

use axum::extract::State;
use axum::Json;
use chrono::Utc;
use homeroom_protocol::access::{can, Action, SchoolFacts, Target};
use homeroom_protocol::wire::{
    AwardTarget, Change, ClientWrite, Directory, PullQuery, PullResponse, PushRequest,
    PushResponse, RejectCode, WriteOp, WriteOutcome, WriteResult, MAX_CHANGES_PER_PAGE,
    MAX_WRITES_PER_PUSH,
};
use sqlx::Row;

use crate::app::AppState;
use crate::auth::Caller;
use crate::db::Db;
use crate::error::ServerError;
use crate::json::ApiJson;
use crate::messaging;

#[tracing::instrument(skip_all, fields(writes = req.writes.len()))]
pub async fn push(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ServerError> {
    if req.writes.len() > MAX_WRITES_PER_PUSH {
        return Err(ServerError::field(
            "writes",
            format!("at most {MAX_WRITES_PER_PUSH} writes per push"),
        ));
    }
    let facts = state.facts.for_caller(&state.db, &caller).await?;
    let ids: Vec<_> = req.writes.iter().map(|w| w.client_id).collect();
    let outcomes = crate::writer::apply(&state, &caller, facts.facts, req.writes).await?;
    let results: Vec<WriteResult> = ids
        .into_iter()
        .zip(outcomes)
        .map(|(client_id, outcome)| WriteResult { client_id, outcome })
        .collect();
    if results
        .iter()
        .any(|r| matches!(r.outcome, WriteOutcome::Accepted))
    {
        crate::live::changed(&state, &caller.school_id).await;
    }
    Ok(Json(PushResponse { results }))
}

/// Applies one write at most once, through the group-committing writer.
pub(crate) async fn apply_write(
    state: &AppState,
    caller: &Caller,
    facts: &crate::facts_cache::Snapshot,
    write: &ClientWrite,
) -> Result<WriteOutcome, ServerError> {
    crate::writer::apply(state, caller, facts.facts.clone(), vec![write.clone()])
        .await?
        .pop()
        .ok_or_else(|| ServerError::Internal("the writer lost a write".into()))
}

/// How a write with this client id was answered before, if it was: a replay gets the first
/// answer again (REQ-OFF-1: nothing sent twice).
pub(crate) async fn prior_outcome(
    tx: &mut crate::db::DbTx<'_>,
    caller: &Caller,
    client_id: &str,
) -> Result<Option<WriteOutcome>, ServerError> {
    let row = sqlx::query("SELECT user_id, outcome FROM applied_writes WHERE client_id = $1")
        .bind(client_id)
        .fetch_optional(&mut **tx)
        .await?;
    match row {
        Some(row) => Ok(Some(replay_answer(
            caller,
            row.try_get("user_id")?,
            row.try_get("outcome")?,
        )?)),
        None => Ok(None),
    }
}

/// The prior answers of every client id in `ids` that was applied before, in one query per
/// 500 ids: client id → (user id, stored outcome).
pub(crate) async fn prior_records(
    tx: &mut crate::db::DbTx<'_>,
    ids: &[String],
) -> Result<std::collections::HashMap<String, (String, String)>, ServerError> {
    let mut found = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let marks = crate::awards::placeholders(1, chunk.len());
        let sql = format!(
            "SELECT client_id, user_id, outcome FROM applied_writes WHERE client_id IN {marks}"
        );
        // Audited: the only dynamic part is the list of numbered placeholders.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            found.insert(
                row.try_get("client_id")?,
                (row.try_get("user_id")?, row.try_get("outcome")?),
            );
        }
    }
    Ok(found)
}

/// The answer to a replayed write: the first answer, unless the id is someone else's.
pub(crate) fn replay_answer(
    caller: &Caller,
    owner: String,
    stored: String,
) -> Result<WriteOutcome, ServerError> {
    if owner != caller.user_id {
        return Ok(reject(
            RejectCode::Invalid,
            "this client id belongs to another write",
        ));
    }
    let first: WriteOutcome = serde_json::from_str(&stored)
        .map_err(|e| ServerError::Internal(format!("stored outcome: {e}")))?;
    Ok(match first {
        WriteOutcome::Accepted | WriteOutcome::AlreadyApplied => WriteOutcome::AlreadyApplied,
        rejected => rejected,
    })
}

/// Applies one new write (its client id has no prior answer) inside the writer's transaction,
/// which holds the write lock: the change, its log entries and the client id commit together.
/// A rejected write may have written part of itself; the writer rolls that back.
pub(crate) async fn apply_new(
    tx: &mut crate::db::DbTx<'_>,
    state: &AppState,
    caller: &Caller,
    facts: &SchoolFacts,
    cache: &mut crate::awards::BatchCache,
    write: &ClientWrite,
) -> Result<WriteOutcome, ServerError> {
    let pool = &state.db;
    let outcome = match &write.op {
        WriteOp::AwardPoints {
            awards,
            skill_id,
            note,
            ..
        } => award(tx, caller, facts, cache, awards, skill_id, note.as_deref()).await?,
        WriteOp::UndoAward { award_id } => undo(tx, caller, facts, award_id).await?,
        WriteOp::CreatePost(post) => crate::posts::create(tx, caller, facts, post).await?,
        WriteOp::CommentOnPost {
            comment_id,
            post_id,
            body,
        } => crate::social::comment(tx, caller, facts, *comment_id, post_id, body).await?,
        WriteOp::RemoveComment { comment_id } => {
            crate::social::remove_comment(tx, caller, facts, comment_id).await?
        }
        WriteOp::LikePost { post_id } => {
            crate::social::set_like(tx, caller, facts, post_id, true).await?
        }
        WriteOp::UnlikePost { post_id } => {
            crate::social::set_like(tx, caller, facts, post_id, false).await?
        }
        WriteOp::SetCommentsOpen { post_id, open } => {
            crate::social::set_comments_open(tx, caller, facts, post_id, *open).await?
        }
        op if op.goal_id().is_some() => {
            crate::goals::apply(tx, caller, facts, state.clock.now(), op).await?
        }
        op => {
            let ctx = messaging::Ctx {
                db: pool,
                caller,
                facts,
                now: state.clock.now(),
                media_dir: &state.media_dir,
            };
            apply_messaging(&ctx, tx, op).await?
        }
    };
    Ok(outcome)
}

/// Records the answer to `client_id` in the same transaction as the write, so a replay is
/// answered the same way and never applied twice.
pub(crate) async fn record_outcome(
    tx: &mut crate::db::DbTx<'_>,
    caller: &Caller,
    client_id: &str,
    outcome: &WriteOutcome,
) -> Result<(), ServerError> {
    let stored =
        serde_json::to_string(outcome).map_err(|e| ServerError::Internal(e.to_string()))?;
    record_outcomes(tx, &[(client_id, caller.user_id.as_str(), stored.as_str())]).await
}

/// Records many answers (client id, user id, outcome JSON) in a few multi-row statements.
pub(crate) async fn record_outcomes(
    tx: &mut crate::db::DbTx<'_>,
    rows: &[(&str, &str, &str)],
) -> Result<(), ServerError> {
    let now = Utc::now().to_rfc3339();
    for chunk in rows.chunks(100) {
        let marks = crate::awards::placeholders(chunk.len(), 4);
        // Audited: the only dynamic part is the list of numbered placeholders.
        let sql = format!(
            "INSERT INTO applied_writes (client_id, user_id, outcome, applied_at) VALUES {marks}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (client_id, user_id, outcome) in chunk {
            query = query
                .bind(*client_id)
                .bind(*user_id)
                .bind(*outcome)
                .bind(&now);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The messaging writes (REQ-MSG-1..3, MSG-5).
async fn apply_messaging(
    ctx: &messaging::Ctx<'_>,
    tx: &mut crate::db::DbTx<'_>,
    op: &WriteOp,
) -> Result<WriteOutcome, ServerError> {
    match op {
        WriteOp::SendMessage {
            message_id,
            to,
            body,
            attachments,
        } => messaging::send_message(ctx, tx, *message_id, to, body, attachments).await,
        WriteOp::MarkThreadRead { thread_id } => {
            messaging::mark_thread_read(ctx, tx, thread_id).await
        }
        WriteOp::Announce {
            announcement_id,
            class_id,
            body,
        } => messaging::announce(ctx, tx, *announcement_id, class_id, body).await,
        WriteOp::ReportMessage {
            report_id,
            message_id,
            reason,
        } => messaging::report(ctx, tx, *report_id, message_id, reason.as_deref()).await,
        WriteOp::AwardPoints { .. }
        | WriteOp::UndoAward { .. }
        | WriteOp::CreatePost(_)
        | WriteOp::CommentOnPost { .. }
        | WriteOp::RemoveComment { .. }
        | WriteOp::LikePost { .. }
        | WriteOp::UnlikePost { .. }
        | WriteOp::SetCommentsOpen { .. }
        | WriteOp::CreateGoal { .. }
        | WriteOp::UpdateGoal { .. }
        | WriteOp::ArchiveGoal { .. }
        | WriteOp::LinkGoal { .. }
        | WriteOp::UnlinkGoal { .. } => Err(ServerError::Internal(
            "award, post, comment and goal writes are applied before messaging".into(),
        )),
    }
}

fn reject(code: RejectCode, reason: impl Into<String>) -> WriteOutcome {
    WriteOutcome::Rejected {
        code,
        reason: reason.into(),
    }
}

/// REQ-PTS-2: awards a skill to each named pupil, if the shared rules allow every one of them.
async fn award(
    tx: &mut crate::db::DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    cache: &mut crate::awards::BatchCache,
    awards: &[AwardTarget],
    skill_id: &str,
    note: Option<&str>,
) -> Result<WriteOutcome, ServerError> {
    match crate::awards::plan(tx, caller, facts, cache, awards, skill_id, note).await? {
        Ok(records) => crate::awards::store_one(tx, &caller.school_id, &records).await,
        Err(refused) => Ok(refused),
    }
}

/// REQ-PTS-3: removes an award, if the shared rules let this person undo it, and logs the removal
/// so every device that has it deletes it.
async fn undo(
    tx: &mut crate::db::DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    award_id: &uuid::Uuid,
) -> Result<WriteOutcome, ServerError> {
    let id = award_id.to_string();
    let Some(row) = sqlx::query("SELECT pupil_id FROM awards WHERE id = $1 AND school_id = $2")
        .bind(&id)
        .bind(&caller.school_id)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(reject(
            RejectCode::NotFound,
            "no such award (it may have been undone already)",
        ));
    };
    let pupil_id: String = row.try_get("pupil_id")?;
    if let Err(denied) = can(
        facts,
        Some(&caller.user_id),
        Action::UndoAward,
        &Target::Pupil(&pupil_id),
    ) {
        return Ok(reject(RejectCode::Forbidden, denied.to_string()));
    }
    crate::removal::remove_award(tx, &caller.school_id, award_id, &pupil_id).await?;
    Ok(WriteOutcome::Accepted)
}

#[tracing::instrument(skip_all, fields(since = q.since))]
pub async fn pull(
    State(state): State<AppState>,
    caller: Caller,
    crate::json::ApiQuery(q): crate::json::ApiQuery<PullQuery>,
) -> Result<Json<PullResponse>, ServerError> {
    let facts = state.facts.for_caller(&state.db, &caller).await?;
    let since =
        i64::try_from(q.since).map_err(|_| ServerError::field("since", "cursor out of range"))?;
    let log_id = check_cursor(&state.db, since, q.log_id.as_deref()).await?;
    let rows = sqlx::query(
        "SELECT seq, kind, payload FROM changes WHERE school_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(&caller.school_id)
    .bind(since)
    .bind(MAX_CHANGES_PER_PAGE as i64 + 1)
    .fetch_all(&state.db)
    .await?;
    let has_more = rows.len() > MAX_CHANGES_PER_PAGE;
    let mut cursor = q.since;
    let mut changes = Vec::new();
    let mut delivered = Vec::new();
    let me = caller.user_id.as_str();
    // REQ-MSG-2: a pupil's pull carries no message, whatever the log holds.
    let reads_threads = can(&facts, Some(me), Action::ReadThreads, &Target::User(me)).is_ok();
    for row in rows.iter().take(MAX_CHANGES_PER_PAGE) {
        cursor = row.try_get::<i64, _>("seq")? as u64;
        let kind: String = row.try_get("kind")?;
        let parse = || -> Result<Change, ServerError> {
            serde_json::from_str(row.try_get::<&str, _>("payload")?)
                .map_err(|e| ServerError::Internal(format!("stored change: {e}")))
        };
        // Every change is filtered by the shared rules: REQ-PTS-5, ACC-5, MSG-1..3.
        match kind.as_str() {
            "message" | "message_state" | "announcement" => {
                let change = parse()?;
                let visible = match &change {
                    Change::Message(m) => reads_threads && (m.parent_id == me || m.staff_id == me),
                    Change::MessageState(m) => {
                        reads_threads && (m.parent_id == me || m.staff_id == me)
                    }
                    Change::Announcement(a) => {
                        caller.role != homeroom_protocol::access::Role::Pupil
                            && can(
                                &facts,
                                Some(me),
                                Action::ReadStory,
                                &Target::Class(&a.class_id),
                            )
                            .is_ok()
                    }
                    _ => false,
                };
                if visible {
                    if let Change::Message(m) = &change {
                        if m.sender_id != me {
                            delivered.push(m.clone());
                        }
                    }
                    changes.push(change);
                }
            }
            _ => {
                // REQ-PTS-5, ACC-5, STO-1..3, CON-1.
                let change = parse()?;
                if visible(&facts, me, &change) {
                    changes.push(change);
                }
            }
        }
    }
    messaging::mark_delivered(&state.db, &caller.school_id, &delivered, state.clock.now()).await?;
    let dir = state.facts.directory(&state.db, &caller, &facts).await?;
    let directory = (q.directory_version.as_deref() != Some(dir.version.as_str()))
        .then(|| Directory::clone(&dir));
    Ok(Json(PullResponse {
        changes,
        cursor,
        has_more,
        log_id,
        directory,
    }))
}

/// Refuses a cursor from another copy of the change log (a server rebuilt or restored from a
/// backup): pulling on from it would skip or misread changes. Returns this log's id.
async fn check_cursor(db: &Db, since: i64, log_id: Option<&str>) -> Result<String, ServerError> {
    let row = sqlx::query(
        "SELECT (SELECT log_id FROM change_log_identity WHERE id = 1) AS log_id, \
                (SELECT MAX(seq) FROM changes) AS head",
    )
    .fetch_one(db)
    .await?;
    let ours: String = row.try_get("log_id")?;
    let head: Option<i64> = row.try_get("head")?;
    if log_id.is_some_and(|theirs| theirs != ours) || since > head.unwrap_or(0) {
        tracing::info!(since, "refused a stale cursor");
        return Err(ServerError::StaleCursor);
    }
    Ok(ours)
}

/// Whether `user` may see `change`, by the shared rules.
fn visible(facts: &SchoolFacts, user: &str, change: &Change) -> bool {
    let on_pupil =
        |action: Action, pupil: &str| can(facts, Some(user), action, &Target::Pupil(pupil)).is_ok();
    match change {
        Change::Award(a) => on_pupil(Action::ReadPoints, &a.pupil_id),
        Change::AwardRemoved { pupil_id, .. } => on_pupil(Action::ReadPoints, pupil_id),
        Change::Post(p) => p.audience.may_read(facts, user),
        Change::PostWithdrawn { audience, .. } => audience.may_read(facts, user),
        // REQ-STO-4: comments and likes go to exactly those who may read the post.
        Change::Comment(c) => c.audience.may_read(facts, user),
        Change::CommentRemoved { audience, .. } | Change::CommentsOpen { audience, .. } => {
            audience.may_read(facts, user)
        }
        Change::Like(l) => l.audience.may_read(facts, user),
        // REQ-PTS-8: goals (EHCP outcomes among them) reach the pupil, their family, class staff.
        Change::Goal(g) => homeroom_protocol::goals::may_read(facts, user, &g.pupil_id).is_ok(),
        // Messages and announcements are filtered where the pull reads them (REQ-MSG-1..3).
        Change::Message(_) | Change::MessageState(_) | Change::Announcement(_) => false,
    }
}
