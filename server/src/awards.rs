//! Award writes (REQ-PTS-2): checked against the rules without touching the database, then
//! stored in bulk, so a group commit of many award pushes costs a few statements, not a few
//! per award.

use chrono::Utc;
use homeroom_protocol::access::{can, Action, SchoolFacts, Target};
use homeroom_protocol::wire::{
    validate_award, AwardRecord, AwardTarget, Change, RejectCode, WriteOutcome,
};
use sqlx::Row;

use crate::auth::Caller;
use crate::db::DbTx;
use crate::error::ServerError;

/// Rows per multi-row INSERT: well inside both backends' limits on bound parameters.
const ROWS_PER_STATEMENT: usize = 100;

/// What one group commit has already looked up, so a batch of pushes asks the database once.
///
/// Valid only inside one writer transaction: it holds the write lock, and no write op changes
/// skills, so nothing cached here can change under it.
#[derive(Default)]
pub struct BatchCache {
    /// Skill id → (class id, points), or `None` when there is no such skill.
    skills: std::collections::HashMap<String, Option<(String, i64)>>,
}

impl BatchCache {
    async fn skill(
        &mut self,
        tx: &mut DbTx<'_>,
        skill_id: &str,
    ) -> Result<Option<(String, i64)>, ServerError> {
        if let Some(known) = self.skills.get(skill_id) {
            return Ok(known.clone());
        }
        let row = sqlx::query("SELECT class_id, weight FROM skills WHERE id = $1")
            .bind(skill_id)
            .fetch_optional(&mut **tx)
            .await?;
        let found = match row {
            Some(row) => Some((row.try_get("class_id")?, row.try_get("weight")?)),
            None => None,
        };
        self.skills.insert(skill_id.to_owned(), found.clone());
        Ok(found)
    }
}

/// The award rows one write would store if the shared rules allow every one of them, or the
/// refusal. Reads nothing but the (cached) skill.
pub async fn plan(
    tx: &mut DbTx<'_>,
    caller: &Caller,
    facts: &SchoolFacts,
    cache: &mut BatchCache,
    awards: &[AwardTarget],
    skill_id: &str,
    note: Option<&str>,
) -> Result<Result<Vec<AwardRecord>, WriteOutcome>, ServerError> {
    if let Err((field, why)) = validate_award(awards, note) {
        return Ok(Err(reject(RejectCode::Invalid, format!("{field}: {why}"))));
    }
    for a in awards {
        if let Err(denied) = can(
            facts,
            Some(&caller.user_id),
            Action::AwardPoints,
            &Target::Pupil(&a.pupil_id),
        ) {
            return Ok(Err(reject(RejectCode::Forbidden, denied.to_string())));
        }
    }
    let Some((skill_class, points)) = cache.skill(tx, skill_id).await? else {
        return Ok(Err(reject(
            RejectCode::NotFound,
            format!("no skill {skill_id}"),
        )));
    };
    for a in awards {
        let in_class = facts
            .pupils
            .get(&a.pupil_id)
            .and_then(|p| p.class_id.as_deref())
            == Some(skill_class.as_str());
        if !in_class {
            return Ok(Err(reject(
                RejectCode::Invalid,
                "the skill belongs to another class than the pupil's",
            )));
        }
    }
    // The server's clock orders the log; the device's clock is only shown.
    let awarded_at = Utc::now();
    Ok(Ok(awards
        .iter()
        .map(|a| AwardRecord {
            id: a.award_id,
            pupil_id: a.pupil_id.clone(),
            class_id: skill_class.clone(),
            skill_id: skill_id.to_owned(),
            points: points as i32,
            note: note.map(str::to_owned),
            awarded_by: caller.user_id.clone(),
            awarded_at,
        })
        .collect()))
}

/// Stores one write's awards (checked by [`plan`]) and their change-log entries. A refusal
/// when an id is taken; the writer rolls back whatever of the write was stored.
pub async fn store_one(
    tx: &mut DbTx<'_>,
    school_id: &str,
    records: &[AwardRecord],
) -> Result<WriteOutcome, ServerError> {
    let rows: Vec<(&str, &AwardRecord)> = records.iter().map(|r| (school_id, r)).collect();
    if store(tx, &rows).await? {
        Ok(WriteOutcome::Accepted)
    } else {
        Ok(reject(
            RejectCode::Invalid,
            "an award with this id already exists",
        ))
    }
}

/// Stores awards of any number of writes, in order, with one change-log entry each, in a few
/// multi-row statements. False when some id was already taken (then nothing must be kept:
/// the caller rolls back).
pub async fn store(tx: &mut DbTx<'_>, rows: &[(&str, &AwardRecord)]) -> Result<bool, ServerError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let marks = placeholders(chunk.len(), 9);
        // Audited: the only dynamic part is the list of numbered placeholders.
        let sql = format!(
            "INSERT INTO awards (id, school_id, pupil_id, class_id, skill_id, points, note, awarded_by, awarded_at)
             VALUES {marks} ON CONFLICT (id) DO NOTHING"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (school_id, r) in chunk {
            query = query
                .bind(r.id.to_string())
                .bind(*school_id)
                .bind(&r.pupil_id)
                .bind(&r.class_id)
                .bind(&r.skill_id)
                .bind(i64::from(r.points))
                .bind(&r.note)
                .bind(&r.awarded_by)
                .bind(r.awarded_at.to_rfc3339());
        }
        // An id already taken inserts nothing, which saves a lookup per award.
        let inserted = query.execute(&mut **tx).await?.rows_affected();
        if inserted != chunk.len() as u64 {
            return Ok(false);
        }
        let marks = placeholders(chunk.len(), 4);
        let sql =
            format!("INSERT INTO changes (school_id, kind, pupil_id, payload) VALUES {marks}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (school_id, r) in chunk {
            let payload = serde_json::to_string(&Change::Award((*r).clone()))
                .map_err(|e| ServerError::Internal(e.to_string()))?;
            query = query
                .bind(*school_id)
                .bind("award")
                .bind(&r.pupil_id)
                .bind(payload);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(true)
}

/// `($1, $2, …), (…)`: `rows` groups of `per_row` numbered placeholders.
pub(crate) fn placeholders(rows: usize, per_row: usize) -> String {
    (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=per_row)
                .map(|c| format!("${}", r * per_row + c))
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn reject(code: RejectCode, reason: impl Into<String>) -> WriteOutcome {
    WriteOutcome::Rejected {
        code,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_row_in_order() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(1, 1), "($1)");
    }
}
