//! Learning goals and EHCP outcomes from a device's push (REQ-PTS-8): staff of the pupil's
//! class create, edit, archive and link them; each change logs the goal's whole new record so
//! devices replace their copy, and the goal's older log entries go (an old title must not stay).

use std::collections::BTreeSet;

use chrono::{DateTime, SecondsFormat, Utc};
use homeroom_protocol::access::SchoolFacts;
use homeroom_protocol::goals::{self, GoalEdit, GoalKind, GoalLink, GoalRecord};
use homeroom_protocol::posts::Audience;
use homeroom_protocol::wire::{Change, RejectCode, WriteOp, WriteOutcome};
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::DbTx;
use crate::error::ServerError;

fn reject(code: RejectCode, reason: impl Into<String>) -> WriteOutcome {
    WriteOutcome::Rejected {
        code,
        reason: reason.into(),
    }
}

fn internal(what: &'static str) -> impl Fn(serde_json::Error) -> ServerError {
    move |e| ServerError::Internal(format!("{what}: {e}"))
}

/// Applies one goal write inside the push's transaction.
pub async fn apply(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    now: DateTime<Utc>,
    op: &WriteOp,
) -> Result<WriteOutcome, ServerError> {
    match op {
        WriteOp::CreateGoal {
            goal_id,
            pupil_id,
            title,
            kind,
            target,
        } => {
            create(
                tx, caller, facts, now, *goal_id, pupil_id, title, *kind, *target,
            )
            .await
        }
        WriteOp::UpdateGoal {
            goal_id,
            title,
            target,
        } => {
            let edit = GoalEdit::Update {
                title,
                target: *target,
            };
            edit_goal(tx, caller, facts, goal_id, &edit).await
        }
        WriteOp::ArchiveGoal { goal_id } => {
            edit_goal(tx, caller, facts, goal_id, &GoalEdit::Archive { at: now }).await
        }
        WriteOp::LinkGoal { goal_id, link } => link_goal(tx, caller, facts, goal_id, link).await,
        WriteOp::UnlinkGoal { goal_id, link } => {
            edit_goal(tx, caller, facts, goal_id, &GoalEdit::Unlink { link }).await
        }
        _ => Err(ServerError::Internal("not a goal write".into())),
    }
}

#[allow(clippy::too_many_arguments)]
async fn create(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    now: DateTime<Utc>,
    goal_id: Uuid,
    pupil_id: &str,
    title: &str,
    kind: GoalKind,
    target: Option<u32>,
) -> Result<WriteOutcome, ServerError> {
    let record = match GoalRecord::new(goal_id, pupil_id, title, kind, target, &caller.user_id, now)
    {
        Ok(r) => r,
        Err(e) => return Ok(reject(RejectCode::Invalid, e.reason())),
    };
    if let Err(denied) = goals::may_manage(facts, &caller.user_id, pupil_id) {
        return Ok(reject(RejectCode::Forbidden, denied.to_string()));
    }
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM goals WHERE id = $1")
        .bind(goal_id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        return Ok(reject(RejectCode::Invalid, "a goal with this id exists"));
    }
    save(tx, &caller.school_id, &record, now, true).await?;
    Ok(WriteOutcome::Accepted)
}

/// Loads a goal of the caller's school, or the refusal to give: a goal the caller may not read
/// is "not found", so its existence (and title) never leaks.
async fn load(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    goal_id: &Uuid,
) -> Result<Result<GoalRecord, WriteOutcome>, ServerError> {
    let row: Option<String> =
        sqlx::query_scalar("SELECT record FROM goals WHERE id = $1 AND school_id = $2")
            .bind(goal_id.to_string())
            .bind(&caller.school_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(record) = row else {
        return Ok(Err(reject(RejectCode::NotFound, "no such goal")));
    };
    let goal: GoalRecord = serde_json::from_str(&record).map_err(internal("stored goal"))?;
    if goals::may_read(facts, &caller.user_id, &goal.pupil_id).is_err() {
        return Ok(Err(reject(RejectCode::NotFound, "no such goal")));
    }
    if let Err(denied) = goals::may_manage(facts, &caller.user_id, &goal.pupil_id) {
        return Ok(Err(reject(RejectCode::Forbidden, denied.to_string())));
    }
    Ok(Ok(goal))
}

async fn edit_goal(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    goal_id: &Uuid,
    edit: &GoalEdit<'_>,
) -> Result<WriteOutcome, ServerError> {
    let mut goal = match load(tx, caller, facts, goal_id).await? {
        Ok(g) => g,
        Err(refused) => return Ok(refused),
    };
    let before = goal.clone();
    if let Err(e) = goal.apply(edit) {
        return Ok(reject(RejectCode::Invalid, e.reason()));
    }
    if goal != before {
        save(tx, &caller.school_id, &goal, Utc::now(), false).await?;
    }
    Ok(WriteOutcome::Accepted)
}

/// Links a skill of the pupil's class, or a live item of the pupil's own portfolio.
async fn link_goal(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    goal_id: &Uuid,
    link: &GoalLink,
) -> Result<WriteOutcome, ServerError> {
    let goal = match load(tx, caller, facts, goal_id).await? {
        Ok(g) => g,
        Err(refused) => return Ok(refused),
    };
    let posted_at = match link {
        GoalLink::Skill { skill_id } => {
            let class: Option<String> =
                sqlx::query_scalar("SELECT class_id FROM skills WHERE id = $1")
                    .bind(skill_id)
                    .fetch_optional(&mut **tx)
                    .await?;
            let pupil_class = facts
                .pupils
                .get(&goal.pupil_id)
                .and_then(|p| p.class_id.clone());
            match class {
                None => return Ok(reject(RejectCode::NotFound, format!("no skill {skill_id}"))),
                Some(c) if Some(&c) != pupil_class.as_ref() => {
                    return Ok(reject(
                        RejectCode::Invalid,
                        "the skill belongs to another class than the pupil's",
                    ))
                }
                Some(_) => Utc::now(),
            }
        }
        GoalLink::PortfolioItem { post_id } => {
            let post = match crate::social::readable_post(tx, caller, facts, post_id).await? {
                Ok(p) => p,
                Err(_) => return Ok(reject(RejectCode::NotFound, "no such portfolio item")),
            };
            let own = Audience::Portfolio {
                pupil_id: goal.pupil_id.clone(),
            };
            if post.audience != own {
                return Ok(reject(
                    RejectCode::Invalid,
                    "only an item of the pupil's own portfolio counts towards their goal",
                ));
            }
            DateTime::parse_from_rfc3339(&post.posted_at)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| ServerError::Internal(format!("time in database: {e}")))?
        }
    };
    edit_goal(
        tx,
        caller,
        facts,
        goal_id,
        &GoalEdit::Link { link, posted_at },
    )
    .await
}

/// Stores the goal and logs its new record, dropping its older log entries.
async fn save(
    tx: &mut DbTx<'_>,
    school_id: &str,
    goal: &GoalRecord,
    now: DateTime<Utc>,
    new: bool,
) -> Result<(), ServerError> {
    let id = goal.id.to_string();
    let record = serde_json::to_string(goal).map_err(internal("goal"))?;
    let at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let sql = if new {
        "INSERT INTO goals (id, school_id, pupil_id, record, updated_at) VALUES ($1, $2, $3, $4, $5)"
    } else {
        "UPDATE goals SET record = $4, updated_at = $5 WHERE id = $1 AND school_id = $2 AND pupil_id = $3"
    };
    sqlx::query(sql)
        .bind(&id)
        .bind(school_id)
        .bind(&goal.pupil_id)
        .bind(&record)
        .bind(&at)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM changes WHERE school_id = $1 AND goal_id = $2")
        .bind(school_id)
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    let payload = serde_json::to_string(&Change::Goal(goal.clone())).map_err(internal("change"))?;
    sqlx::query(
        "INSERT INTO changes (school_id, kind, pupil_id, goal_id, payload) VALUES ($1, 'goal', $2, $3, $4)",
    )
    .bind(school_id)
    .bind(&goal.pupil_id)
    .bind(&id)
    .bind(payload)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every goal of `pupil_id`, archived ones too, oldest first (reports, REQ-PRV-4 export).
pub async fn of_pupil(
    conn: &mut sqlx::AnyConnection,
    school_id: &str,
    pupil_id: &str,
) -> Result<Vec<GoalRecord>, ServerError> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT record FROM goals WHERE school_id = $1 AND pupil_id = $2 ORDER BY id",
    )
    .bind(school_id)
    .bind(pupil_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = rows
        .iter()
        .map(|r| serde_json::from_str::<GoalRecord>(r).map_err(internal("stored goal")))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// Of the portfolio posts `goals` link, those that still stand: not withdrawn (REQ-CON-4) and
/// not erased (REQ-PRV-4). Only these count towards progress (REQ-PTS-8).
pub async fn standing_items(
    conn: &mut sqlx::AnyConnection,
    school_id: &str,
    goals: &[GoalRecord],
) -> Result<BTreeSet<Uuid>, ServerError> {
    let linked: Vec<Uuid> = goals::linked_items(goals).into_iter().collect();
    let mut standing = BTreeSet::new();
    for chunk in linked.chunks(ITEMS_PER_QUERY) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT id FROM posts WHERE school_id = $1 AND withdrawn = 0 AND id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).bind(school_id);
        for id in chunk {
            q = q.bind(id.to_string());
        }
        for id in q.fetch_all(&mut *conn).await? {
            let id = id
                .parse()
                .map_err(|e| ServerError::Internal(format!("post id in database: {e}")))?;
            standing.insert(id);
        }
    }
    Ok(standing)
}

/// Linked posts asked about per query (well under either database's bind limit).
const ITEMS_PER_QUERY: usize = 500;

/// Erases a pupil's goals (REQ-PRV-4); their log entries go with the pupil's. Returns how many.
pub async fn erase(tx: &mut DbTx<'_>, school_id: &str, pupil_id: &str) -> Result<u64, ServerError> {
    Ok(
        sqlx::query("DELETE FROM goals WHERE school_id = $1 AND pupil_id = $2")
            .bind(school_id)
            .bind(pupil_id)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
    )
}
