//! Runs the shared planner for each recipient of an event and records its decision: deliver now,
//! hold until, or fold into a digest (REQ-NOT-2..5).

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use homeroom_protocol::access::SchoolFacts;
use homeroom_protocol::messaging::{person_uuid, NotifySettings, PersonHours};
use homeroom_protocol::notify::{
    parse_time_zone, plan, Decision, NotifyEvent, PlannedNotification, Recipient, Tz, WorkingHours,
};
use sqlx::Row;

use crate::db::{Db, DbTx};
use crate::error::ServerError;

/// An RFC 3339 UTC text with milliseconds: the one timestamp format stored.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The school's own time zone (defaults of its people are read in it).
pub async fn school_time_zone(db: &Db, school_id: &str) -> Result<Tz, ServerError> {
    let row = sqlx::query("SELECT time_zone FROM schools WHERE id = $1")
        .bind(school_id)
        .fetch_one(db)
        .await?;
    let name: String = row.try_get("time_zone")?;
    parse_time_zone(&name).map_err(|e| ServerError::Internal(format!("school time zone: {e}")))
}

/// The school's working hours as its admin set them, or Mon–Fri 08:00–17:00 (REQ-NOT-1).
pub async fn school_working_hours(db: &Db, school_id: &str) -> Result<WorkingHours, ServerError> {
    let row = sqlx::query("SELECT working_hours FROM schools WHERE id = $1")
        .bind(school_id)
        .fetch_one(db)
        .await?;
    match row.try_get::<Option<String>, _>("working_hours")? {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| ServerError::Internal(format!("stored working hours: {e}"))),
        None => Ok(WorkingHours::default()),
    }
}

/// Each named person's settings: what they saved, or the defaults of REQ-NOT-1 / NOT-3 in the
/// school's zone — staff who set nothing are quiet whenever the school is closed.
pub async fn settings_for(
    db: &Db,
    facts: &SchoolFacts,
    school_id: &str,
    user_ids: &[String],
) -> Result<HashMap<String, NotifySettings>, ServerError> {
    let school_tz = school_time_zone(db, school_id).await?;
    let working = school_working_hours(db, school_id).await?;
    let mut out = HashMap::new();
    for id in user_ids {
        let row = sqlx::query("SELECT settings FROM notify_settings WHERE user_id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
        let stored = match row {
            Some(r) => {
                let text: String = r.try_get("settings")?;
                Some(
                    serde_json::from_str::<NotifySettings>(&text)
                        .map_err(|e| ServerError::Internal(format!("stored settings: {e}")))?,
                )
            }
            None => None,
        };
        let settings = stored.unwrap_or_else(|| {
            let is_staff = facts.users.get(id).is_some_and(|u| u.role.is_staff());
            NotifySettings {
                hours: PersonHours::default_in(&working, is_staff, school_tz),
                lock_screen: Default::default(),
            }
        });
        out.insert(id.clone(), settings);
    }
    Ok(out)
}

/// Plans `event` for each recipient at `now` and records the plans in the write transaction.
#[tracing::instrument(skip_all, fields(event = %event.id, recipients = recipients.len()))]
pub async fn plan_event(
    db: &Db,
    tx: &mut DbTx<'_>,
    facts: &SchoolFacts,
    school_id: &str,
    event: &NotifyEvent,
    recipients: &[String],
    now: DateTime<Utc>,
) -> Result<(), ServerError> {
    let settings = settings_for(db, facts, school_id, recipients).await?;
    for user_id in recipients {
        let Some(s) = settings.get(user_id) else {
            continue;
        };
        let schedule = s
            .hours
            .schedule()
            .map_err(|e| ServerError::Internal(format!("hours of {user_id}: {e}")))?;
        let recipient = Recipient {
            id: person_uuid(user_id),
            schedule,
            lock_screen: s.lock_screen,
        };
        let planned = plan(event, &recipient, now)
            .map_err(|e| ServerError::Internal(format!("planning: {e}")))?;
        let decision = match planned.decision {
            Decision::DeliverNow { .. } => "deliver_now",
            Decision::HoldUntil { .. } => "hold_until",
            Decision::Digest { .. } => "digest",
        };
        let json =
            serde_json::to_string(&planned).map_err(|e| ServerError::Internal(e.to_string()))?;
        sqlx::query(
            "INSERT INTO push_plans (school_id, recipient_id, event_id, deliver_at, decision, plan)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(school_id)
        .bind(user_id)
        .bind(event.id.to_string())
        .bind(stamp(planned.decision.shown_at(now)))
        .bind(decision)
        .bind(json)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Re-plans every notification still held for the school's people (or for `only` one person)
/// after hours changed: each now goes out at the first instant the new hours allow, so a
/// change of working hours or quiet hours moves what is already waiting (REQ-NOT-1, NOT-3).
/// Returns how many plans moved.
#[tracing::instrument(skip_all)]
pub async fn replan_held(
    db: &Db,
    facts: &SchoolFacts,
    school_id: &str,
    only: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64, ServerError> {
    let rows = sqlx::query(
        "SELECT id, recipient_id, deliver_at, plan FROM push_plans
         WHERE school_id = $1 AND sent_at IS NULL AND decision <> 'deliver_now' ORDER BY id",
    )
    .bind(school_id)
    .fetch_all(db)
    .await?;
    let mut held = Vec::new();
    for row in rows {
        let recipient: String = row.try_get("recipient_id")?;
        if only.is_some_and(|o| o != recipient) {
            continue;
        }
        let plan: PlannedNotification = serde_json::from_str(row.try_get::<&str, _>("plan")?)
            .map_err(|e| ServerError::Internal(format!("stored plan: {e}")))?;
        let old: String = row.try_get("deliver_at")?;
        held.push((row.try_get::<i64, _>("id")?, recipient, old, plan));
    }
    let mut people: Vec<String> = held.iter().map(|(_, r, _, _)| r.clone()).collect();
    people.sort();
    people.dedup();
    let settings = settings_for(db, facts, school_id, &people).await?;
    let mut tx = crate::db::write_tx(db).await?;
    let mut moved = 0;
    for (id, recipient, old, mut plan) in held {
        let Some(s) = settings.get(&recipient) else {
            continue;
        };
        let at = s
            .hours
            .schedule()
            .and_then(|sch| sch.next_allowed(now))
            .map_err(|e| ServerError::Internal(format!("hours of {recipient}: {e}")))?;
        plan.decision = match plan.decision {
            Decision::HoldUntil { .. } => Decision::HoldUntil { at },
            Decision::Digest { key, .. } => Decision::Digest { at, key },
            now_decision @ Decision::DeliverNow { .. } => now_decision,
        };
        if stamp(at) == old {
            continue;
        }
        let json =
            serde_json::to_string(&plan).map_err(|e| ServerError::Internal(e.to_string()))?;
        sqlx::query("UPDATE push_plans SET deliver_at = $1, plan = $2 WHERE id = $3")
            .bind(stamp(at))
            .bind(json)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        moved += 1;
    }
    tx.commit().await?;
    Ok(moved)
}
